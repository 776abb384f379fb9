"""The prior's networks are small MLPs: one intra-op thread runs them fastest, and on a shared 2-core machine extra
threads only wait on each other (a 10 s test took minutes with 2 threads under load). Restored after each module."""
import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
