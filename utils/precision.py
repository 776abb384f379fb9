"""Mixed precision: bf16 autocast on CPU, fp16 autocast with a gradient scaler on CUDA."""
from __future__ import annotations

import contextlib

import torch


def autocast(device: torch.device, enabled: bool):
    """Context manager for the forward pass under `--amp` (a no-op when disabled)."""
    if not enabled:
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, enabled: bool) -> torch.amp.GradScaler:
    """A gradient scaler that is active only for fp16 (CUDA); bf16 needs none."""
    return torch.amp.GradScaler(device.type, enabled=enabled and device.type == "cuda")
