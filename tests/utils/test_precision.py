"""The precision policy, with the hardware's bf16 capability faked both ways (no test needs native bf16)."""
from __future__ import annotations

import pytest
import torch

from utils import precision
from utils.precision import choose_precision


@pytest.fixture(params=[True, False], ids=["native_bf16", "no_bf16"])
def cpu_bf16(request, monkeypatch) -> bool:
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: request.param)
    return request.param


def test_without_amp_every_device_is_fp32(cpu_bf16):
    for device in ("cpu", "cuda", "mps"):
        chosen = choose_precision(device, amp=False)
        assert chosen.name == "fp32" and chosen.dtype is None and chosen.device_type == device.split(":")[0]
        assert not chosen.grad_scaler().is_enabled()


def test_cpu_amp_is_bf16_only_where_native(cpu_bf16):
    chosen = choose_precision("cpu", amp=True)
    assert chosen.name == ("bf16" if cpu_bf16 else "fp32")
    assert ("no native bf16" in chosen.reason) != cpu_bf16
    assert not chosen.grad_scaler().is_enabled()


def test_cuda_amp_follows_the_gpu(monkeypatch):
    monkeypatch.setattr(precision, "cuda_has_bf16", lambda device: True)
    assert choose_precision("cuda:1", amp=True).name == "bf16"
    monkeypatch.setattr(precision, "cuda_has_bf16", lambda device: False)
    chosen = choose_precision("cuda", amp=True)
    assert chosen.name == "fp16" and "gradient scaler" in chosen.reason


def test_forced_dtype_wins_and_says_when_it_is_emulated(cpu_bf16):
    forced = choose_precision("cpu", amp=True, amp_dtype="bf16")
    assert forced.name == "bf16" and forced.dtype is torch.bfloat16
    assert ("emulated" in forced.reason) != cpu_bf16
    assert choose_precision("cpu", amp=True, amp_dtype="fp32").name == "fp32"
    assert choose_precision("cuda", amp=True, amp_dtype="fp16").dtype is torch.float16
    with pytest.raises(ValueError, match="amp_dtype"):
        choose_precision("cpu", amp=True, amp_dtype="int8")


def test_autocast_context_uses_the_chosen_dtype(cpu_bf16):
    layer = torch.nn.Linear(4, 4)
    with choose_precision("cpu", amp=True, amp_dtype="bf16").autocast():
        assert layer(torch.ones(1, 4)).dtype is torch.bfloat16
    with choose_precision("cpu", amp=True).autocast():
        assert layer(torch.ones(1, 4)).dtype is (torch.bfloat16 if cpu_bf16 else torch.float32)


def test_fp16_gets_a_gradient_scaler():
    assert choose_precision("cpu", amp=True, amp_dtype="fp16").grad_scaler().is_enabled()


def test_the_real_capability_check_answers_a_bool():
    assert isinstance(precision.cpu_has_native_bf16(), bool)
