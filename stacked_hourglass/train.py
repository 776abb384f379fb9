"""`train.py hourglass_mpii`: train the stacked hourglass on an MPII-format dataset (default: the embedded one).

Data: the crop cache of the train and valid splits (built once under --cache_dir) or the original JPEGs.
Each epoch ends with PCKh@0.5 on the validation people (head-normalised, image px; the unweighted mean over the 14
joints, as pytorch-pose's script, with the annotation-weighted mean beside it), which picks `best.pt`.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from stacked_hourglass import transforms
from stacked_hourglass.annotations import load_split, mpii_folder
from stacked_hourglass.checkpoint import KIND, STRIDE, checkpoint_fields, load_hourglass
from stacked_hourglass.dataset import (CropCacheDataset, JpegDataset, PoseDataset, SampleSettings, collate,
                                       worker_init)
from stacked_hourglass.inference import HourglassPredictor, predict
from stacked_hourglass.inputs import add_outside_paths_option
from stacked_hourglass.loss import LossSettings, hourglass_loss
from stacked_hourglass.model import HourglassConfig, HourglassNet, normalise_input, shape_options_problem
from stacked_hourglass.pictures import prediction_picture
from stacked_hourglass.prepare import CACHE_NAME, CacheSpec, dataset_mean_std, prepare_split
from utils.checkpoints import config_from_dict
from utils.errors import InputError
from utils.metrics import mpii_pckh_table
from utils.paths import CACHE_DESCRIPTION
from utils.sampling import EpochSampler
from utils.schedules import TimeBudget, cosine_schedule
from utils.skeletons import MPII_PCKH_GROUPS
from utils.runs import Run, RunSettings, start_run
from utils.training import LoopSettings, Trainer, build_optimizer

METRIC = "PCKh@0.5"
# HourglassConfig fields set by options of another name (see model_config).
MODEL_OPTION_OF = {"intermediate_supervision": "remove_intermediate_supervision",
                   "batch_norm_affine": "no_batch_norm_affine"}


def add_options(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("hourglass model (a resumed run keeps the checkpoint's network; giving "
                                      "another value with --load is an error)")
    model.add_argument("--stacks", type=int, default=2, help="hourglass modules")
    model.add_argument("--blocks", type=int, default=1, help="residual blocks per hourglass level and after each stack")
    model.add_argument("--features", type=int, default=256, help="channels through the hourglasses")
    model.add_argument("--early_pool", action="store_true",
                       help="max-pool right after the 7x7 stem conv, so every residual runs at heatmap resolution "
                            "(about half the work of a 64-feature network)")
    model.add_argument("--input_res", type=int, default=256, help="input side px (heatmaps: input_res / 4)")
    model.add_argument("--remove_intermediate_supervision", action="store_true",
                       help="supervise only the last stack's heatmaps")
    model.add_argument("--scale_weight_factor", type=float, default=1.0, help="multiply all weights at init")
    model.add_argument("--use_layer_norm", action="store_true", help="layer norm (no batch statistics) for batch norm")
    model.add_argument("--no_batch_norm_affine", action="store_true", help="normalisation layers without scale/shift")
    model.add_argument("--batch_norm_momentum", type=float, default=0.1,
                       help="weight of each batch in the running statistics of batch norm")
    model.add_argument("--predict_joint_visibility", action="store_true", help="add a per-joint visibility head")
    model.add_argument("--joint_visibility_loss_coeff", type=float, default=1.0, help="weight of its BCE loss")
    model.add_argument("--attention", action="store_true",
                       help="self-attention between positions at each hourglass's lowest resolution")
    data = parser.add_argument_group("hourglass data")
    data.add_argument("--data_source", choices=("cache", "jpeg"), default="cache",
                      help="cache: person crops prepared once in one HDF5 file per split; jpeg: the original images")
    data.add_argument("--cache_dir", default=None,
                      help=f"where crop caches and statistics live (default: {CACHE_NAME}/ in {CACHE_DESCRIPTION})")
    data.add_argument("--cache_res", type=int, default=None, help="cached crop side px (default 1.5 x input_res)")
    data.add_argument("--augment_training_data", action=argparse.BooleanOptionalAction, default=True,
                      help="scale, rotation, flip and colour augmentation, as the hourglass papers (see "
                           "stacked_hourglass/README.md)")
    data.add_argument("--scale_octaves", type=float, default=0.25,
                      help="augmentation: box scale 2^N(0, s) clipped to +-2s octaves (0: off)")
    data.add_argument("--rotation_prob", type=float, default=0.4,
                      help="augmentation: chance of a rotation N(0, 30 deg) clipped to +-60 deg")
    data.add_argument("--flip_prob", type=float, default=0.5, help="augmentation: chance of a mirror (left/right swap)")
    data.add_argument("--colour_gain", type=float, default=0.4,
                      help="augmentation: per-channel colour gain U(1 - g, 1 + g) (0: off)")
    data.add_argument("--add_random_masking", action="store_true", help="random occluding bars over the person")
    data.add_argument("--mask_prob", type=float, default=0.5, help="chance that a sample gets a bar")
    data.add_argument("--orientation_prob", type=float, default=0.5, help="chance that a bar is vertical")
    data.add_argument("--mean_valued_prob", type=float, default=0.5, help="chance of a mean-colour bar (else noise)")
    data.add_argument("--max_cover_ratio", type=float, default=0.5, help="bar width / extent of the joints, at most")
    data.add_argument("--noise_std", type=float, default=0.2, help="noise std of noise bars ([0, 1] pixel units)")
    data.add_argument("--sigma", type=float, default=1.0, help="target Gaussian std, heatmap px")
    data.add_argument("--valid_limit", type=int, default=None, help="validate on the first N validation people only")
    add_outside_paths_option(data)
    optim = parser.add_argument_group("hourglass optimisation")
    optim.add_argument("--optimizer", choices=("rmsprop", "adam"), default="rmsprop",
                       help="RMSprop, as the hourglass paper, or Adam (--use_amsprop: Adam with AMSGrad)")
    optim.add_argument("--weight_decay", type=float, default=0.0, help="L2 weight decay of the optimizer")
    optim.add_argument("--lr_schedule", choices=("step", "cosine"), default="step",
                       help="step: x lr_gamma at each of --lr_milestones (epochs); cosine: per step down to 0")
    optim.add_argument("--lr_milestones", type=int, nargs="*", default=[60, 90],
                       help="--lr_schedule step: epochs after which the learning rate is multiplied by --lr_gamma")
    optim.add_argument("--lr_gamma", type=float, default=0.1, help="--lr_schedule step: the factor at each milestone")
    optim.add_argument("--max_train_minutes", type=float, default=None,
                       help="end the epoch running when this much time has passed since the start, then stop; "
                       "--lr_schedule cosine then anneals over this budget where it ends before --epochs")
    parser.set_defaults(lr=2.5e-4, batch_size=6, epochs=100)


def check_options(opts: argparse.Namespace) -> str | None:
    problem = shape_options_problem(opts)
    if problem:
        return problem
    for name in ("mask_prob", "orientation_prob", "mean_valued_prob", "max_cover_ratio", "rotation_prob", "flip_prob",
                 "colour_gain"):
        if not 0.0 <= getattr(opts, name) <= 1.0:
            return f"--{name} must be in [0, 1], got {getattr(opts, name)}"
    return None


def model_config(opts: argparse.Namespace) -> HourglassConfig:
    return HourglassConfig(
        stacks=opts.stacks, blocks=opts.blocks, features=opts.features, early_pool=opts.early_pool,
        input_res=opts.input_res,
        intermediate_supervision=not opts.remove_intermediate_supervision,
        scale_weight_factor=opts.scale_weight_factor, use_layer_norm=opts.use_layer_norm,
        batch_norm_affine=not opts.no_batch_norm_affine, batch_norm_momentum=opts.batch_norm_momentum,
        predict_joint_visibility=opts.predict_joint_visibility, attention=opts.attention)


def sample_settings(opts: argparse.Namespace, input_res: int, mean_rgb: np.ndarray, train: bool) -> SampleSettings:
    mask = transforms.MaskSettings(opts.mask_prob, opts.orientation_prob, opts.mean_valued_prob,
                                   opts.max_cover_ratio, opts.noise_std) if train and opts.add_random_masking else None
    augment = transforms.AugmentSettings(
        scale_sigma_octaves=opts.scale_octaves, scale_clip_octaves=2 * opts.scale_octaves,
        rotation_prob=opts.rotation_prob, flip_prob=opts.flip_prob,
        colour_gain_range=(1.0 - opts.colour_gain, 1.0 + opts.colour_gain)) if train and opts.augment_training_data else None
    return SampleSettings(input_res, STRIDE, augment, mask, tuple(float(m) for m in mean_rgb))


def build_datasets(opts, data_dir: Path, input_res: int, mean_rgb: np.ndarray | None):
    """(train set, valid set, mean_rgb, std_rgb); caches are prepared on first use."""
    spec = CacheSpec(crop_res=opts.cache_res or int(round(1.5 * input_res)), margin=1.5)
    outside = opts.allow_outside_paths
    train_cache = prepare_split(data_dir, "train", spec, opts.cache_dir, opts.workers, outside)
    mean, std = dataset_mean_std(train_cache)
    if mean_rgb is not None:
        mean = mean_rgb
    train_settings, valid_settings = (sample_settings(opts, input_res, mean, t) for t in (True, False))
    if opts.data_source == "cache":
        valid_cache = prepare_split(data_dir, "valid", spec, opts.cache_dir, opts.workers, outside)
        return (CropCacheDataset(train_cache, train_settings, opts.seed),
                CropCacheDataset(valid_cache, valid_settings), mean, std)
    images = mpii_folder(data_dir) / "images"
    return (JpegDataset(load_split(data_dir, "train", outside), images, train_settings, opts.seed),
            JpegDataset(load_split(data_dir, "valid", outside), images, valid_settings), mean, std)


def make_validate(run: Run, valid_set: PoseDataset, opts, mean_rgb: torch.Tensor, std_rgb: torch.Tensor):
    count = len(valid_set) if opts.valid_limit is None else min(opts.valid_limit, len(valid_set))
    subset = torch.utils.data.Subset(valid_set, range(count))
    loader = DataLoader(subset, batch_size=max(opts.batch_size, 16), num_workers=opts.workers, collate_fn=collate,
                        worker_init_fn=worker_init)
    truth = valid_set.records.subset(np.arange(count))
    calls = {"count": 0}

    def validate(model: torch.nn.Module) -> dict[str, float]:
        found = predict(HourglassPredictor(model, mean_rgb, std_rgb, run.precision), loader, count,
                        show_progress=False, center_px=truth.center_px)
        readable = ~found.missing
        table, _ = mpii_pckh_table(found.joints_px[readable], truth.joints_px[readable],
                                   truth.annotated[readable], truth.head_size_px[readable])
        calls["count"] += 1
        if found.example is not None:
            run.logger.image("valid/predictions", prediction_picture(**found.example), calls["count"])
        groups = {f"PCKh@0.5/{k}": table[k] for k in MPII_PCKH_GROUPS}
        return {METRIC: table["Mean"], f"{METRIC}_weighted": table["Mean_weighted"], "PCKh@0.1": table["Mean@0.1"],
                "AUC": table["AUC"], **groups}

    return validate


def train(opts: argparse.Namespace, teacher_path: str | None = None, teacher_weight: float = 0.0) -> dict[str, float]:
    """Train; with `teacher_path` (a hourglass checkpoint) the heatmap target mixes ground truth and the
    teacher's heatmaps (`train.py distill_hourglass`)."""
    run = start_run(RunSettings.from_options(opts), KIND)
    resume = run.resume_from
    run.keep_checkpoint_network(asdict(model_config(opts)), MODEL_OPTION_OF)
    config = (config_from_dict(HourglassConfig, resume["model_config"], opts.load) if resume else model_config(opts))
    saved_mean = resume["normalisation"]["mean_rgb"].numpy() if resume else None
    data_dir = mpii_folder(opts.data_dir)
    if not run.dist.is_main:
        run.dist.barrier()  # the first process prepares the crop caches, the others then read them
    train_set, valid_set, mean, std = build_datasets(opts, data_dir, config.input_res, saved_mean)
    if run.dist.is_main:
        run.dist.barrier()
    if resume:
        std = resume["normalisation"]["std_rgb"].numpy()
    mean_t, std_t = (torch.as_tensor(np.asarray(v), dtype=torch.float32) for v in (mean, std))
    model = HourglassNet(config).to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model.parameters(), opts.optimizer, run.learning_rate(), opts.use_amsprop,
                                opts.weight_decay)
    sampler = EpochSampler(len(train_set), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    loader = DataLoader(train_set, batch_size=opts.batch_size, sampler=sampler, num_workers=opts.workers,
                        collate_fn=collate, worker_init_fn=worker_init, pin_memory=run.device.type == "cuda")
    budget = TimeBudget(opts.max_train_minutes, run.dist)
    if opts.lr_schedule == "cosine":
        scheduler = cosine_schedule(optimizer, opts.epochs * sampler.steps_per_epoch(), budget)
    else:
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, opts.lr_milestones, opts.lr_gamma)
    settings = LoopSettings(epochs=opts.epochs, metric_name=METRIC, higher_is_better=True,
                            grad_clip=opts.grad_clip, checkpoint_every=opts.checkpoint_every,
                            scheduler_per_step=opts.lr_schedule == "cosine",
                            checkpoint_fields=checkpoint_fields(config, mean, std))
    loss_settings = LossSettings(config.heatmap_res, opts.sigma, config.intermediate_supervision,
                                 opts.joint_visibility_loss_coeff if config.predict_joint_visibility else 0.0)

    teacher = load_hourglass(teacher_path, run.device) if teacher_path else None
    if teacher is not None and teacher.config.heatmap_res != config.heatmap_res:
        raise InputError(f"{teacher_path}: the teacher's heatmaps are {teacher.config.heatmap_res} px, the "
                         f"student's {config.heatmap_res} px: give the same --input_res")

    def loss_fn(network: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict]:
        gain = batch["colour_gain"] if train_set.settings.augment else None
        raw = batch["image"].to(run.device, non_blocking=True)
        images = normalise_input(raw, mean_t, std_t, gain)
        device_batch = [batch[k].to(run.device) for k in ("joints_hm", "annotated", "visible")]
        teacher_heatmaps = None
        if teacher is not None:
            with torch.no_grad():
                teacher_input = normalise_input(raw, teacher.extras["mean_rgb"], teacher.extras["std_rgb"], gain)
                teacher_heatmaps = teacher.model(teacher_input)["heatmaps"][-1]
        loss, logs, _ = hourglass_loss(network(images), *device_batch, loss_settings, teacher_heatmaps,
                                       teacher_weight)
        return loss, logs

    trainer: Trainer | None = None

    def any_process_without_images(empty: bool) -> bool:
        """Whether this step's batch has no readable image on some process (all processes must call it)."""
        return run.dist.all_reduce_sum(torch.tensor([float(empty)])).item() > 0

    def make_batches(epoch_sampler: EpochSampler):
        train_set.set_epoch(epoch_sampler.epoch)
        skipped: list[str] = []
        empty_steps = 0
        for batch in loader:
            skipped += [f"{item.path} ({item.reason})" for item in batch.pop("skipped")]
            # Measured before each step, so that the learning rate after the step follows the time spent so far.
            if opts.max_train_minutes and budget.update() >= 1.0 and trainer.step_in_epoch > 0:
                run.logger.info(f"--max_train_minutes {opts.max_train_minutes} reached; stopping after this epoch")
                trainer.request_stop()  # every process reaches the budget at this step (TimeBudget agrees)
                break
            if any_process_without_images("image" not in batch):
                empty_steps += 1  # every process skips the step, so that their gradient exchanges stay paired
            else:
                yield batch
        if skipped:
            run.logger.info(f"epoch {epoch_sampler.epoch + 1}: skipped {len(skipped)} samples with a missing or "
                            f"unreadable image (first: {skipped[0]})"
                            + (f"; {empty_steps} steps left out where a process had none" if empty_steps else ""))
        if getattr(train_set, "skipped", 0):
            run.logger.info(f"(the crop cache left out {train_set.skipped} people whose image was unreadable)")

    trainer = Trainer(run, model, optimizer, loss_fn, sampler, make_batches,
                      make_validate(run, valid_set, opts, mean_t.to(run.device), std_t.to(run.device)),
                      settings, scheduler)
    metrics = trainer.fit()
    run.close()
    return metrics
