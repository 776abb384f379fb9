"""`python train.py action_h36m`: an action recogniser over clips of Human3.6M-format pose sequences.

Clips of `--clip_frames` source frames (100 = 2 s at 50 fps; 0 = whole sequences, of varying lengths) every
`--clip_stride` frames of the training subjects' sequences (every `--test_stride` frames of the test subjects'),
reading every `--frame_step`-th frame. Per-frame features (`--input`: ground-truth 3D or 2D, or a predictions file;
see action/sources.py) are standardised with training statistics (and projected on their first
`--pca_components` principal axes), then an LSTM or a causal temporal convolution scores the 15 actions. Adam,
cross-entropy, test top-1 every epoch; `last.pt` / `best.pt` (best test top-1) rebuild the model alone.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Iterator

import torch
from torch import nn

from action.augmentation import augment_clips
from action.checkpoint import KIND, checkpoint_fields, predict_scores
from action.clips import ClipSet, cut_clips
from action.labels import ACTIONS
from action.metrics import top_k_hits
from action.model import TEMPORAL_MODELS, ActionConfig, ActionRecognizer, count_parameters
from action.sources import FEATURE_DIMS, add_clip_options, check_clip_options, feature_kind, load_sequences
from twod_threed.h36m_files import add_subject_options, check_subject_options
from utils.checkpoints import config_from_dict
from utils.errors import InputError
from utils.runs import RunSettings, start_run
from utils.sampling import EpochSampler
from utils.training import LoopSettings, Trainer, build_optimizer

def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(lr=2e-3, batch_size=64, epochs=12)
    group = parser.add_argument_group("action_h36m")
    add_clip_options(group)
    group.add_argument("--clip_stride", type=int, default=20, help="frames between training clip starts")
    group.add_argument("--test_stride", type=int, default=50, help="frames between test clip starts")
    add_subject_options(group)
    defaults = ActionConfig()
    group.add_argument("--temporal", choices=TEMPORAL_MODELS, default=defaults.temporal,
                       help="LSTM over packed sequences, or a causal temporal convolution (dilations 1, 2, 4, ...)")
    group.add_argument("--hidden_size", type=int, default=defaults.hidden_size, help="LSTM state / TCN channels")
    group.add_argument("--num_layers", type=int, default=defaults.num_layers, help="LSTM layers / TCN blocks")
    group.add_argument("--kernel_size", type=int, default=defaults.kernel_size, help="TCN kernel size")
    group.add_argument("--dropout", type=float, default=defaults.dropout, help="dropout probability")
    group.add_argument("--pca_components", type=int, default=0,
                       help="feed the first N principal components of the standardised pose (0: the pose itself)")
    group.add_argument("--flip_prob", type=float, default=0.5,
                       help="mirror a training clip left/right with this probability (0: never)")
    group.add_argument("--no_rotation", action="store_true",
                       help="do not turn training clips about the world's vertical axis (ground-truth 3D input only)")
    group.add_argument("--weight_decay", type=float, default=0.0, help="Adam weight decay")
    group.add_argument("--eval_batch_size", type=int, default=256, help="clips per forward pass when testing")


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.clip_stride < 1 or opts.test_stride < 1:
        return "--clip_stride and --test_stride must be >= 1"
    if not 0 <= opts.flip_prob <= 1:
        return f"--flip_prob must be in [0, 1], got {opts.flip_prob}"
    if not 0 <= opts.dropout < 1:
        return f"--dropout must be in [0, 1), got {opts.dropout}"
    if opts.hidden_size < 1 or opts.num_layers < 1 or opts.kernel_size < 1 or opts.pca_components < 0:
        return "--hidden_size, --num_layers and --kernel_size must be positive, --pca_components >= 0"
    if opts.pca_components > FEATURE_DIMS[feature_kind(opts.input)]:
        return f"--pca_components must be at most the {FEATURE_DIMS[feature_kind(opts.input)]} pose features"
    return check_clip_options(opts) or check_subject_options(opts)


def model_config(opts: argparse.Namespace) -> ActionConfig:
    return ActionConfig(input_dim=FEATURE_DIMS[feature_kind(opts.input)], num_classes=len(ACTIONS),
                        temporal=opts.temporal, hidden_size=opts.hidden_size, num_layers=opts.num_layers,
                        dropout=opts.dropout, pca_components=opts.pca_components, kernel_size=opts.kernel_size)


class ClipBatches:
    """`make_batches(sampler)`: (features (B, T, F), lengths (B,), labels (B,)) of the sampler's clips, augmented
    (`action.augmentation`) when `flip_prob` > 0 or `rotate`."""

    def __init__(self, clips: ClipSet, device: torch.device, flip_prob: float = 0.0, rotate: bool = False):
        self.clips, self.labels, self.device = clips, clips.labels, device
        self.flip_prob, self.rotate, self.up_camera = flip_prob, rotate, clips.up_camera

    def __call__(self, sampler: EpochSampler) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for index in sampler.batches():
            features, lengths = self.clips.batch(index)
            if self.flip_prob > 0 or self.rotate:
                up = None if self.up_camera is None else self.up_camera[index]
                features = augment_clips(features, up, self.flip_prob, self.rotate)
            yield features.to(self.device), lengths, self.labels[index].to(self.device)


def cross_entropy(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]):
    features, lengths, labels = batch
    return nn.functional.cross_entropy(model(features, lengths), labels), {}


def clip_accuracy(model: ActionRecognizer, clips: ClipSet, batch_size: int) -> dict[str, float]:
    scores = predict_scores(model, clips, batch_size).numpy()
    labels = clips.labels.numpy()
    return {"top1": float(top_k_hits(scores, labels, 1).mean()), "top5": float(top_k_hits(scores, labels, 5).mean())}


def run_train(opts: argparse.Namespace) -> int:
    run = start_run(RunSettings.from_options(opts), KIND)
    if run.resume_from is not None:  # the file's network and clips win over the options
        config = config_from_dict(ActionConfig, run.resume_from["model_config"], opts.load)
        run.keep_checkpoint_network(asdict(model_config(opts)))
        clip_settings = dict(run.resume_from["clips"])
        if run.resume_from.get("feature_kind") != feature_kind(opts.input):
            run.close()
            raise InputError(f"--input {opts.input}: {opts.load} (field feature_kind) holds a model of "
                             f"{run.resume_from.get('feature_kind')} poses")
    else:
        config = model_config(opts)
        clip_settings = {"clip_frames": 100 if opts.clip_frames is None else opts.clip_frames,
                         "frame_step": opts.frame_step or 2}
    cut = lambda subjects, stride: cut_clips(load_sequences(opts.data_dir, tuple(subjects), opts.input),
                                             clip_settings["clip_frames"], stride, clip_settings["frame_step"])
    train, test = cut(opts.train_subjects, opts.clip_stride), cut(opts.test_subjects, opts.test_stride)
    model = ActionRecognizer(config)
    if run.resume_from is None:
        model.set_statistics(train.sequences.features)
    run.logger.info(f"[{run.name}] {len(train)} training / {len(test)} test clips of {opts.input} poses "
                    f"({clip_settings}); {config.temporal}, {count_parameters(model):,} parameters")
    optimizer = build_optimizer(model.parameters(), "adam", run.learning_rate(), amsgrad=opts.use_amsprop,
                                weight_decay=opts.weight_decay)
    steps = EpochSampler(len(train), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                         world_size=run.dist.world_size).steps_per_epoch()
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(opts.epochs * steps, 1))
    sampler = EpochSampler(len(train), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    extra = {"train_subjects": list(opts.train_subjects), "test_subjects": list(opts.test_subjects),
             "input": opts.input}
    settings = LoopSettings(epochs=opts.epochs, metric_name="top1", higher_is_better=True, grad_clip=opts.grad_clip,
                            checkpoint_every=opts.checkpoint_every, scheduler_per_step=True,
                            checkpoint_fields=checkpoint_fields(config, feature_kind(opts.input), clip_settings,
                                                                list(ACTIONS), extra))
    batches = ClipBatches(train, run.device, opts.flip_prob, not opts.no_rotation)
    trainer = Trainer(run, model, optimizer, cross_entropy, sampler, batches,
                      lambda m: clip_accuracy(m, test, opts.eval_batch_size), settings, scheduler=scheduler)
    metrics = trainer.fit()
    if metrics:
        run.logger.info(f"[{run.name}] test top-1 {100 * metrics['top1']:.1f} %, top-5 {100 * metrics['top5']:.1f} % "
                        f"over {len(test)} clips of subjects {list(opts.test_subjects)}")
    run.close()
    return 0
