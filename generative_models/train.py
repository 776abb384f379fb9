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

import torch

from generative_models.corruptions import CORRUPTIONS, corrupt, negative_examples
from generative_models.dataset import root_relative_poses
from generative_models.fc_gan import ADVERSARY, PLAUSIBILITY, Critic, GanConfig, Generator, gradient_penalty
from generative_models.pose_representation import pose_scale, prior_representation
from generative_models.prior_metrics import bone_length_difference_mm, roc_auc
from twod_threed.h36m_files import TEST_SUBJECTS, TRAIN_SUBJECTS, h36m_folder
from utils.checkpoints import CheckpointKeeper, config_from_dict, config_to_dict, rng_state, set_rng_state
from utils.errors import InputError
from utils.run_logging import progress
from utils.sampling import EpochSampler
from utils.training import Run, TrainingDiverged, start_run

KIND = "pose_gan"
REPRESENTATION = "h36m17 joints, root-relative, divided by the mean bone length, in the pelvis/torso frame"


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
    group.add_argument("--train_subjects", type=int, nargs="+", default=list(TRAIN_SUBJECTS))
    group.add_argument("--valid_subjects", type=int, nargs="+", default=list(TEST_SUBJECTS))
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
    return None


def config_from_options(opts: argparse.Namespace) -> GanConfig:
    return GanConfig(noise_dim=opts.noise_dim, generator_width=opts.width, generator_blocks=opts.blocks,
                     critic_width=opts.width, critic_blocks=opts.blocks, critic_norm=opts.critic_norm,
                     bone_features=not opts.no_bone_features, length_weight=opts.length_weight)


class GanTraining:
    """Both players, their optimizers and the counters; one epoch at a time."""

    def __init__(self, run: Run, opts: argparse.Namespace, train_mm: torch.Tensor, valid_mm: torch.Tensor):
        resume = run.resume_from
        self.config = (config_from_dict(GanConfig, resume["model_config"], opts.load) if resume
                       else config_from_options(opts))
        self.run, self.opts, self.device = run, opts, run.device
        self.generator = Generator(self.config).to(self.device)
        self.critic = Critic(self.config).to(self.device)
        for model in (self.generator, self.critic):  # every process starts from rank 0's weights
            run.dist.broadcast_parameters(model)
        self.optimizers = {name: torch.optim.Adam(model.parameters(), lr=opts.lr, betas=tuple(opts.betas),
                                                  amsgrad=opts.use_amsprop)
                           for name, model in (("generator", self.generator), ("critic", self.critic))}
        self.scalers = {name: run.precision.grad_scaler() for name in self.optimizers}
        self.train_mm, self.valid_mm = train_mm, valid_mm
        self.train_poses = prior_representation(train_mm)  # (N, 17, 3)
        self.mean_bone_length_mm = float(pose_scale(train_mm).mean())
        self.sampler = EpochSampler(len(train_mm), opts.batch_size, seed=opts.seed, rank=run.dist.rank,
                                    world_size=run.dist.world_size)
        self.keeper = CheckpointKeeper(run.run_dir, higher_is_better=False, enabled=run.is_main)
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.score_stats = torch.tensor([0.0, 1.0])
        if resume:
            self._resume(resume)

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _payload(self) -> dict:
        return {
            "kind": KIND, "model_config": config_to_dict(self.config),
            "model_state": {"generator": self.generator.state_dict(), "critic": self.critic.state_dict()},
            "optimizer_state": {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
            "scaler_state": {name: scaler.state_dict() for name, scaler in self.scalers.items() if scaler.is_enabled()},
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step,
            "options": self.run.options, "rng": rng_state(),
            "normalisation": {"mean_bone_length_mm": torch.tensor(self.mean_bone_length_mm),
                              "score_mean": self.score_stats[0].clone(), "score_std": self.score_stats[1].clone()},
            "extra": {"representation": REPRESENTATION, "joint_set": "h36m17"},
        }

    def _resume(self, payload: dict) -> None:
        self.generator.load_state_dict(payload["model_state"]["generator"])
        self.critic.load_state_dict(payload["model_state"]["critic"])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(payload["optimizer_state"][name])
        for name, state in payload.get("scaler_state", {}).items():
            if self.scalers[name].is_enabled():
                self.scalers[name].load_state_dict(state)
        self.epoch, self.step_in_epoch = int(payload["epoch"]), int(payload["step_in_epoch"])
        self.global_step = int(payload["global_step"])
        stats = payload["normalisation"]
        self.score_stats = torch.stack([stats["score_mean"], stats["score_std"]]).float()
        self.keeper.best_metric = payload.get("best_metric")
        if self.run.dist.world_size == 1:  # several processes draw their own streams
            set_rng_state(payload["rng"])
        self.run.logger.info(f"resuming at epoch {self.epoch}, step {self.step_in_epoch} of the epoch")

    def save(self, metric: float | None = None) -> bool:
        return self.keeper.save(self._payload(), metric)

    # -- steps -------------------------------------------------------------------------------------------------
    def _update(self, name: str, loss: torch.Tensor, model: torch.nn.Module) -> None:
        bad = torch.tensor([0.0 if torch.isfinite(loss.detach()) else 1.0])
        if self.run.dist.all_reduce_sum(bad).item() > 0:  # every process stops at the same step
            raise TrainingDiverged(
                f"[{self.run.name}] the {name} loss became {float(loss.detach())} at epoch {self.epoch + 1}, step "
                f"{self.step_in_epoch}; training stopped. The last good checkpoint is kept at {self.keeper.last_path}. "
                f"Try a lower --lr, --grad_clip, or check the poses for NaN values.")
        optimizer, scaler = self.optimizers[name], self.scalers[name]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        self.run.dist.average_gradients(model.parameters())  # data parallel without DDP (double backward)
        if self.opts.grad_clip:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.opts.grad_clip)
        scaler.step(optimizer)
        scaler.update()

    def critic_step(self, real: torch.Tensor) -> dict[str, float]:
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
        self._update("critic", loss, self.critic)
        logs = {"critic_loss": loss, "wasserstein": wasserstein, "gradient_penalty": adversary_penalty,
                "plausibility_penalty": plausibility_penalty, "real_score_std": spread.sqrt()}
        if negatives:
            logs["negatives_gap"] = real_plausibility.mean() - scores["corrupted"][:, PLAUSIBILITY].mean()
        return {name: float(value.detach()) for name, value in logs.items()}

    def generator_step(self, count: int) -> dict[str, float]:
        self.critic.requires_grad_(False)
        noise = torch.randn(count, self.config.noise_dim, device=self.device)
        with self.run.precision.autocast():
            loss = -self.critic.adversary(self.generator(noise)).float().mean()
        self._update("generator", loss, self.generator)
        self.critic.requires_grad_(True)
        return {"generator_loss": float(loss.detach())}

    def train_epoch(self) -> None:
        self.sampler.set_epoch(self.epoch, self.step_in_epoch)
        bar = progress(self.sampler.batches(), total=self.sampler.steps_per_epoch() - self.step_in_epoch,
                       desc=f"epoch {self.epoch + 1}/{self.opts.epochs}")
        for indices in bar:
            logs = self.critic_step(self.train_poses[indices].to(self.device))
            self.step_in_epoch += 1
            self.global_step += 1
            if self.global_step % self.opts.n_critic == 0:
                logs.update(self.generator_step(len(indices)))
            if self.global_step % self.opts.log_every == 0:
                self.run.logger.scalars(logs, self.global_step, prefix="train/")
                bar.set_postfix(wasserstein=f"{logs['wasserstein']:.3g}")
            if self.opts.checkpoint_every and self.step_in_epoch % self.opts.checkpoint_every == 0:
                self.save()
        bar.close()

    # -- validation --------------------------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
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
        metrics: dict[str, float] = {}
        while self.epoch < self.opts.epochs:
            self.train_epoch()
            metrics = self.run.dist.broadcast_object(self.validate() if self.run.is_main else {})
            self.epoch, self.step_in_epoch = self.epoch + 1, 0
            improved = self.save(metrics["bone_length_mad_mm"])
            self.run.logger.scalars(metrics, self.epoch, prefix="valid/")
            shown = ", ".join(f"{name} {value:.4g}" for name, value in metrics.items())
            self.run.logger.info(f"[{self.run.name}] epoch {self.epoch}/{self.opts.epochs}: {shown}"
                                 f"{' (best)' if improved else ''}")
        for model in (self.generator, self.critic):
            self.run.dist.check_same_parameters(model)
        return metrics


def load_pose_sets(opts: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    """Training poses and a fixed subset of held-out poses, (N, 17, 3) and (V, 17, 3) root-relative mm."""
    folder = h36m_folder(opts.data_dir, need_cameras=False)
    train_mm = root_relative_poses(folder, tuple(opts.train_subjects), opts.frame_stride)
    valid_all = root_relative_poses(folder, tuple(opts.valid_subjects), opts.frame_stride)
    picked = torch.randperm(len(valid_all), generator=torch.Generator().manual_seed(0))[:opts.valid_poses]
    if len(train_mm) < opts.batch_size:
        raise InputError(f"{folder}: only {len(train_mm)} training poses, fewer than --batch_size {opts.batch_size}")
    return train_mm, valid_all[picked]


def train(opts: argparse.Namespace) -> int:
    run = start_run(opts, kind=KIND)
    train_mm, valid_mm = load_pose_sets(opts)
    run.logger.info(f"[{run.name}] {len(train_mm)} training poses, {len(valid_mm)} validation poses ({REPRESENTATION})")
    training = GanTraining(run, opts, train_mm, valid_mm)
    try:
        metrics = training.fit()
        run.logger.info(f"[{run.name}] done; checkpoints in {run.run_dir} (last.pt, best.pt): "
                        + ", ".join(f"{name} {value:.4g}" for name, value in metrics.items()))
        return 0
    except TrainingDiverged as error:
        run.logger.info(f"error: {error}")
        return 1
    finally:
        run.close()
