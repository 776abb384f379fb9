"""The recogniser: padding never changes a clip's scores, PCA features, forward/backward of every configuration."""
import numpy as np
import pytest
import torch

from action.clips import cut_clips, sequence_set
from action.model import ActionConfig, ActionRecognizer

CONFIGS = [ActionConfig(input_dim=6, num_classes=4, temporal="lstm", hidden_size=8, num_layers=2, dropout=0.1),
           ActionConfig(input_dim=6, num_classes=4, temporal="tcn", hidden_size=8, num_layers=3, dropout=0.1),
           ActionConfig(input_dim=6, num_classes=4, temporal="lstm", hidden_size=8, num_layers=1, pca_components=3)]


@pytest.mark.parametrize("config", CONFIGS, ids=["lstm", "tcn", "lstm_pca"])
def test_a_clip_alone_scores_the_same_as_padded_in_a_batch(config):
    torch.manual_seed(0)
    model = ActionRecognizer(config).eval()
    model.set_statistics(torch.randn(50, 6) * 3 + 1)
    short, long = torch.randn(1, 5, 6), torch.randn(1, 11, 6)
    alone = model(short, torch.tensor([5]))
    padded = torch.cat([torch.cat([short, torch.full((1, 6, 6), 1e3)], 1), long])  # garbage after the end
    batch = model(padded, torch.tensor([5, 11]))
    torch.testing.assert_close(batch[0:1], alone, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(batch[1:2], model(long, torch.tensor([11])), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("config", CONFIGS, ids=["lstm", "tcn", "lstm_pca"])
def test_forward_backward(config):
    model = ActionRecognizer(config).train()
    logits = model(torch.randn(3, 7, 6), torch.tensor([7, 2, 4]))
    assert logits.shape == (3, 4)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 3])).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_statistics_standardise_and_pca_keeps_the_main_axes():
    torch.manual_seed(1)
    frames = torch.randn(400, 6) * torch.tensor([1.0, 2, 3, 4, 5, 6]) + 10
    frames[:, 1] = frames[:, 0] * 2  # a redundant feature
    model = ActionRecognizer(ActionConfig(input_dim=6, num_classes=4, pca_components=3))
    model.set_statistics(frames)
    torch.testing.assert_close(model.feature_mean, frames.mean(0))
    basis = model.pca_basis  # (6, 3) orthonormal columns
    torch.testing.assert_close(basis.T @ basis, torch.eye(3), atol=1e-5, rtol=0)
    projected = model.frame_features(frames[None])[0]  # (400, 3)
    variances = projected.var(0)
    assert variances[0] == pytest.approx(2.0, abs=0.05)  # features 0 and 1, standardised and equal: variance 2
    assert (variances[:-1] >= variances[1:]).all()


def test_clips_windows_and_padded_batches():
    features = [np.arange(10 * 2).reshape(10, 2) + 100 * s for s in range(2)] + [np.ones((3, 2))]
    sequences = sequence_set(features, ["S9/Walking/a", "S9/Eating/a", "S9/Sitting/a"], [13, 2, 8])
    clips = cut_clips(sequences, clip_frames=6, stride=2, frame_step=2)
    assert len(clips) == 6 and clips.offset.tolist() == [0, 2, 4, 0, 2, 4]  # (10 - 6) // 2 + 1 windows each
    assert clips.labels.tolist() == [13, 13, 13, 2, 2, 2] and clips.steps.tolist() == [3] * 6
    features_batch, lengths = clips.batch(torch.tensor([1, 3]))
    np.testing.assert_array_equal(features_batch[0].numpy(), features[0][[2, 4, 6]])
    np.testing.assert_array_equal(features_batch[1].numpy(), features[1][[0, 2, 4]])
    assert clips.names()[1] == "S9/Walking/a/000002+6"
    whole = cut_clips(sequences, clip_frames=0, stride=1, frame_step=3)
    assert whole.steps.tolist() == [4, 4, 1]
    features_batch, lengths = whole.batch(torch.tensor([2, 0]))
    assert lengths.tolist() == [1, 4] and features_batch.shape == (2, 4, 2)
    assert (features_batch[0, 1:] == 0).all()  # padding after the end
    np.testing.assert_array_equal(features_batch[1].numpy(), features[0][[0, 3, 6, 9]])
