import pytest
import torch
from torch import nn

from generative_models.fc_gan import (ADVERSARY, PLAUSIBILITY, Critic, GanConfig, Generator, gradient_penalty,
                                      pose_features)
from generative_models.pose_representation import bone_lengths


def linear_critic(weights: list[float]) -> nn.Module:
    layer = nn.Linear(len(weights), 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([weights]))
        layer.bias.fill_(0.7)
    return layer


def test_gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared():
    # d(w.x + b)/dx = w everywhere, so the penalty is lambda * (||w|| - 1)^2 whatever the samples
    critic = linear_critic([3.0, 4.0])  # ||w|| = 5
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert torch.isclose(gradient_penalty(critic, real, fake, weight=10.0), torch.tensor(160.0))
    assert torch.isclose(gradient_penalty(critic, real, fake, weight=2.0), torch.tensor(32.0))
    unit = linear_critic([0.6, 0.8])
    assert torch.isclose(gradient_penalty(unit, real, fake), torch.tensor(0.0), atol=1e-6)


def test_gradient_penalty_uses_the_interpolates():
    # critic x^2 (1-D): gradient 2 x_hat; real 1, fake 0, mix 0.25 -> x_hat 0.25, gradient 0.5, penalty (0.5 - 1)^2
    critic = lambda x: (x ** 2).sum(dim=1)  # noqa: E731
    penalty = gradient_penalty(critic, torch.ones(1, 1), torch.zeros(1, 1), weight=1.0, mix=torch.tensor([0.25]))
    assert torch.isclose(penalty, torch.tensor(0.25))


def test_gradient_penalty_reaches_the_critic_weights():
    critic = linear_critic([3.0, 4.0])
    gradient_penalty(critic, torch.randn(4, 2), torch.randn(4, 2)).backward()
    # d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w|| = 16 w
    assert torch.allclose(critic.weight.grad, 16 * torch.tensor([[3.0, 4.0]]))


@pytest.mark.parametrize("bone_features", [True, False])
@pytest.mark.parametrize("critic_norm", ["none", "layer"])
def test_players_forward_and_backward(bone_features, critic_norm):
    config = GanConfig(noise_dim=8, generator_width=32, generator_blocks=1, critic_width=32, critic_blocks=2,
                       critic_norm=critic_norm, bone_features=bone_features)
    generator, critic = Generator(config), Critic(config)
    poses = generator(torch.randn(5, 8))  # (5, 17, 3)
    assert poses.shape == (5, 17, 3)
    assert torch.allclose(poses[:, 0], torch.zeros(5, 3), atol=1e-6)
    assert torch.allclose(bone_lengths(poses).mean(-1), torch.ones(5), atol=1e-4)
    features = critic.features(poses)
    assert features.shape == (5, config.num_features) == (5, 48 + (64 if bone_features else 0))
    scores = critic(poses)
    assert scores.shape == (5,) and critic.heads(features).shape == (5, 2)
    assert torch.equal(scores, critic.heads(features)[:, PLAUSIBILITY])
    assert torch.equal(critic.adversary(poses), critic.heads(features)[:, ADVERSARY])
    plausibility = lambda x: critic.heads(x)[:, PLAUSIBILITY]  # noqa: E731
    (scores.mean() + gradient_penalty(plausibility, features, critic.features(poses.detach().flip(0)))).backward()
    for model in (generator, critic):
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_bone_features_hold_log_lengths():
    poses = Generator(GanConfig(noise_dim=4, generator_width=16, generator_blocks=1))(torch.randn(2, 4)).detach()
    features = pose_features(poses, bone_features=True, length_weight=5.0)
    assert torch.allclose(features[:, -16:], 5.0 * torch.log(bone_lengths(poses)), atol=1e-4)


def test_config_refuses_batch_norm_in_the_critic():
    with pytest.raises(ValueError, match="no batch norm"):
        GanConfig(critic_norm="batch")
