"""`python train.py 3d_pose_gan`: train the WGAN-GP pose prior on Human3.6M-format 3D poses.

The critic has two heads on one network (see `fc_gan`). Its loss per step is the sum of
- adversary head: -(mean score of real poses - mean score of generated poses) + gradient penalty (in feature
  space, weight `--gp_weight`): plain WGAN-GP; the generator maximises this head's score of its poses;
- plausibility head (the prior): the same WGAN-GP loss where `--negative_fraction` of the fakes are real poses
  corrupted by `corruptions.negative_examples` (negative data augmentation), plus `--flatness_weight` x the
  variance of the real poses' scores, so that all real poses score alike and corrupted ones below them.
The generator takes one step every `--n_critic` critic steps (counted over the run, so a resumed run keeps the
cadence). One epoch is one pass of the critic over the training poses.

At each epoch end: validation on the held-out subjects (Wasserstein estimate, critic AUC per corruption kind),
the generated bone-length error (selects `best.pt`), and the critic's score statistics on training poses (stored in
the checkpoint, so `PosePrior` scores are calibrated). Checkpoints hold both players, both optimizers, the
epoch/step and the RNG states, so `--load last.pt` resumes exactly.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Iterator

import torch

from generative_models.checkpoint import KIND, REPRESENTATION, checkpoint_fields
from generative_models.corruptions import CORRUPTIONS, corrupt, negative_examples
from generative_models.dataset import root_relative_poses
from generative_models.fc_gan import ADVERSARY, PLAUSIBILITY, Critic, GanConfig, Generator, gradient_penalty
from generative_models.pose_representation import pose_scale, prior_representation
from generative_models.prior_metrics import bone_length_difference_mm, roc_auc
from twod_threed.h36m_files import add_subject_options, check_subject_options, h36m_folder
from utils.checkpoints import config_from_dict
from utils.errors import InputError
from utils.runs import Run, RunSettings, start_run
from utils.sampling import EpochSampler
from utils.training import LoopSettings, Trainer


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(batch_size=128, lr=2e-4, epochs=40)
    group = parser.add_argument_group("3d_pose_gan")
    group.add_argument("--n_critic", type=int, default=5, help="critic steps per generator step")
    group.add_argument("--gp_weight", type=float, default=10.0, help="gradient penalty weight (lambda)")
    group.add_argument("--betas", type=float, nargs=2, default=(0.5, 0.9), help="Adam betas of both players")
    group.add_argument("--negative_fraction", type=float, default=0.5,
                       help="share of the critic's fake batch made of corrupted real poses (0: generated only)")
    group.add_argument("--flatness_weight", type=float, default=10.0,
                       help="weight of the variance of the critic's scores over real poses (0: plain WGAN-GP)")
    group.add_argument("--noise_dim", type=int, default=GanConfig.noise_dim, help="generator noise size")
    group.add_argument("--width", type=int, default=GanConfig.critic_width, help="hidden units of both players")
    group.add_argument("--blocks", type=int, default=GanConfig.critic_blocks, help="residual blocks of both players")
    group.add_argument("--critic_norm", choices=("none", "layer"), default="none", help="normalisation in the critic")
    group.add_argument("--no_bone_features", action="store_true",
                       help="the critic sees the joints only (no bone vectors, no log bone lengths)")
    group.add_argument("--length_weight", type=float, default=GanConfig.length_weight,
                       help="scale of the log bone lengths among the critic's features")
    group.add_argument("--frame_stride", type=int, default=4, help="keep every N-th frame of each sequence")
    add_subject_options(group, held_out="valid")
    group.add_argument("--valid_poses", type=int, default=4000, help="held-out poses used per validation")
    group.add_argument("--log_every", type=int, default=20, help="TensorBoard scalars every N critic steps")


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.n_critic < 1:
        return f"--n_critic must be >= 1, got {opts.n_critic}"
    if opts.gp_weight < 0 or opts.flatness_weight < 0:
        return "--gp_weight and --flatness_weight must be >= 0"
    if not 0.0 <= opts.negative_fraction < 1.0:
        return f"--negative_fraction must be in [0, 1), got {opts.negative_fraction}"
    if opts.frame_stride < 1 or opts.valid_poses < 1 or opts.log_every < 1:
        return "--frame_stride, --valid_poses and --log_every must be positive"
    return check_subject_options(opts, held_out="valid")


# GanConfig fields set by options of another name (see config_from_options).
GAN_OPTION_OF = {"generator_width": "width", "critic_width": "width", "generator_blocks": "blocks",
                 "critic_blocks": "blocks", "bone_features": "no_bone_features"}


def config_from_options(opts: argparse.Namespace) -> GanConfig:
    return GanConfig(noise_dim=opts.noise_dim, generator_width=opts.width, generator_blocks=opts.blocks,
                     critic_width=opts.width, critic_blocks=opts.blocks, critic_norm=opts.critic_norm,
                     bone_features=not opts.no_bone_features, length_weight=opts.length_weight)


class GanTraining:
    """Both players, their optimizers and the GAN step, trained by the shared loop (`utils.training.Trainer`: resume,
    checkpoints, per-step reseeding, NaN and non-finite-weight stops). One loop step is one critic update; every
    `--n_critic`-th step (counted over the run, so a resumed run keeps the cadence) adds one generator update."""

    def __init__(self, run: Run, opts: argparse.Namespace, train_mm: torch.Tensor, valid_mm: torch.Tensor):
        resume = run.resume_from
        run.keep_checkpoint_network(asdict(config_from_options(opts)), GAN_OPTION_OF)
        self.config = (config_from_dict(GanConfig, resume["model_config"], opts.load) if resume
                       else config_from_options(opts))
        self.run, self.opts, self.device = run, opts, run.device
        self.generator = Generator(self.config)
        self.critic = Critic(self.config)
        players = {"generator": self.generator, "critic": self.critic}
        optimizers = {name: torch.optim.Adam(model.parameters(), lr=run.learning_rate(), betas=tuple(opts.betas),
                                             amsgrad=opts.use_amsprop) for name, model in players.items()}
        self.train_mm, self.valid_mm = train_mm, valid_mm
        self.train_poses = prior_representation(train_mm)  # (N, 17, 3)
        self.mean_bone_length_mm = float(pose_scale(train_mm).mean())
        stats = resume["normalisation"] if resume else {"score_mean": torch.tensor(0.0), "score_std": torch.tensor(1.0)}
        self.score_stats = torch.stack([stats["score_mean"], stats["score_std"]]).float()
        sampler = EpochSampler(len(train_mm), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                               world_size=run.dist.world_size)
        settings = LoopSettings(epochs=opts.epochs, metric_name="bone_length_mad_mm", higher_is_better=False,
                                grad_clip=opts.grad_clip, checkpoint_every=opts.checkpoint_every,
                                log_every=opts.log_every, progress_log="wasserstein", gradient_sync="average",
                                checkpoint_fields=lambda: checkpoint_fields(self.config, self.mean_bone_length_mm,
                                                                            self.score_stats))
        self.trainer = Trainer(run, players, optimizers, sampler=sampler, make_batches=self.batches,
                               validate=self.validate, settings=settings, step=self.step)

    def batches(self, sampler: EpochSampler) -> Iterator[torch.Tensor]:
        """(B, 17, 3) prior-representation training poses per step, on the device."""
        for indices in sampler.batches():
            yield self.train_poses[indices].to(self.device)

    def step(self, trainer: Trainer, real: torch.Tensor) -> dict[str, float]:
        logs = self.critic_step(trainer, real)
        if (trainer.global_step + 1) % self.opts.n_critic == 0:
            logs.update(self.generator_step(trainer, len(real)))
        return logs

    def critic_step(self, trainer: Trainer, real: torch.Tensor) -> dict[str, float]:
        """One critic update of both heads.

        Adversary: plain WGAN-GP, real vs generated. Plausibility: WGAN-GP against generated poses and, for the
        last `negative_fraction` of the batch, corrupted copies of `real`, plus the flatness penalty."""
        negatives = int(round(len(real) * self.opts.negative_fraction))
        noise = torch.randn(len(real), self.config.noise_dim, device=self.device)
        with torch.no_grad(), self.run.precision.autocast():
            generated = self.generator(noise).float()
        corrupted = prior_representation(negative_examples(real[len(real) - negatives:]))
        features = {name: self.critic.features(poses)
                    for name, poses in (("real", real), ("generated", generated), ("corrupted", corrupted))}
        with self.run.precision.autocast():
            scores = {name: self.critic.heads(value).float() for name, value in features.items()}
        fake_features = torch.cat([features["generated"][:len(real) - negatives], features["corrupted"]])
        fake_plausibility = torch.cat([scores["generated"][:len(real) - negatives, PLAUSIBILITY],
                                       scores["corrupted"][:, PLAUSIBILITY]])
        adversary_penalty = gradient_penalty(lambda x: self.critic.heads(x)[:, ADVERSARY], features["real"],
                                             features["generated"], self.opts.gp_weight)  # full precision
        plausibility_penalty = gradient_penalty(lambda x: self.critic.heads(x)[:, PLAUSIBILITY], features["real"],
                                                fake_features, self.opts.gp_weight)
        wasserstein = scores["real"][:, ADVERSARY].mean() - scores["generated"][:, ADVERSARY].mean()
        real_plausibility = scores["real"][:, PLAUSIBILITY]
        spread = real_plausibility.var()
        loss = (adversary_penalty - wasserstein + plausibility_penalty + self.opts.flatness_weight * spread
                - (real_plausibility.mean() - fake_plausibility.mean()))
        trainer.update("critic", loss)
        logs = {"critic_loss": loss, "wasserstein": wasserstein, "gradient_penalty": adversary_penalty,
                "plausibility_penalty": plausibility_penalty, "real_score_std": spread.sqrt()}
        if negatives:
            logs["negatives_gap"] = real_plausibility.mean() - scores["corrupted"][:, PLAUSIBILITY].mean()
        return {name: float(value.detach()) for name, value in logs.items()}

    def generator_step(self, trainer: Trainer, count: int) -> dict[str, float]:
        self.critic.requires_grad_(False)
        noise = torch.randn(count, self.config.noise_dim, device=self.device)
        with self.run.precision.autocast():
            loss = -self.critic.adversary(self.generator(noise)).float().mean()
        trainer.update("generator", loss)
        self.critic.requires_grad_(True)
        return {"generator_loss": float(loss.detach())}

    @torch.no_grad()
    def validate(self, players: dict[str, torch.nn.Module]) -> dict[str, float]:
        """Held-out Wasserstein estimate and AUCs, generated bone-length error; refreshes the score statistics.

        Uses its own seeded random streams, so it leaves the training's random state as it found it."""
        seeded = torch.Generator().manual_seed(self.opts.seed)
        fake = self.generator.sample(len(self.valid_mm), generator=seeded)
        real_scores = self.critic(prior_representation(self.valid_mm).to(self.device)).cpu()
        wasserstein = self.critic.adversary(prior_representation(self.valid_mm).to(self.device)).mean().cpu() \
            - self.critic.adversary(fake).mean().cpu()
        metrics = {"wasserstein": float(wasserstein),
                   "bone_length_mad_mm": bone_length_difference_mm(fake.cpu() * self.mean_bone_length_mm,
                                                                   self.train_mm)}
        for kind in CORRUPTIONS:
            corrupted = prior_representation(corrupt(self.valid_mm, kind, seeded)).to(self.device)
            metrics[f"auc_{kind}"] = roc_auc(real_scores, self.critic(corrupted).cpu())
        picked = torch.randperm(len(self.train_poses), generator=seeded)[:len(self.valid_mm)]
        train_scores = self.critic(self.train_poses[picked].to(self.device)).cpu()
        self.score_stats = torch.stack([train_scores.mean(), train_scores.std().clamp_min(1e-6)])
        return metrics

    def fit(self) -> dict[str, float]:
        return self.trainer.fit()


def load_pose_sets(opts: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    """Training poses and a fixed subset of held-out poses, (N, 17, 3) and (V, 17, 3) root-relative mm."""
    folder = h36m_folder(opts.data_dir)
    train_mm = root_relative_poses(folder, tuple(opts.train_subjects), opts.frame_stride)
    valid_all = root_relative_poses(folder, tuple(opts.valid_subjects), opts.frame_stride)
    picked = torch.randperm(len(valid_all), generator=torch.Generator().manual_seed(0))[:opts.valid_poses]
    if len(train_mm) < opts.batch_size:
        raise InputError(f"{folder}: only {len(train_mm)} training poses, fewer than --batch_size {opts.batch_size}")
    return train_mm, valid_all[picked]


def train(opts: argparse.Namespace) -> int:
    run = start_run(RunSettings.from_options(opts), KIND)
    try:
        train_mm, valid_mm = load_pose_sets(opts)
        run.logger.info(f"[{run.name}] {len(train_mm)} training poses, {len(valid_mm)} validation poses "
                        f"({REPRESENTATION})")
        GanTraining(run, opts, train_mm, valid_mm).fit()
        return 0
    finally:
        run.close()
