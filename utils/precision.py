"""The precision policy of every command: what `--amp` means on this device, decided in one place.

`--amp` asks for mixed precision where the device runs it natively:
  CUDA   bf16 autocast where the GPU supports bf16, else fp16 autocast with a gradient scaler;
  CPU    bf16 autocast only where the CPU has native bf16 instructions (AVX-512 BF16 or AMX). Elsewhere PyTorch
         emulates bf16, and a convolution's forward + backward runs about 50x slower than in fp32, so fp32 is used;
  other  fp32.
`--amp_dtype bf16|fp16` forces a dtype (with a note where it is emulated); `--amp_dtype fp32` turns autocast off.
The choice and its reason are logged at the start of every run and stored in checkpoints (`options['precision']`).
"""
from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import torch

AMP_DTYPES = ("auto", "bf16", "fp16", "fp32")
_TORCH_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


@functools.lru_cache(maxsize=None)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (oneDNN's own test: AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cuda_has_bf16(device: torch.device) -> bool:
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


@dataclass(frozen=True)
class Precision:
    """The precision a run computes in: `name` 'fp32' | 'bf16' | 'fp16', on `device_type`, and why."""

    name: str
    device_type: str
    reason: str

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, None for plain fp32."""
        return _TORCH_DTYPES[self.name]

    def autocast(self):
        """Context manager for forward passes (a no-op in fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A gradient scaler, active only for fp16 (bf16 has fp32's range and needs none)."""
        return torch.amp.GradScaler(self.device_type, enabled=self.name == "fp16")

    def describe(self) -> str:
        return f"precision {self.name} on {self.device_type} ({self.reason})"


def choose_precision(device: torch.device | str, amp: bool, amp_dtype: str = "auto") -> Precision:
    """The policy above. `device`: the torch device of the run; `amp`: --amp; `amp_dtype`: --amp_dtype."""
    device = torch.device(device)
    kind = device.type
    if amp_dtype not in AMP_DTYPES:
        raise ValueError(f"amp_dtype must be one of {AMP_DTYPES}, got {amp_dtype!r}")
    if not amp:
        return Precision("fp32", kind, "--amp not given")
    if amp_dtype == "fp32":
        return Precision("fp32", kind, "--amp_dtype fp32")
    if amp_dtype != "auto":
        emulated = kind == "cpu" and amp_dtype == "bf16" and not cpu_has_native_bf16()
        note = "; this CPU has no native bf16, so it is emulated and much slower than fp32" if emulated else ""
        return Precision(amp_dtype, kind, f"--amp_dtype {amp_dtype}{note}")
    if kind == "cuda":
        if cuda_has_bf16(device):
            return Precision("bf16", kind, "--amp: this GPU supports bf16")
        return Precision("fp16", kind, "--amp: this GPU has no bf16; fp16 with a gradient scaler")
    if kind == "cpu":
        if cpu_has_native_bf16():
            return Precision("bf16", kind, "--amp: this CPU has native bf16 (AVX-512 BF16 / AMX)")
        return Precision("fp32", kind, "--amp: this CPU has no native bf16 (AVX-512 BF16 / AMX), where bf16 "
                                       "autocast is emulated and about 50x slower; fp32 instead")
    return Precision("fp32", kind, f"--amp: no mixed precision policy for '{kind}' devices; fp32")
