"""Stitched checkpoints: joining two stage checkpoints into one network, and the network's own checkpoint.

A stitched checkpoint holds the whole network (model_state keys `hourglass.*`, `lifter.*`, `soft_argmax.*` and the
statistics buffers) and lists its two `parts` (`utils.checkpoints.part_entry`), so that `load_hourglass` and
`load_lifter` read the hourglass or the lifter straight from it; no stage needs to know this package.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from stacked_hourglass.checkpoint import KIND as HOURGLASS_KIND
from stacked_hourglass.checkpoint import load_hourglass
from stitched.network import StitchedConfig, StitchedNetwork
from twod_threed.checkpoint import KIND as LIFTER_KIND
from twod_threed.checkpoint import load_lifter
from twod_threed.normalization import Normaliser
from utils.checkpoints import LoadedModel, config_from_dict, load_checkpoint, load_weights, part_entry
from utils.run_logging import get_logger

KIND = "stitched"
DEFAULT_BETA = 50.0  # soft-argmax inverse temperature of a newly stitched network


def stitch(hourglass_path: str | Path, lifter_path: str | Path, softargmax_beta: float = DEFAULT_BETA,
           learnable_beta: bool = False) -> StitchedNetwork:
    """Join a trained hourglass and a trained lifter (both from their checkpoint files alone)."""
    hourglass, hourglass_config, hourglass_extras = load_hourglass(hourglass_path)
    lifter, lifter_config, lifter_extras = load_lifter(lifter_path)
    normaliser = lifter_extras["normaliser"]
    if normaliser.mode == "dataset":
        get_logger().warning(f"{lifter_path}: this lifter standardises 2D input with Human3.6M pixel statistics "
                             f"(--dataset_normalization); on images of other sizes its input is off. A lifter "
                             f"trained with the default per-pose normalisation suits stitching better.")
    config = StitchedConfig(asdict(hourglass_config), asdict(lifter_config), softargmax_beta, learnable_beta)
    network = StitchedNetwork(config, normaliser, hourglass_extras["mean_rgb"].cpu(), hourglass_extras["std_rgb"].cpu())
    network.hourglass.load_state_dict(hourglass.state_dict())
    network.lifter.load_state_dict(lifter.state_dict())
    return network.to(memory_format=torch.channels_last)


def checkpoint_fields(network: StitchedNetwork) -> dict[str, Any]:
    """The self-describing part of a stitched checkpoint (`LoopSettings.checkpoint_fields`), parts included."""
    rgb = {"mean_rgb": network.mean_rgb.detach().cpu().clone(), "std_rgb": network.std_rgb.detach().cpu().clone()}
    lifter_normalisation = {name: value.detach().cpu().clone() if isinstance(value, torch.Tensor) else value
                            for name, value in network.normaliser.state_dict().items()}
    return {"kind": KIND, "model_config": asdict(network.config),
            "normalisation": {"mode": network.normalisation_mode},
            "parts": {"hourglass": part_entry(HOURGLASS_KIND, "hourglass.", dict(network.config.hourglass), rgb),
                      "lifter": part_entry(LIFTER_KIND, "lifter.", dict(network.config.lifter),
                                           lifter_normalisation)}}


def load_stitched(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a stitched network from its checkpoint file alone, in eval mode on `device`.

    Returns (model, config, extras). extras: epoch, best_metric (test MPJPE, mm), options, before_fine_tuning (the
    test metrics of the networks as stitched, before end-to-end training)."""
    payload = load_checkpoint(path, kind=KIND)
    config = config_from_dict(StitchedConfig, payload["model_config"], path)
    state = payload["model_state"]
    normaliser = Normaliser(payload["normalisation"]["mode"], *(state[f"lifter_{k}"] for k in
                                                                ("mean_2d", "std_2d", "mean_3d", "std_3d")))
    network = StitchedNetwork(config, normaliser, state["mean_rgb"], state["std_rgb"])
    load_weights(network, state, path)
    extras = {"epoch": payload.get("epoch"), "best_metric": payload.get("best_metric"),
              "options": payload.get("options", {}),
              "before_fine_tuning": (payload.get("extra") or {}).get("before_fine_tuning")}
    return LoadedModel(network.to(device=device, memory_format=torch.channels_last).eval(), config, extras)


def build_network(load: str | None, load_hourglass: str | None, load_2d3d: str | None,
                  softargmax_beta: float = DEFAULT_BETA, learnable_beta: bool = False) -> StitchedNetwork:
    """The network of `--load S` (a stitched checkpoint), else of `--load_hourglass H --load_2d3d L` stitched."""
    if load:
        return load_stitched(load).model
    return stitch(load_hourglass, load_2d3d, softargmax_beta, learnable_beta)
