"""What machine a figure was measured on: CPU model, the instruction sets that decide precision, torch, threads."""
from __future__ import annotations

import platform
import time
from pathlib import Path

import torch

from utils.precision import cpu_has_native_bf16

FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_model_and_flags(cpuinfo: str | None = None) -> tuple[str, list[str]]:
    """(model name, those of FLAGS the CPU has), from /proc/cpuinfo where it exists (else platform's name)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.is_file() else ""
    model, flags = platform.processor() or platform.machine(), set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            break
    return model, [flag for flag in FLAGS if flag in flags]


def machine_info() -> dict:
    """A JSON-ready description of this machine for benchmark lines and the demo's report."""
    model, flags = cpu_model_and_flags()
    return {"cpu": model, "cpu_flags": flags, "native_bf16": cpu_has_native_bf16(), "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def describe_machine() -> str:
    info = machine_info()
    return (f"{info['cpu']} ({', '.join(info['cpu_flags']) or 'no AVX2'}; native bf16: "
            f"{'yes' if info['native_bf16'] else 'no'}), torch {info['torch']}, {info['threads']} thread(s)")


def matmul_gflops(size: int = 2048, dtype: torch.dtype = torch.float32, repeats: int = 3) -> float:
    """This machine's rate for a (size x size) @ (size x size) product, GFLOP/s: the reference that benchmark
    ratios are taken against (the AVX2 reference CPU does about 87 at 2048 fp32 on 2 threads, 51 on one)."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return repeats * 2 * size**3 / (time.perf_counter() - started) / 1e9
