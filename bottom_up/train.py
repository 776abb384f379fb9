"""`train.py hourglass_coco` (and `train.py distill_hourglass --teacher CKPT` for a COCO teacher): the bottom-up
hourglass with associative embedding on COCO person keypoints (default: the synthetic COCO split).

Each stack predicts 17 heatmaps and 17 tag maps for the whole image; the loss is the masked heatmap MSE plus the
pull/push grouping loss (bottom_up/loss.py). Each epoch ends with COCO keypoint AP on validation images (grouped,
flip test), which picks `best.pt`. With a teacher, the heatmap target mixes ground truth and the teacher's heatmaps.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict

import numpy as np
import torch
from torch.utils.data import DataLoader

from bottom_up.checkpoint import KIND, checkpoint_fields, load_bottom_up
from bottom_up.codec import AssociativeEmbeddingCodec
from bottom_up.loss import NUM_KEYPOINTS, BottomUpLossSettings, bottom_up_loss
from bottom_up.training_parts import (METRIC, add_data_options, add_model_options, build_data, data_options_problem,
                                      image_mean_std, make_validate, model_config)
from stacked_hourglass.dataset import worker_init
from stacked_hourglass.model import HourglassConfig, HourglassNet, normalise_input, shape_options_problem
from synthetic import coco_root
from utils.checkpoints import config_from_dict
from utils.runs import RunSettings, start_run
from utils.sampling import EpochSampler
from utils.schedules import TimeBudget, cosine_schedule
from utils.training import LoopSettings, Trainer, build_optimizer

MODEL_OPTION_OF = {"intermediate_supervision": "remove_intermediate_supervision"}


def add_options(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    add_data_options(parser)


def check_options(opts: argparse.Namespace) -> str | None:
    return shape_options_problem(opts) or data_options_problem(opts)


def train(opts: argparse.Namespace, teacher_path: str | None = None, teacher_weight: float = 0.0) -> dict[str, float]:
    run = start_run(RunSettings.from_options(opts), KIND)
    resume = run.resume_from
    run.keep_checkpoint_network(asdict(model_config(opts)), MODEL_OPTION_OF)
    config = config_from_dict(HourglassConfig, resume["model_config"], opts.load) if resume else model_config(opts)
    codec = AssociativeEmbeddingCodec(config.input_res, 4, opts.sigma, opts.max_people)
    root = coco_root(opts.data_dir)
    train_set, valid_images = build_data(opts, root, codec)
    if resume:
        mean, std = (resume["normalisation"][k].numpy() for k in ("mean_rgb", "std_rgb"))
    else:
        mean, std = image_mean_std(train_set.images)
    mean_t, std_t = (torch.as_tensor(np.asarray(v), dtype=torch.float32, device=run.device) for v in (mean, std))
    teacher = None
    if teacher_path:
        teacher, _, teacher_extras = load_bottom_up(teacher_path, run.device)
        run.logger.info(f"distilling from {teacher_path} (teacher weight {teacher_weight})")
    model = HourglassNet(config).to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model.parameters(), "adam", run.learning_rate(), opts.use_amsprop)
    sampler = EpochSampler(len(train_set), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    loader = DataLoader(train_set, batch_size=opts.batch_size, sampler=sampler, num_workers=opts.workers,
                        worker_init_fn=worker_init)
    budget = TimeBudget(opts.max_train_minutes, run.dist)
    scheduler = cosine_schedule(optimizer, opts.epochs * sampler.steps_per_epoch(), budget)
    settings = LoopSettings(epochs=opts.epochs, metric_name=METRIC, higher_is_better=True, grad_clip=opts.grad_clip,
                            checkpoint_every=opts.checkpoint_every, scheduler_per_step=True,
                            checkpoint_fields=checkpoint_fields(config, codec, mean, std))
    loss_settings = BottomUpLossSettings(1.0, opts.pull_weight, opts.push_weight, config.intermediate_supervision)

    def loss_fn(network: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict]:
        images = batch["image"].to(run.device).contiguous(memory_format=torch.channels_last)
        inputs = normalise_input(images, mean_t, std_t)
        targets = [batch[k].to(run.device) for k in ("heatmaps", "mask", "tags_at")]
        teacher_heatmaps = None
        if teacher is not None:
            with torch.no_grad():
                teacher_inputs = normalise_input(images, teacher_extras["mean_rgb"], teacher_extras["std_rgb"])
                teacher_heatmaps = teacher(teacher_inputs)["heatmaps"][-1][:, :NUM_KEYPOINTS].float()
        return bottom_up_loss(network(inputs)["heatmaps"], *targets, loss_settings, teacher_heatmaps, teacher_weight)

    trainer: Trainer | None = None

    def make_batches(epoch_sampler: EpochSampler):
        train_set.set_epoch(epoch_sampler.epoch)
        for batch in loader:
            if opts.max_train_minutes and budget.update() >= 1.0 and trainer.step_in_epoch > 0:
                run.logger.info(f"--max_train_minutes {opts.max_train_minutes} reached; stopping after this epoch")
                trainer.request_stop()
                break
            yield batch

    validate_ap = make_validate(root, valid_images, codec, mean_t, std_t, run.device)

    def validate(network: torch.nn.Module) -> dict[str, float]:
        epoch = trainer.epoch + 1
        if epoch % opts.validate_every and epoch < trainer.epochs:
            return {}  # no AP this epoch: last.pt only
        return validate_ap(network)

    trainer = Trainer(run, model, optimizer, loss_fn, sampler, make_batches, validate, settings, scheduler)
    metrics = trainer.fit()
    run.close()
    return metrics


def add_student_options(parser: argparse.ArgumentParser) -> None:
    """`train.py distill_hourglass` with a COCO teacher: this command's options, a smaller default network (1 stack
    of 64 features); the entry point adds the teacher's options."""
    add_options(parser)
    parser.set_defaults(stacks=1, features=64)


def distill(opts: argparse.Namespace) -> dict[str, float]:
    """`train.py distill_hourglass`: the student on the teacher's heatmaps."""
    return train(opts, opts.teacher, opts.teacher_weight)
