"""train.py distill_hourglass with a single-person (MPII) teacher, and the distillation target."""
import pytest
import torch

import train as train_command
from stacked_hourglass.loss import LossSettings, hourglass_loss
from stacked_hourglass.model import HourglassConfig, HourglassOutput
from utils.checkpoints import load_checkpoint


def test_teacher_weight_mixes_the_target():
    """Target = (1 - w) x Gaussian + w x teacher: with w = 1 and a prediction equal to the teacher, the loss is 0;
    with w = 0.5, the loss is the mean of w^2 x (gt - teacher)^2 over the weighted joints."""
    joints, annotated = torch.tensor([[[3.0, 4.0], [10.0, 2.0]]]), torch.ones(1, 2)
    settings = LossSettings(heatmap_res=16, sigma=1.0, intermediate_supervision=False)
    teacher = torch.rand(1, 2, 16, 16)
    loss, _, target = hourglass_loss(HourglassOutput(heatmaps=[teacher.clone()]), joints, annotated, annotated,
                                     settings, teacher, 1.0)
    assert loss.item() == pytest.approx(0.0) and torch.equal(target, teacher)
    _, _, gt = hourglass_loss(HourglassOutput(heatmaps=[teacher]), joints, annotated, annotated, settings)
    loss, _, _ = hourglass_loss(HourglassOutput(heatmaps=[teacher]), joints, annotated, annotated, settings, teacher,
                                0.5)
    assert loss.item() == pytest.approx((0.25 * (gt - teacher) ** 2).mean().item(), rel=1e-5)


@pytest.mark.slow
def test_distill_a_single_person_student(toy_mpii, tmp_path):
    common = ["--data_dir", str(toy_mpii), "--checkpoint_dir", str(tmp_path / "runs"), "--cache_dir",
              str(tmp_path / "cache"), "--input_res", "64", "--batch_size", "4", "--epochs", "1"]
    assert train_command.main(["hourglass_mpii", *common, "--stacks", "2", "--features", "16"]) == 0
    teacher = tmp_path / "runs" / "hourglass_mpii_default" / "best.pt"
    assert train_command.main(["distill_hourglass", "--teacher", str(teacher), *common, "--features", "8",
                               "--optimizer", "adam", "--lr_schedule", "cosine"]) == 0  # hourglass_mpii options
    payload = load_checkpoint(tmp_path / "runs" / "distill_hourglass_default" / "best.pt", kind="hourglass")
    assert HourglassConfig(**payload["model_config"]).features == 8 and payload["model_config"]["stacks"] == 1
