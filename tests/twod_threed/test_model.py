import pytest
import torch

from twod_threed.model import Lifter, LifterConfig, count_parameters


def test_parameter_count_of_the_published_model():
    # Linear(32->1024) + BN(1024) + 2 blocks x 2 x (Linear(1024->1024) + BN(1024)) + Linear(1024->48)
    stem = (32 * 1024 + 1024) + 2 * 1024
    block = 2 * ((1024 * 1024 + 1024) + 2 * 1024)
    head = 1024 * 48 + 48
    expected = stem + 2 * block + head
    assert expected == 4_291_632
    assert count_parameters(Lifter(LifterConfig())) == expected


@pytest.mark.parametrize("config", [
    LifterConfig(linear_size=32),
    LifterConfig(linear_size=16, num_stage=0),
    LifterConfig(linear_size=16, num_stage=3),
    LifterConfig(linear_size=16, dropout=0.0),
    LifterConfig(linear_size=16, max_norm=0.0),
    LifterConfig(linear_size=16, max_norm=0.5, dropout=0.2, num_stage=1),
])
def test_forward_backward_every_option(config):
    model = Lifter(config)
    inputs = torch.randn(5, 32)
    output = model(inputs)
    assert output.shape == (5, 48)
    output.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    assert model(inputs[:1]).shape == (1, 48)


def _row_norms(model):
    return [m.weight.norm(dim=1) for m in model.modules() if isinstance(m, torch.nn.Linear)]


def test_max_norm_constrains_every_linear_layer_after_a_step():
    torch.manual_seed(0)
    constrained = Lifter(LifterConfig(linear_size=32, max_norm=0.3))
    free = Lifter(LifterConfig(linear_size=32, max_norm=0))
    free.load_state_dict(constrained.state_dict())
    for model in (constrained, free):
        optimizer = torch.optim.SGD(model.parameters(), lr=10.0)
        for _ in range(3):
            optimizer.zero_grad()
            (model(torch.randn(8, 32)) - 100).square().mean().backward()
            optimizer.step()
            model.apply_max_norm()
    assert all((norms <= 0.3 + 1e-5).all() for norms in _row_norms(constrained))
    assert any((norms > 0.3 + 1e-3).any() for norms in _row_norms(free))  # the constraint is what keeps them small
    # Rows already inside the ball are left unchanged.
    small = Lifter(LifterConfig(linear_size=8, max_norm=100.0))
    before = [w.clone() for w in _row_norms(small)]
    small.apply_max_norm()
    assert all(torch.allclose(a, b) for a, b in zip(before, _row_norms(small)))
