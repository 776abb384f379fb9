"""`python train.py stitched_h36m`: fine-tune the stitched RGB -> 3D network end to end on Human3.6M-format frames.

Loss: mean per-joint 3D distance (metres) of the lifter's output, plus `--heatmap_loss_weight` x the hourglass
heatmap MSE on the frames' 2D labels, plus `--prior_weight` x the pose prior's loss when `--prior_checkpoint` is
given. Validation: image-input MPJPE / P-MPJPE on the test subjects' frames (17 joints, zero root counted); the
numbers of the networks stitched without fine-tuning are logged first and stored in the checkpoints.
"""
from __future__ import annotations

import argparse
from typing import Iterator

import torch
from torch import nn

from stacked_hourglass.heatmaps import gaussian_targets
from stacked_hourglass.loss import heatmap_mse
from stitched.checkpoint import KIND, build_network, checkpoint_fields, load_stitched
from stitched.frames import FrameSet, load_frames
from stitched.network import StitchedNetwork
from stitched.network_options import add_network_options, check_network_options, softargmax_beta
from twod_threed.h36m_files import add_subject_options, check_subject_options
from utils.metrics import h36m_errors_mm
from utils.penalties import PosePenalty
from utils.runs import RunSettings, start_run
from utils.sampling import EpochSampler
from utils.training import LoopSettings, Trainer, build_optimizer


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(lr=1e-4, batch_size=8, epochs=4)
    add_network_options(parser)
    group = parser.add_argument_group("stitched_h36m")
    group.add_argument("--heatmap_loss_weight", type=float, default=0.0,
                       help="weight of the hourglass heatmap MSE on the frames' 2D labels (0: 3D loss only)")
    group.add_argument("--freeze_hourglass", action="store_true", help="keep the hourglass fixed (eval mode)")
    group.add_argument("--freeze_2d3d", action="store_true", help="keep the lifter fixed (eval mode)")
    group.add_argument("--keep_batch_norm_statistics", action="store_true",
                       help="the hourglass's batch norm keeps the running statistics it learned on photos (training "
                            "steps still normalise with the batch's), so fine-tuning on studio frames costs less of "
                            "its 2D accuracy on MPII-like images")
    add_subject_options(group)


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.freeze_hourglass and opts.freeze_2d3d:
        return "--freeze_hourglass and --freeze_2d3d together leave nothing to train"
    if opts.heatmap_loss_weight < 0:
        return f"--heatmap_loss_weight must be >= 0, got {opts.heatmap_loss_weight}"
    return check_subject_options(opts) or check_network_options(opts)


def freeze(network: StitchedNetwork, hourglass: bool, lifter: bool) -> list[nn.Parameter]:
    """Stop gradients into the frozen parts (their batch norm stays in eval mode); returns the trainable parameters."""
    network.frozen = tuple(part for part, frozen in (("hourglass", hourglass), ("lifter", lifter)) if frozen)
    for part in network.frozen:
        getattr(network, part).requires_grad_(False)
    return [p for p in network.parameters() if p.requires_grad]


def keep_running_statistics(network: nn.Module) -> None:
    """Batch norm layers stop updating their running mean and variance (momentum 0); batch statistics still
    normalise in training mode."""
    for module in network.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = 0.0


class FrameBatches:
    """`make_batches(sampler)`: dicts of index slices of the in-memory frames, on `device`."""

    def __init__(self, frames: FrameSet, device: torch.device):
        self.images = frames.images.to(device)
        self.heatmap_to_image = frames.heatmap_to_image.to(device)
        self.root_relative_mm = frames.root_relative_mm.to(device)
        self.joints_hm = frames.joints_in_heatmap(torch.arange(len(frames))).to(device)
        self.device = device

    def __call__(self, sampler: EpochSampler) -> Iterator[dict[str, torch.Tensor]]:
        for index in sampler.batches():
            index = index.to(self.device)
            yield {"images": self.images[index].contiguous(memory_format=torch.channels_last),
                   "heatmap_to_image": self.heatmap_to_image[index],
                   "root_relative_mm": self.root_relative_mm[index], "joints_hm": self.joints_hm[index]}


def make_loss(heatmap_loss_weight: float, prior: PosePenalty | None = None):
    def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]):
        output = model(batch["images"], batch["heatmap_to_image"])
        error_mm = torch.linalg.vector_norm(output["root_relative_mm"] - batch["root_relative_mm"], dim=-1).mean()
        loss, logs = error_mm / 1000.0, {"mpjpe_mm": error_mm.detach()}
        if heatmap_loss_weight > 0:
            heatmaps = output["heatmaps"]
            targets, weights = gaussian_targets(batch["joints_hm"], torch.ones_like(batch["joints_hm"][..., 0]),
                                                heatmaps[-1].shape[-1])
            heatmap_loss = sum(heatmap_mse(h, targets, weights) for h in heatmaps)
            loss = loss + heatmap_loss_weight * heatmap_loss
            logs["heatmap_loss"] = heatmap_loss.detach()
        if prior is not None:
            prior_loss = prior.loss(output["root_relative_mm"])  # (B, 16, 3) root-relative mm
            loss = loss + prior.weight * prior_loss
            logs["prior_loss"] = prior_loss.detach()
        return loss, logs

    return loss_fn


@torch.no_grad()
def evaluate(network: nn.Module, frames: FrameSet, device: torch.device, batch_size: int = 32) -> dict[str, float]:
    """Image-input MPJPE / P-MPJPE (mm, 17 joints) and 2D joint error (image px) over `frames`."""
    network.eval()
    predicted_3d, predicted_2d = [], []
    matrices = frames.heatmap_to_image
    for start in range(0, len(frames), batch_size):
        rows = slice(start, start + batch_size)
        images = frames.images[rows].to(device).contiguous(memory_format=torch.channels_last)
        output = network(images, matrices[rows].to(device))
        predicted_3d.append(output["root_relative_mm"].float().cpu())
        predicted_2d.append(output["joints_2d_px"].float().cpu())
    metrics = h36m_errors_mm(torch.cat(predicted_3d), frames.root_relative_mm)
    error_2d = torch.linalg.vector_norm(torch.cat(predicted_2d) - frames.joints_2d_px, dim=-1).mean()
    return {**metrics, "joint_error_2d_px": float(error_2d)}


def run_train(opts: argparse.Namespace, prior: PosePenalty | None = None) -> int:
    """Fine-tune end to end; `prior` (the entry point passes the pose prior of --prior_checkpoint) adds its weight
    (--prior_weight) x its loss on the predicted poses."""
    run = start_run(RunSettings.from_options(opts), KIND)
    network = load_stitched(opts.load).model if run.resume_from is not None else build_network(
        None, opts.load_hourglass, opts.load_2d3d, softargmax_beta(opts), opts.learnable_beta)
    network = network.to(run.device)
    trainable = freeze(network, opts.freeze_hourglass, opts.freeze_2d3d)
    if opts.keep_batch_norm_statistics:
        keep_running_statistics(network.hourglass)
    train_frames = load_frames(opts.data_dir, tuple(opts.train_subjects), network.input_res)
    test_frames = load_frames(opts.data_dir, tuple(opts.test_subjects), network.input_res)
    prior = prior and prior.to(run.device)
    before = (run.resume_from or {}).get("extra", {}).get("before_fine_tuning") or evaluate(network, test_frames,
                                                                                            run.device)
    run.logger.info(f"[{run.name}] {len(train_frames)} training / {len(test_frames)} test frames; stitched without "
                    f"fine-tuning: test MPJPE {before['mpjpe_mm']:.2f} mm, P-MPJPE {before['p_mpjpe_mm']:.2f} mm, "
                    f"2D error {before['joint_error_2d_px']:.2f} px")
    run.logger.scalars(before, 0, prefix="valid/")
    optimizer = build_optimizer(trainable, "adam", run.learning_rate(), amsgrad=opts.use_amsprop)
    sampler = EpochSampler(len(train_frames), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    settings = LoopSettings(epochs=opts.epochs, metric_name="mpjpe_mm", higher_is_better=False,
                            grad_clip=opts.grad_clip, checkpoint_every=opts.checkpoint_every,
                            checkpoint_fields={**checkpoint_fields(network), "extra": {"before_fine_tuning": before}})
    trainer = Trainer(run, network, optimizer, make_loss(opts.heatmap_loss_weight, prior),
                      sampler, FrameBatches(train_frames, run.device),
                      lambda model: evaluate(model, test_frames, run.device), settings)
    after = trainer.fit()
    if after:
        run.logger.info(f"[{run.name}] test MPJPE {before['mpjpe_mm']:.2f} mm stitched without fine-tuning -> "
                        f"{after['mpjpe_mm']:.2f} mm fine-tuned end to end")
    run.close()
    return 0
