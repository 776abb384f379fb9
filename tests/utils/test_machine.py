from utils.machine import cpu_model_and_flags, machine_info

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx avx2 fma
processor\t: 1
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx avx2 fma
"""


def test_model_and_the_flags_that_decide_precision():
    assert cpu_model_and_flags(CPUINFO) == ("AMD EPYC 7B13", ["avx2"])
    bf16 = CPUINFO.replace("fma", "fma avx512f avx512_bf16 amx_bf16 amx_tile")
    assert cpu_model_and_flags(bf16)[1] == ["avx2", "avx512f", "avx512_bf16", "amx_bf16"]


def test_machine_info_is_json_ready():
    info = machine_info()
    assert set(info) == {"cpu", "cpu_flags", "native_bf16", "torch", "threads"}
    assert isinstance(info["native_bf16"], bool) and info["threads"] >= 1
