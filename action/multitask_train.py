"""`python train.py multitask_h36m`: the multitask pose + action network trained on Human3.6M-format RGB frames.

Clips: the rendered frames of one sequence seen by one camera, in time order. `--clips listed` (default) reads the
frames `--data_dir`'s frames.json lists: the embedded default renders them sparsely (small: 1 per sequence and
camera, medium: 4 spread over the sequence), so its clips are sparse samples of the take, not video.
`--clips rendered` reads the embedded dataset's clips split (`synthetic.clip_split`, generated the first time):
per sequence one 2 s clip of every 8th frame (13 consecutive rendered frames) seen by one camera: video clips.
`--train_clip_frames N` trains on a random window of N frames of each clip (fewer frames per step; testing reads
whole clips). The network starts from trained stages (`--load_stitched`, or
`--load_hourglass` + `--load_2d3d`) and optionally a trained pose stream (`--load_action`, a `train.py action_h36m`
checkpoint on 3D poses). Loss: `--pose_loss_weight` x MPJPE (m) of every frame + `--action_loss_weight` x the
cross-entropy of the combined action scores (plus that of each stream, so each learns on its own).
`--freeze_stages` keeps hourglass and lifter fixed (the frozen-stages baseline: only the action streams learn).
Validation: test top-1 of the combined scores (and each stream's), MPJPE of the frames. At the end the test clips'
predictions are written to the run folder (predictions_action.npz / .json) for `eval.py action_accuracy`, and the
network's RGB -> 3D poses of every test frame (predictions_3d.npz: `poses_3d` (N, 17, 3) root-relative mm, root = 0,
`names` 'S9/Walking 1/54138969/000123', `ground_truth_3d`) for `run.py action_h36m --input` and
`eval.py h36m_MPJPE`. With `--freeze_stages` they are the stitched network's own RGB poses (frozen stages stay in
eval mode).
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

from action.checkpoint import load_action_model
from action.labels import ACTIONS, action_index
from action.metrics import top_k_hits
from action.model import ActionConfig
from action.multitask import KIND, MultitaskConfig, MultitaskNetwork, checkpoint_fields, load_multitask
from action.predictions import ClipPredictions, write_predictions
from stitched.checkpoint import DEFAULT_BETA, build_network
from stitched.frames import FrameSet, load_frames
from stitched.network import StitchedNetwork
from synthetic import clips_data_dir
from twod_threed.h36m_files import add_subject_options, check_subject_options
from utils.atomic import save_npz_atomic
from utils.checkpoints import config_to_dict
from utils.errors import InputError
from utils.metrics import h36m_errors_mm
from utils.runs import RunSettings, start_run
from utils.sampling import EpochSampler
from utils.skeletons import with_root
from utils.training import LoopSettings, Trainer, build_optimizer


CLIP_SOURCES = ("listed", "rendered")


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(lr=1e-4, batch_size=4, epochs=4)
    group = parser.add_argument_group("multitask_h36m")
    group.add_argument("--clips", choices=CLIP_SOURCES, default="listed",
                       help="listed: the frames --data_dir's frames.json lists; rendered: the embedded dataset's "
                            "clips split (consecutive rendered frames, generated once)")
    group.add_argument("--train_clip_frames", type=int, default=0,
                       help="train on a random window of this many frames of each clip (0: whole clips)")
    group.add_argument("--load_stitched", default=None, help="stitched checkpoint (train.py stitched_h36m)")
    group.add_argument("--load_hourglass", default=None, help="hourglass checkpoint (train.py hourglass_mpii)")
    group.add_argument("--load_2d3d", default=None, help="lifter checkpoint (train.py 2d3d_h36m)")
    group.add_argument("--load_action", default=None,
                       help="pose stream from a train.py action_h36m checkpoint of 3D poses (default: a new LSTM)")
    group.add_argument("--freeze_stages", action="store_true",
                       help="keep hourglass and lifter fixed: only the action streams learn (the baseline)")
    group.add_argument("--pose_loss_weight", type=float, default=1.0, help="weight of the 3D MPJPE loss (metres)")
    group.add_argument("--action_loss_weight", type=float, default=1.0, help="weight of the action cross-entropy")
    group.add_argument("--stream_lr", type=float, default=1e-3,
                       help="learning rate of the action streams and the appearance reduction (--lr: the stages)")
    group.add_argument("--appearance_channels", type=int, default=16, help="feature channels pooled per joint")
    group.add_argument("--hidden_size", type=int, default=64, help="state size of each stream")
    group.add_argument("--film", action="store_true",
                       help="condition the lifter on the action (FiLM after each batch norm, whose affine it replaces)")
    add_subject_options(group)


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.load_stitched and (opts.load_hourglass or opts.load_2d3d):
        return "give --load_stitched S, or --load_hourglass H and --load_2d3d L, not both"
    if not opts.load and not opts.load_stitched and not (opts.load_hourglass and opts.load_2d3d):
        return "give --load_stitched S, or --load_hourglass H and --load_2d3d L (trained stages), or --load to resume"
    if opts.pose_loss_weight < 0 or opts.action_loss_weight < 0 or opts.stream_lr <= 0:
        return "--pose_loss_weight and --action_loss_weight must be >= 0, --stream_lr positive"
    if opts.clips == "rendered" and opts.data_dir:
        return "--clips rendered reads the embedded dataset's clips split; with --data_dir, give a clips folder " \
               "(python -m synthetic --clips --out DIR) and --clips listed"
    if opts.train_clip_frames < 0:
        return f"--train_clip_frames must be >= 0, got {opts.train_clip_frames}"
    if opts.appearance_channels < 1 or opts.hidden_size < 1:
        return "--appearance_channels and --hidden_size must be positive"
    return check_subject_options(opts)


class FrameClips:
    """Clips of a FrameSet: the frames of each (subject, action, camera) in frame order. frame_index (C, T) rows
    of the FrameSet, -1 after each clip's length; labels (C,); names (C,) 'S9/Walking 1/54138969'."""

    def __init__(self, frames: FrameSet):
        sequence = np.array([n.rsplit("/", 1)[0] for n in frames.names])
        frame = np.array([int(n.rsplit("/", 1)[1]) for n in frames.names])
        self.names, inverse = np.unique(sequence, return_inverse=True)
        order = np.lexsort((frame, inverse))
        lengths = np.bincount(inverse, minlength=len(self.names))
        self.frame_index = torch.full((len(self.names), int(lengths.max())), -1, dtype=torch.long)
        position = np.arange(len(order)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        self.frame_index[torch.as_tensor(inverse[order]), torch.as_tensor(position)] = torch.as_tensor(order)
        self.lengths = torch.as_tensor(lengths)
        self.labels = torch.as_tensor([action_index(n.split("/")[1], "frames.json") for n in self.names])
        self.first_frames = [int(frame[order][np.cumsum(lengths)[i] - lengths[i]]) for i in range(len(lengths))]
        self.frames = frames

    def __len__(self) -> int:
        return len(self.names)

    def batch(self, index: torch.Tensor, device: torch.device, window: int = 0,
              generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The valid frames of clips `index` and where each clip step finds its frame; window > 0: a random window
        of that many consecutive frames of each longer clip (drawn from `generator`)."""
        lengths = self.lengths[index]
        table = self.frame_index[index][:, :int(lengths.max())]  # (B, T)
        if window and int(lengths.max()) > window:
            spare = torch.clamp(lengths - window, min=0)  # (B,)
            start = (torch.rand(len(index), generator=generator) * (spare + 1)).long()  # (B,) in [0, spare]
            steps = start[:, None] + torch.arange(window)[None]  # (B, window)
            table = torch.where(steps < lengths[:, None], table.gather(1, steps.clamp(max=table.shape[1] - 1)), -1)
            lengths = torch.minimum(lengths, torch.tensor(window))
        rows = table[table >= 0]  # (N,) FrameSet rows, clip by clip
        local = torch.full_like(table, -1)
        local[table >= 0] = torch.arange(len(rows))
        frames = self.frames
        return {"images": frames.images[rows].to(device).contiguous(memory_format=torch.channels_last),
                "heatmap_to_image": frames.heatmap_to_image[rows].to(device),
                "root_relative_mm": frames.root_relative_mm[rows].to(device),
                "frame_index": local.to(device), "lengths": lengths, "labels": self.labels[index].to(device)}


def make_loss(pose_weight: float, action_weight: float):
    def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]):
        out = model(batch["images"], batch["heatmap_to_image"], batch["frame_index"], batch["lengths"])
        error_mm = torch.linalg.vector_norm(out["root_relative_mm"] - batch["root_relative_mm"], dim=-1).mean()
        losses = {name: nn.functional.cross_entropy(out[name].float(), batch["labels"])
                  for name in ("action_logits", "pose_logits", "appearance_logits")}
        action_loss = losses["action_logits"] + 0.5 * (losses["pose_logits"] + losses["appearance_logits"])
        loss = pose_weight * error_mm / 1000.0 + action_weight * action_loss
        return loss, {"mpjpe_mm": error_mm.detach(), "action_loss": losses["action_logits"].detach()}

    return loss_fn


@torch.no_grad()
def predict(network: MultitaskNetwork, clips: FrameClips, device: torch.device, batch_size: int = 8):
    """(scores {name: (C, K) logits}, root_relative_mm (N, 16, 3) of every frame in FrameSet order)."""
    network.eval()
    scores = {name: [] for name in ("action_logits", "pose_logits", "appearance_logits")}
    poses = torch.zeros_like(clips.frames.root_relative_mm)
    for index in torch.arange(len(clips)).split(batch_size):
        batch = clips.batch(index, device)
        out = network(batch["images"], batch["heatmap_to_image"], batch["frame_index"], batch["lengths"])
        for name in scores:
            scores[name].append(out[name].float().cpu())
        table = clips.frame_index[index][:, :int(batch["lengths"].max())]
        poses[table[table >= 0]] = out["root_relative_mm"].float().cpu()
    return {name: torch.cat(values) for name, values in scores.items()}, poses


def evaluate(network: MultitaskNetwork, clips: FrameClips, device: torch.device) -> dict[str, float]:
    scores, poses = predict(network, clips, device)
    labels = clips.labels.numpy()
    metrics = {"top1": float(top_k_hits(scores["action_logits"].numpy(), labels, 1).mean()),
               "top5": float(top_k_hits(scores["action_logits"].numpy(), labels, 5).mean()),
               "pose_stream_top1": float(top_k_hits(scores["pose_logits"].numpy(), labels, 1).mean()),
               "appearance_stream_top1": float(top_k_hits(scores["appearance_logits"].numpy(), labels, 1).mean())}
    return {**metrics, **h36m_errors_mm(poses, clips.frames.root_relative_mm)}


def new_network(opts: argparse.Namespace, stitched: StitchedNetwork, train_frames: FrameSet) -> MultitaskNetwork:
    """The stages as trained, a pose stream (new, or --load_action's) and a new appearance stream."""
    if opts.load_action:
        pose_stream, pose_config, extras = load_action_model(opts.load_action)
        if extras["feature_kind"] != "3d":
            raise InputError(f"--load_action {opts.load_action}: a model of {extras['feature_kind']} poses (field "
                             f"feature_kind); the pose stream reads the lifter's 3D poses")
    else:
        pose_stream, pose_config = None, ActionConfig(input_dim=48, num_classes=len(ACTIONS),
                                                      hidden_size=opts.hidden_size, num_layers=1)
    joints = stitched.hourglass.config.num_joints
    appearance = ActionConfig(input_dim=joints * opts.appearance_channels, num_classes=len(ACTIONS),
                              hidden_size=opts.hidden_size, num_layers=1)
    config = MultitaskConfig(asdict(stitched.config), config_to_dict(pose_config), config_to_dict(appearance),
                             opts.appearance_channels, opts.film)
    network = MultitaskNetwork(config, stitched)
    if pose_stream is not None:
        network.pose_stream.load_state_dict(pose_stream.state_dict())
    else:
        network.pose_stream.set_statistics(train_frames.root_relative_mm.reshape(len(train_frames), -1))
    network.appearance_stream.set_statistics(appearance_features(network, train_frames))
    return network


@torch.no_grad()
def appearance_features(network: MultitaskNetwork, frames: FrameSet, batch_size: int = 16) -> torch.Tensor:
    """(N, J * C) pooled appearance features of the new network over `frames` (eval mode): the appearance stream
    standardises with their statistics, as the pose stream does with the poses'."""
    network.eval()
    matrices = frames.heatmap_to_image
    chunks = [network.frame_outputs(frames.images[rows].contiguous(memory_format=torch.channels_last),
                                    matrices[rows])[2]
              for rows in torch.arange(len(frames)).split(batch_size)]
    return torch.cat(chunks).float()


def freeze_stages(network: MultitaskNetwork) -> None:
    network.frozen = ("hourglass", "lifter")
    for part in network.frozen:
        getattr(network.stitched, part).requires_grad_(False)
    for film in network.films:  # FiLM's own maps still learn
        film.requires_grad_(True)


def parameter_groups(network: MultitaskNetwork, stage_lr: float, stream_lr: float) -> list[dict]:
    streams = {id(p) for part in (network.reduce, network.pose_stream, network.appearance_stream, network.films)
               for p in part.parameters()}
    if network.action_embedding is not None:
        streams |= {id(p) for p in network.action_embedding.parameters()}
    trainable = [p for p in network.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if id(p) not in streams], "lr": stage_lr},
              {"params": [p for p in trainable if id(p) in streams], "lr": stream_lr}]
    return [g for g in groups if g["params"]]


def write_poses(path: Path, clips: FrameClips, poses_mm: torch.Tensor) -> None:
    """predictions_3d.npz of every frame of `clips` (FrameSet order): poses_3d (N, 17, 3) root-relative mm, root 0,
    names, ground_truth_3d (N, 17, 3)."""
    save_npz_atomic(path, poses_3d=with_root(poses_mm.numpy()), names=np.asarray(clips.frames.names, dtype=str),
                    ground_truth_3d=with_root(clips.frames.root_relative_mm.numpy()))


def run_train(opts: argparse.Namespace) -> int:
    if opts.clips == "rendered":
        opts.data_dir = str(clips_data_dir())
    run = start_run(RunSettings.from_options(opts), KIND)
    if run.resume_from is not None:  # the file's network; the loop restores its weights and state
        network = load_multitask(opts.load).model
        train_frames = load_frames(opts.data_dir, tuple(opts.train_subjects), network.stitched.input_res)
    else:
        stitched = build_network(opts.load_stitched, opts.load_hourglass, opts.load_2d3d, DEFAULT_BETA)
        train_frames = load_frames(opts.data_dir, tuple(opts.train_subjects), stitched.input_res)
        network = new_network(opts, stitched, train_frames)
    test_frames = load_frames(opts.data_dir, tuple(opts.test_subjects), network.stitched.input_res)
    frozen = bool(opts.freeze_stages)
    if run.resume_from is not None:  # a resumed run trains the parts its checkpoint trained
        frozen = bool(run.resume_from.get("extra", {}).get("frozen_stages"))
        if "freeze_stages" in opts.given_options and frozen != opts.freeze_stages:
            run.close()
            raise InputError(f"--freeze_stages: {opts.load} (field extra.frozen_stages = {frozen}) was trained "
                             f"{'with' if frozen else 'without'} frozen stages, which a resumed run keeps: drop it")
    if frozen:
        freeze_stages(network)
    network = network.to(run.device)
    train, test = FrameClips(train_frames), FrameClips(test_frames)
    before = (run.resume_from or {}).get("extra", {}).get("before_training") or evaluate(network, test, run.device)
    run.logger.info(f"[{run.name}] {len(train)} training / {len(test)} test clips ({len(train_frames)} / "
                    f"{len(test_frames)} frames, up to {int(train.lengths.max())} per clip); before training: test "
                    f"MPJPE {before['mpjpe_mm']:.1f} mm, top-1 {100 * before['top1']:.1f} %")
    optimizer = torch.optim.Adam(parameter_groups(network, run.learning_rate(), opts.stream_lr * run.lr_scale))
    windows = torch.Generator().manual_seed(opts.seed + run.dist.rank)
    sampler = EpochSampler(len(train), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    fields = {**checkpoint_fields(network), "extra": {"before_training": before,
                                                     "frozen_stages": frozen}}
    settings = LoopSettings(epochs=opts.epochs, metric_name="top1", higher_is_better=True, grad_clip=opts.grad_clip,
                            checkpoint_every=opts.checkpoint_every, checkpoint_fields=fields)
    trainer = Trainer(run, network, optimizer, make_loss(opts.pose_loss_weight, opts.action_loss_weight), sampler,
                      lambda s: (train.batch(index, run.device, opts.train_clip_frames, windows)
                                 for index in s.batches()),
                      lambda model: evaluate(model, test, run.device), settings)
    after = trainer.fit()
    if run.is_main:
        scores, poses = predict(network, test, run.device)
        write_poses(Path(run.run_dir) / "predictions_3d.npz", test, poses)
        names = np.array([f"{n}/{f:06d}+{int(k)}" for n, f, k in zip(test.names, test.first_frames, test.lengths)])
        probabilities = torch.softmax(scores["action_logits"], dim=1).numpy()
        for suffix in (".npz", ".json"):
            write_predictions(ClipPredictions(names, probabilities, test.labels.numpy(), list(ACTIONS), "rgb"),
                              Path(run.run_dir) / f"predictions_action{suffix}")
    if after:
        run.logger.info(f"[{run.name}] test top-1 {100 * before['top1']:.1f} -> {100 * after['top1']:.1f} % (pose "
                        f"stream {100 * after['pose_stream_top1']:.1f} %, appearance {100 * after['appearance_stream_top1']:.1f}"
                        f" %), MPJPE {before['mpjpe_mm']:.1f} -> {after['mpjpe_mm']:.1f} mm; predictions in "
                        f"{run.run_dir}/predictions_action.npz, 3D poses in predictions_3d.npz")
    run.close()
    return 0
