"""`train.py hourglass_eva` and `run.py hourglass_eva`: the hourglass on HumanEva-I video clips (`temporal.py`).

Training: clips of --clip_frames consecutive frames of the Train takes (every frame a sample start, each run's
crops prepared once in memory), one hourglass shared by the frames, with --temporal a fusion of the last stack's
heatmaps across the clip; loss on every frame. Validation on the Validate takes: PCK@0.1 of the person's 2D height,
mean pixel error and frame-to-frame jitter (2D velocity error), image px; validation and run.py predict each
frame once, from the overlapping clip where it is most central (temporal.predict_frames). `run.py hourglass_eva`
writes the 2D of every rendered frame in VideoPose3D's layout (`data_2d_humaneva15_hourglass.npz`, the rendered
clip of each take, `metadata['frame_start']` its first frame), which `train.py 2d3d_eva --input_2d` and
`run.py 2d3d_eva --input` read.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from stacked_hourglass.checkpoint import STRIDE
from stacked_hourglass.clips import (FrameCrops, clip_starts, jitter_px, load_frame_crops, mean_pixel_error, pck,
                                     to_tensor_images)
from stacked_hourglass.loss import LossSettings, hourglass_loss
from stacked_hourglass.model import HourglassConfig, normalise_input, shape_options_problem
from stacked_hourglass.temporal import (KIND, ClipHourglass, ClipHourglassConfig, checkpoint_fields,
                                        load_clip_hourglass, predict_frames)
from stacked_hourglass import transforms
from synthetic import humaneva_root
from utils.atomic import save_npz_atomic
from utils.checkpoints import config_from_dict
from utils.run_logging import get_logger
from utils.runs import RunSettings, start_run
from utils.sampling import EpochSampler
from utils.training import LoopSettings, Trainer, build_optimizer

TRAIN_SUBJECTS = ("Train/S1", "Train/S2", "Train/S3")
VALID_SUBJECTS = ("Validate/S1", "Validate/S2", "Validate/S3")
METRIC = "PCK@0.1"
OUTPUT_NAME = "data_2d_humaneva15_hourglass.npz"


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hourglass_eva")
    group.add_argument("--clip_frames", type=int, default=4, help="consecutive frames per training example")
    group.add_argument("--temporal", action="store_true",
                       help="fuse the last stack's heatmaps across the clip (a depthwise 3 x 3 x 3 convolution over "
                            "time and space, zero-initialised)")
    group.add_argument("--stacks", type=int, default=2, help="hourglass modules")
    group.add_argument("--features", type=int, default=128, help="channels through the hourglasses")
    group.add_argument("--input_res", type=int, default=128, help="input side px (heatmaps: input_res / 4)")
    group.add_argument("--early_pool", action="store_true", help="max-pool right after the stem convolution")
    group.add_argument("--sigma", type=float, default=1.0, help="target Gaussian std, heatmap px")
    parser.set_defaults(lr=1e-3, batch_size=4, epochs=20)


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.clip_frames < 1:
        return f"--clip_frames must be >= 1, got {opts.clip_frames}"
    return shape_options_problem(opts)


def model_config(opts: argparse.Namespace) -> ClipHourglassConfig:
    hourglass = HourglassConfig(stacks=opts.stacks, features=opts.features, input_res=opts.input_res,
                                early_pool=opts.early_pool, num_joints=15)
    return ClipHourglassConfig(hourglass=asdict(hourglass), clip_frames=opts.clip_frames, temporal=opts.temporal)


class ClipBatches:
    """`make_batches(sampler)`: clips (images (B, K, 3, R, R) uint8, joints_hm (B K, 15, 2)) of in-memory crops."""

    def __init__(self, data: FrameCrops, clip_frames: int, heatmap_res: int):
        self.data, self.frames = data, clip_frames
        self.starts = clip_starts(data.run, clip_frames, 1)
        to_heatmap = transforms.compose(transforms.heatmap_matrix(STRIDE), data.image_to_input)  # (N, 2, 3)
        self.joints_hm = torch.as_tensor(transforms.apply(to_heatmap, data.joints_px.astype(np.float64)),
                                         dtype=torch.float32)  # (N, 15, 2)
        self.images = to_tensor_images(data.crops)  # (N, 3, R, R)

    def __len__(self) -> int:
        return len(self.starts)

    def __call__(self, sampler: EpochSampler):
        for index in sampler.batches():
            rows = torch.as_tensor(self.starts[index.numpy()])[:, None] + torch.arange(self.frames)  # (B, K)
            yield self.images[rows], self.joints_hm[rows.reshape(-1)]


def train(opts: argparse.Namespace) -> dict[str, float]:
    run = start_run(RunSettings.from_options(opts), KIND)
    folder = humaneva_root(opts.data_dir)
    config = (config_from_dict(ClipHourglassConfig, run.resume_from["model_config"], opts.load)
              if run.resume_from else model_config(opts))
    hourglass = config.hourglass_config()
    train_data = load_frame_crops(folder, TRAIN_SUBJECTS, hourglass.input_res)
    valid_data = load_frame_crops(folder, VALID_SUBJECTS, hourglass.input_res)
    mean = train_data.crops.reshape(-1, 3).mean(0) / 255.0
    std = train_data.crops.reshape(-1, 3).std(0) / 255.0
    mean_t, std_t = (torch.as_tensor(v, dtype=torch.float32, device=run.device) for v in (mean, std))
    model = ClipHourglass(config)
    batches = ClipBatches(train_data, config.clip_frames, hourglass.heatmap_res)
    run.logger.info(f"[{run.name}] {len(train_data)} training frames ({len(batches)} clips of {config.clip_frames}), "
                    f"{len(valid_data)} validation frames; {'temporal' if config.temporal else 'frame-wise'} "
                    f"hourglass, {sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = build_optimizer(model.parameters(), "adam", run.learning_rate(), opts.use_amsprop)
    sampler = EpochSampler(len(batches), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    settings = LossSettings(hourglass.heatmap_res, opts.sigma, hourglass.intermediate_supervision)

    def loss_fn(network: torch.nn.Module, batch) -> tuple[torch.Tensor, dict]:
        images, joints_hm = batch
        flat = normalise_input(images.flatten(0, 1).to(run.device), mean_t, std_t).reshape(images.shape)
        joints_hm = joints_hm.to(run.device)
        annotated = torch.ones(joints_hm.shape[:2], device=run.device)
        loss, logs, _ = hourglass_loss(network(flat), joints_hm, annotated, annotated, settings)
        return loss, logs

    def validate(network: torch.nn.Module) -> dict[str, float]:
        found = predict_frames(network, valid_data.crops, valid_data.image_to_input, valid_data.run, mean_t, std_t,
                               run.device)
        return {METRIC: pck(found, valid_data.joints_px), "mean_px": mean_pixel_error(found, valid_data.joints_px),
                "jitter_px": jitter_px(found, valid_data.joints_px, valid_data.run)}

    loop = LoopSettings(epochs=opts.epochs, metric_name=METRIC, higher_is_better=True, grad_clip=opts.grad_clip,
                        checkpoint_every=opts.checkpoint_every, checkpoint_fields=checkpoint_fields(config, mean, std))
    metrics = Trainer(run, model, optimizer, loss_fn, sampler, batches, validate, loop).fit()
    if metrics:
        run.logger.info(f"[{run.name}] Validate: {METRIC} {metrics[METRIC]:.1f} %, mean error "
                        f"{metrics['mean_px']:.2f} px, jitter {metrics['jitter_px']:.2f} px")
    run.close()
    return metrics


def add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hourglass_eva")
    group.add_argument("--subjects", nargs="+", default=[*TRAIN_SUBJECTS, *VALID_SUBJECTS],
                       help="HumanEva-I takes whose rendered frames are run (default: all six)")


def check_run_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (written by train.py hourglass_eva)"
    return None if opts.output_dir else "--output_dir is required"


def run(opts: argparse.Namespace) -> int:
    model, config, extras = load_clip_hourglass(opts.load, opts.device)
    folder = humaneva_root(opts.data_dir)
    data = load_frame_crops(folder, tuple(opts.subjects), extras["input_res"])
    found = predict_frames(model, data.crops, data.image_to_input, data.run, extras["mean_rgb"], extras["std_rgb"],
                           torch.device(opts.device), show_progress=True)
    positions, starts = {}, {}
    for index, (subject, action, camera, first) in enumerate(data.runs):
        per_camera = positions.setdefault(subject, {}).setdefault(action, {})
        per_camera[camera] = found[data.run == index].astype(np.float32)
        starts.setdefault(subject, {})[action] = first
    table = {s: {a: [cams[c] for c in ("C1", "C2", "C3")] for a, cams in acts.items()} for s, acts in positions.items()}
    metadata = {"num_joints": 15, "keypoints_symmetry": [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]],
                "layout_name": "humaneva15", "frame_start": starts}
    output = Path(opts.output_dir) / OUTPUT_NAME
    output.parent.mkdir(parents=True, exist_ok=True)
    save_npz_atomic(output, positions_2d=np.array(table, dtype=object), metadata=np.array(metadata, dtype=object))
    get_logger().info(f"run.py hourglass_eva: {len(found)} frames of {len(data.runs)} runs -> {output} (mean error "
                      f"{mean_pixel_error(found, data.joints_px):.2f} px, jitter "
                      f"{jitter_px(found, data.joints_px, data.run):.2f} px)")
    return 0
