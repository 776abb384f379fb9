"""`--compile`: torch.compile a network, with a clear error where it cannot work on this machine."""
from __future__ import annotations

import os
import shutil

import torch
from torch import nn

from utils.errors import InputError


def compile_problem(device: torch.device) -> str | None:
    """Why torch.compile cannot run here, or None when it can."""
    if not torch._dynamo.is_dynamo_supported():
        return "torch.compile does not support this Python version"
    if device.type == "cpu":
        compilers = [os.environ.get("CXX"), "g++", "c++", "clang++"]
        if not any(shutil.which(name) for name in compilers if name):
            return ("torch.compile on CPU needs a C++ compiler (g++ or clang++; set $CXX to use another), and none "
                    "was found on PATH")
    return None


def compile_model(model: nn.Module, device: torch.device) -> nn.Module:
    """torch.compile(model); an `InputError` naming the reason where it cannot work."""
    problem = compile_problem(device)
    if problem:
        raise InputError(f"--compile: {problem}; run without --compile")
    return torch.compile(model)
