"""`python train.py 2d3d_h36m` / `2d3d_eva`: train a lifter on Human3.6M- or HumanEva-I-layout data (or the embedded
default): the 3D pose baseline, or with --temporal VideoPose3D's temporal lifter (`temporal.py`).

The training set lives in memory as tensors; a step slices them with the sampler's index batch (no per-sample
Python), optionally augments the slice (rotation about the root, left/right mirror, re-projection) and normalises it.
Adam, lr x`--lr_decay` every `--lr_decay_steps` steps, MSE on the normalised 3D, max-norm after each step,
test MPJPE every epoch, `last.pt` / `best.pt` (best test MPJPE) holding everything `load_lifter` needs.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict

import torch
from torch import nn

from synthetic import humaneva_root

from twod_threed.batches import Augmentation, LifterBatches, mse_loss
from twod_threed import humaneva_files
from twod_threed.checkpoint import JOINT_ORDERS, KIND, checkpoint_fields, lift
from twod_threed.data import CACHE_NAME, PosePairs, cache_key, load_pose_pairs
from twod_threed.h36m_files import add_subject_options, check_subject_options
from twod_threed.model import Lifter, LifterConfig, count_parameters
from twod_threed.normalization import Normaliser
from twod_threed.temporal import RECEPTIVE_FIELDS, TemporalLifter, TemporalLifterConfig, filter_widths_for
from twod_threed import temporal_lifting
from utils.atomic import save_torch_atomic
from utils.checkpoints import config_from_dict
from utils.errors import InputError
from utils.metrics import mpjpe, mpjve, p_mpjpe
from utils.paths import cache_dir
from utils.penalties import PosePenalty
from utils.runs import RunSettings, start_run
from utils.sampling import EpochSampler
from utils.training import LoopSettings, Trainer, build_optimizer


def add_options(parser: argparse.ArgumentParser) -> None:
    group = _add_network_options(parser, "2d3d_h36m")
    group.add_argument("--orthogonal_data_augmentation", action="store_true",
                       help="rotate each training pose about its root, mirror it, re-project it with its camera")
    group.add_argument("--flip_prob", type=float, default=0.5, help="left/right mirror probability (augmentation)")
    group.add_argument("--z_rotations_only", action="store_true",
                       help="augmentation rotates about the world's vertical axis only")
    add_subject_options(group)
    group.add_argument("--input_2d", default="gt",
                       help="2D input: 'gt' (distorted projection of the 3D), 'detections' "
                            "(S*/StackedHourglass/*.h5, MPII order) or a VideoPose3D data_2d_h36m_*.npz path")


def add_eva_options(parser: argparse.ArgumentParser) -> None:
    group = _add_network_options(parser, "2d3d_eva")
    group.add_argument("--train_subjects", nargs="+", default=list(humaneva_files.TRAIN_SUBJECTS),
                       help="HumanEva-I takes to train on")
    group.add_argument("--test_subjects", nargs="+", default=list(humaneva_files.TEST_SUBJECTS),
                       help="HumanEva-I takes held out for testing")
    group.add_argument("--actions", nargs="+", default=list(humaneva_files.EVAL_ACTIONS),
                       help="action groups to train and test on (the published protocol: Walking Jog Box)")
    group.add_argument("--input_2d", default="gt",
                       help="2D input: 'gt' (data_2d_humaneva15_gt.npz of the dataset) or a "
                            "data_2d_humaneva15_<source>.npz path (run.py hourglass_eva writes one)")


def check_eva_options(opts: argparse.Namespace) -> str | None:
    overlap = sorted(set(opts.train_subjects) & set(opts.test_subjects))
    if overlap:
        return f"--train_subjects and --test_subjects overlap: {overlap}"
    return _check_network_options(opts)


def _add_network_options(parser: argparse.ArgumentParser, title: str) -> argparse._ArgumentGroup:
    parser.set_defaults(lr=1e-3, batch_size=64, epochs=200)
    group = parser.add_argument_group(title)
    defaults = LifterConfig()
    group.add_argument("--linear_size", type=int, default=defaults.linear_size, help="width of the hidden layers")
    group.add_argument("--num_stage", type=int, default=defaults.num_stage, help="number of residual blocks")
    group.add_argument("--dropout", type=float, default=defaults.dropout, help="dropout probability")
    group.add_argument("--max_norm", type=float, default=defaults.max_norm,
                       help="bound on the L2 norm of each unit's incoming weights, applied after every step (0: off)")
    group.add_argument("--dataset_normalization", action="store_true",
                       help="standardise 2D px and 3D mm with training-set mean/std instead of per-pose 2D "
                            "normalisation (see twod_threed/normalization.py)")
    group.add_argument("--lr_decay", type=float, default=0.96, help="learning-rate factor every --lr_decay_steps")
    group.add_argument("--lr_decay_steps", type=int, default=100_000, help="steps between learning-rate decays")
    group.add_argument("--eval_batch_size", type=int, default=4096, help="poses per forward pass when testing")
    temporal = parser.add_argument_group("temporal lifter (VideoPose3D)")
    temporal.add_argument("--temporal", action="store_true",
                          help="train the temporal lifter (dilated convolutions over --receptive_field frames of 2D "
                               "poses) instead of the frame-wise one; --dropout then defaults to 0.25")
    temporal.add_argument("--receptive_field", type=int, choices=RECEPTIVE_FIELDS, default=27,
                          help="frames each 3D pose is lifted from (filter widths 3, dilations 1, 3, 9, ...)")
    temporal.add_argument("--causal", action="store_true",
                          help="predict a window's last frame: the network never sees later frames (real time)")
    temporal.add_argument("--channels", type=int, default=TemporalLifterConfig.channels,
                          help="convolution channels of the temporal lifter")
    return group


def check_options(opts: argparse.Namespace) -> str | None:
    if not 0 <= opts.flip_prob <= 1:
        return f"--flip_prob must be in [0, 1], got {opts.flip_prob}"
    if opts.z_rotations_only and not opts.orthogonal_data_augmentation:
        return "--z_rotations_only only applies with --orthogonal_data_augmentation"
    if opts.temporal and opts.orthogonal_data_augmentation:
        return "--orthogonal_data_augmentation applies to the frame-wise lifter only (not with --temporal)"
    return _check_network_options(opts) or check_subject_options(opts)


def _check_network_options(opts: argparse.Namespace) -> str | None:
    if not 0 <= opts.dropout < 1:
        return f"--dropout must be in [0, 1), got {opts.dropout}"
    if opts.linear_size <= 0 or opts.num_stage < 0 or opts.max_norm < 0:
        return "--linear_size must be positive, --num_stage and --max_norm non-negative"
    if not opts.temporal and {"receptive_field", "causal", "channels"} & set(opts.given_options):
        return "--receptive_field, --causal and --channels need --temporal"
    if opts.channels <= 0:
        return f"--channels must be positive, got {opts.channels}"
    if opts.lr_decay_steps <= 0 or not 0 < opts.lr_decay <= 1:
        return "--lr_decay must be in (0, 1] and --lr_decay_steps positive"
    return None


def make_loss(normaliser: Normaliser, prior: PosePenalty | None):
    """MSE on the normalised 3D, plus `prior.weight` x the pose prior's loss on the predicted poses in mm."""
    if prior is None:
        return mse_loss

    def loss_fn(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
        inputs, targets = batch
        outputs = model(inputs)  # (B, 48) normalised
        prior_loss = prior.loss(normaliser.denormalise_3d(outputs.float()))  # (B, 16, 3) root-relative mm
        loss = nn.functional.mse_loss(outputs, targets) + prior.weight * prior_loss
        return loss, {"prior_loss": prior_loss.detach()}

    return loss_fn


def model_config(opts: argparse.Namespace, sizes: tuple[int, int] = (32, 48)) -> LifterConfig | TemporalLifterConfig:
    """The network the options ask for; sizes: (input, output) widths, 16 x 2 and 16 x 3 for Human3.6M."""
    if opts.temporal:
        dropout = opts.dropout if "dropout" in opts.given_options else TemporalLifterConfig.dropout
        return TemporalLifterConfig(input_size=sizes[0], output_size=sizes[1],
                                    filter_widths=filter_widths_for(opts.receptive_field), channels=opts.channels,
                                    dropout=dropout, causal=opts.causal)
    return LifterConfig(input_size=sizes[0], output_size=sizes[1], linear_size=opts.linear_size,
                        num_stage=opts.num_stage, dropout=opts.dropout, max_norm=opts.max_norm)


def make_normaliser(opts: argparse.Namespace, train: PosePairs) -> Normaliser:
    """Training-set statistics of the chosen mode, computed once per dataset and cached in .cache/."""
    mode = "dataset" if opts.dataset_normalization else "per_instance"
    path = cache_dir(CACHE_NAME) / f"stats_{mode}_{cache_key(opts.data_dir, opts.train_subjects, opts.input_2d)}.pt"
    if path.is_file():
        return Normaliser.from_state_dict(torch.load(path, weights_only=True))
    normaliser = Normaliser.from_training_data(train.joints_2d_px, train.root_relative_mm, mode)
    save_torch_atomic(normaliser.state_dict(), path)
    return normaliser


def errors_mm(predicted_mm: torch.Tensor, truth_mm: torch.Tensor) -> dict[str, float]:
    """MPJPE and P-MPJPE over all poses, root-relative (N, K, 3) without the root, counted with the zero root put
    back (K + 1 joints, as published tables count; `h36m_errors_mm` for Human3.6M's 16)."""
    predicted, truth = _with_zero_root(predicted_mm), _with_zero_root(truth_mm)
    return {"mpjpe_mm": float(mpjpe(predicted, truth).mean()), "p_mpjpe_mm": float(p_mpjpe(predicted, truth).mean())}


def _with_zero_root(poses: torch.Tensor) -> torch.Tensor:
    poses = poses.double()
    return torch.cat([torch.zeros_like(poses[:, :1]), poses], dim=1)  # (N, K + 1, 3)


def sequence_mpjve_mm(predicted_mm: torch.Tensor, truth_mm: torch.Tensor, sequence_index: torch.Tensor) -> float:
    """MPJVE (mm per frame, with the zero root) over consecutive rows of the same sequence; rows of a sequence stored
    in frame order. predicted_mm, truth_mm: (N, K, 3) root-relative without the root."""
    same = sequence_index[1:] == sequence_index[:-1]  # (N-1,)
    if len(predicted_mm) < 2 or not bool(same.any()):
        return float("nan")
    velocity = mpjve(_with_zero_root(predicted_mm), _with_zero_root(truth_mm))  # (N-1,)
    return float(velocity[same.to(velocity.device)].mean())


def _network(opts: argparse.Namespace, run, make_normaliser_fn, sizes: tuple[int, int]):
    """(config, normaliser): the resumed checkpoint's when resuming, else from the options and the training set."""
    if run.resume_from is None:
        return model_config(opts, sizes), make_normaliser_fn()
    config_class = TemporalLifterConfig if opts.temporal else LifterConfig
    values = dict(run.resume_from["model_config"])
    if opts.temporal:
        values["filter_widths"] = tuple(values.get("filter_widths", ()))
    config = config_from_dict(config_class, values, opts.load)
    normaliser = Normaliser.from_state_dict(run.resume_from["normalisation"])
    run.keep_checkpoint_network(asdict(model_config(opts, sizes)))
    asked_dataset = opts.dataset_normalization
    if "dataset_normalization" in opts.given_options and asked_dataset != (normaliser.mode == "dataset"):
        run.close()
        raise InputError(f"--dataset_normalization: {opts.load} (field normalisation.mode) holds a lifter with "
                         f"'{normaliser.mode}' normalisation, which a resumed run keeps: drop the option")
    return config, normaliser


def run_train(opts: argparse.Namespace, prior: PosePenalty | None = None) -> int:
    """Train the lifter on Human3.6M (frame-wise, or with --temporal the temporal one); `prior` (the entry point
    passes the pose prior of --prior_checkpoint) adds its weight (--prior_weight) x its loss on the predicted poses."""
    if opts.temporal and prior is not None:
        raise InputError("--prior_checkpoint applies to the frame-wise lifter only (not with --temporal)")
    run = start_run(RunSettings.from_options(opts), temporal_lifting.KIND if opts.temporal else KIND)
    train = load_pose_pairs(opts.data_dir, opts.train_subjects, opts.input_2d)
    test = load_pose_pairs(opts.data_dir, opts.test_subjects, opts.input_2d)
    config, normaliser = _network(opts, run, lambda: make_normaliser(opts, train), (32, 48))
    augmentation = (Augmentation(opts.flip_prob, opts.z_rotations_only) if opts.orthogonal_data_augmentation
                    else None)
    return fit_lifter(opts, run, train, test, config, normaliser, JOINT_ORDERS, augmentation, prior)


def run_train_eva(opts: argparse.Namespace) -> int:
    """Train a lifter on HumanEva-I (VideoPose3D's layout; the embedded synthetic one without --data_dir)."""
    run = start_run(RunSettings.from_options(opts), temporal_lifting.KIND if opts.temporal else KIND)
    folder = humaneva_root(opts.data_dir)
    actions = tuple(opts.actions)
    train = humaneva_files.load_humaneva_pairs(folder, tuple(opts.train_subjects), opts.input_2d, actions)
    test = humaneva_files.load_humaneva_pairs(folder, tuple(opts.test_subjects), opts.input_2d, actions)
    mode = "dataset" if opts.dataset_normalization else "per_instance"
    config, normaliser = _network(opts, run, lambda: Normaliser.from_training_data(
        train.joints_2d_px, train.root_relative_mm, mode), (30, 42))
    return fit_lifter(opts, run, train, test, config, normaliser, humaneva_files.JOINT_ORDERS)


def fit_lifter(opts: argparse.Namespace, run, train: PosePairs, test: PosePairs, config, normaliser: Normaliser,
               joint_orders: dict[str, str], augmentation: Augmentation | None = None,
               prior: PosePenalty | None = None) -> int:
    """The one training of every lifter (frame-wise or temporal, any skeleton) on in-memory pairs."""
    model = TemporalLifter(config) if opts.temporal else Lifter(config)
    mean_pose_mm = train.root_relative_mm.double().mean(0)  # (K, 3)
    baseline = errors_mm(mean_pose_mm.expand_as(test.root_relative_mm), test.root_relative_mm)["mpjpe_mm"]
    shape = f"temporal, {config.receptive_field} frames{' causal' if config.causal else ''}" if opts.temporal \
        else "frame-wise"
    run.logger.info(f"[{run.name}] {len(train)} training / {len(test)} test pairs; {shape} lifter, "
                    f"{count_parameters(model):,} parameters; {normaliser.mode} normalisation; test MPJPE of the "
                    f"training mean pose {baseline:.2f} mm")
    run.logger.scalars({"mean_pose_mpjpe_mm": baseline}, 0, prefix="valid/")
    optimizer = build_optimizer(model.parameters(), "adam", run.learning_rate(), amsgrad=opts.use_amsprop)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=opts.lr_decay_steps, gamma=opts.lr_decay)
    sampler = EpochSampler(len(train), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    test_inputs, test_truth = test.joints_2d_px.to(run.device), test.root_relative_mm.to(run.device)
    device_normaliser = normaliser.to(run.device)

    def validate(model: nn.Module) -> dict[str, float]:
        if opts.temporal:
            predicted = temporal_lifting.lift_sequences(model, device_normaliser, test_inputs, test.sequence_index,
                                                        test.frames)
        else:
            predicted = lift(model, device_normaliser, test_inputs, opts.eval_batch_size)
        metrics = errors_mm(predicted, test_truth)
        metrics["mpjve_mm"] = sequence_mpjve_mm(predicted, test_truth, test.sequence_index.to(run.device))
        return metrics

    extra = {"train_mean_pose_mm": mean_pose_mm.float(), "mean_pose_mpjpe_mm": baseline,
             "train_subjects": list(opts.train_subjects), "test_subjects": list(opts.test_subjects)}
    fields = (temporal_lifting.checkpoint_fields(config, normaliser, extra, joint_orders) if opts.temporal
              else {**checkpoint_fields(config, normaliser, extra), "joint_orders": dict(joint_orders)})
    settings = LoopSettings(epochs=opts.epochs, metric_name="mpjpe_mm", higher_is_better=False,
                            grad_clip=opts.grad_clip, checkpoint_every=opts.checkpoint_every,
                            scheduler_per_step=True, checkpoint_fields=fields)
    if opts.temporal:
        batches = temporal_lifting.TemporalBatches(train.joints_2d_px, train.root_relative_mm, train.sequence_index,
                                                   train.frames, normaliser, config, run.device)
        loss_fn, after_step = temporal_lifting.temporal_mse_loss, None
    else:
        batches = LifterBatches(train, normaliser, run.device, augmentation)
        loss_fn = make_loss(device_normaliser, prior and prior.to(run.device))
        after_step = Lifter.apply_max_norm
    trainer = Trainer(run, model, optimizer, loss_fn, sampler, batches, validate, settings, scheduler=scheduler,
                      after_step=after_step)
    metrics = trainer.fit()
    if metrics:
        run.logger.info(f"[{run.name}] test MPJPE {metrics['mpjpe_mm']:.2f} mm (P-MPJPE {metrics['p_mpjpe_mm']:.2f}, "
                        f"MPJVE {metrics['mpjve_mm']:.2f}) vs {baseline:.2f} mm for the training mean pose")
    run.close()
    return 0
