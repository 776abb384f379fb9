import pytest
import torch

from utils import compiling
from utils.errors import InputError


def test_no_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(compiling.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="--compile: torch.compile on CPU needs a C\\+\\+ compiler"):
        compiling.compile_model(torch.nn.Linear(2, 2), torch.device("cpu"))


def test_a_compiler_on_path_is_enough(monkeypatch):
    monkeypatch.setattr(compiling.shutil, "which", lambda name: "/usr/bin/g++" if name == "g++" else None)
    assert compiling.compile_problem(torch.device("cpu")) is None


@pytest.mark.slow
def test_compiled_model_matches_eager():
    if compiling.compile_problem(torch.device("cpu")):
        pytest.skip(compiling.compile_problem(torch.device("cpu")))
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    inputs = torch.randn(3, 4)
    torch.testing.assert_close(compiling.compile_model(model, torch.device("cpu"))(inputs), model(inputs))
