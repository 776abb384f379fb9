"""`run.py export_onnx`: a hourglass, a lifter or a stitched checkpoint as an ONNX file with a dynamic batch axis.

What each file computes (batch norms folded first, `utils.fusion`; inputs and outputs named):
- hourglass: `images` (B, 3, R, R) uint8 RGB crops -> `heatmaps` (B, 16, R/4, R/4), the last stack's;
- lifter: `joints_2d_px` (B, 16, 2) H36M16_2D order, image px -> `poses_3d_mm` (B, 17, 3) H36M-17 root-relative mm;
- stitched: `images` (B, 3, R, R) uint8 crops and `heatmap_to_image` (B, 2, 3) -> `joints_2d_px` (B, 16, 2) MPII
  order, image px, `scores` (B, 16) heatmap peaks, `poses_3d_mm` (B, 17, 3).
Needs the optional `export` dependency group (onnx, onnxscript; onnxruntime to check the file), which `make setup`
installs. After writing, the file is run with onnxruntime (when installed) on the example input and compared.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stacked_hourglass.checkpoint import KIND as HOURGLASS_KIND
from stacked_hourglass.checkpoint import load_hourglass
from stitched.checkpoint import KIND as STITCHED_KIND
from stitched.checkpoint import load_stitched
from stitched.network import StitchedNetwork
from twod_threed.checkpoint import KIND as LIFTER_KIND
from twod_threed.checkpoint import load_lifter
from twod_threed.model import Lifter
from twod_threed.normalization import Normaliser
from utils.checkpoints import load_checkpoint
from utils.errors import InputError
from utils.fusion import fuse_batch_norms
from utils.run_logging import get_logger
from utils.atomic import atomic_path
from utils.skeletons import with_root

EXPORT_PACKAGES = ("onnx", "onnxscript")
TOLERANCE = 1e-4


class HourglassHeatmaps(nn.Module):
    """uint8 crops (B, 3, R, R) -> the last stack's heatmaps (B, J, R/4, R/4)."""

    def __init__(self, model: nn.Module, mean_rgb: torch.Tensor, std_rgb: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("mean_rgb", mean_rgb.float().view(1, 3, 1, 1).cpu().clone())
        self.register_buffer("std_rgb", std_rgb.float().view(1, 3, 1, 1).cpu().clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        inputs = (images.float() / 255.0 - self.mean_rgb) / self.std_rgb  # (B, 3, R, R)
        return self.model(inputs)["heatmaps"][-1]


class LifterMm(nn.Module):
    """(B, 16, 2) px H36M16_2D -> (B, 17, 3) root-relative mm H36M-17 (root = 0)."""

    def __init__(self, model: Lifter, normaliser: Normaliser):
        super().__init__()
        self.model, self.mode = model, normaliser.mode
        for name in ("mean_2d", "std_2d", "mean_3d", "std_3d"):
            self.register_buffer(name, getattr(normaliser, name).float().cpu().clone())

    def forward(self, joints_2d_px: torch.Tensor) -> torch.Tensor:
        normaliser = Normaliser(self.mode, self.mean_2d, self.std_2d, self.mean_3d, self.std_3d)
        return with_root(normaliser.denormalise_3d(self.model(normaliser.normalise_2d(joints_2d_px))))


class StitchedPoses(nn.Module):
    """(B, 3, R, R) uint8 crops, (B, 2, 3) heatmap px -> image px: 2D joints, scores, 3D poses."""

    def __init__(self, network: StitchedNetwork):
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor, heatmap_to_image: torch.Tensor):
        output = self.network(images, heatmap_to_image)
        return (output["joints_2d_px"], output["heatmaps"][-1].amax((2, 3)),
                with_root(output["root_relative_mm"]))


def exportable(path: str | Path, fuse_bn: bool = True, batch: int = 2) -> tuple[nn.Module, tuple, list, list]:
    """The module of a checkpoint to export, example inputs, input and output names."""
    kind = load_checkpoint(path).get("kind")
    generator = torch.Generator().manual_seed(0)
    fold = fuse_batch_norms if fuse_bn else (lambda model: model.eval())
    if kind in (HOURGLASS_KIND, STITCHED_KIND):
        res = (load_hourglass(path).config.input_res)
        images = torch.randint(0, 256, (batch, 3, res, res), dtype=torch.uint8, generator=generator)
    if kind == HOURGLASS_KIND:
        model, _, extras = load_hourglass(path)
        module = HourglassHeatmaps(fold(model.to(memory_format=torch.contiguous_format)), extras["mean_rgb"],
                                   extras["std_rgb"])
        return module.eval(), (images,), ["images"], ["heatmaps"]
    if kind == LIFTER_KIND:
        model, _, extras = load_lifter(path)
        joints = 500 + 100 * torch.randn(batch, 16, 2, generator=generator)
        return LifterMm(fold(model), extras["normaliser"]).eval(), (joints,), ["joints_2d_px"], ["poses_3d_mm"]
    if kind == STITCHED_KIND:
        network = fold(load_stitched(path).model.to(memory_format=torch.contiguous_format))
        matrices = torch.tensor([[4.0, 0.0, 1.5], [0.0, 4.0, 1.5]]).expand(batch, 2, 3).contiguous()
        return (StitchedPoses(network).eval(), (images, matrices), ["images", "heatmap_to_image"],
                ["joints_2d_px", "scores", "poses_3d_mm"])
    raise InputError(f"{path}: a '{kind}' checkpoint; export_onnx takes a hourglass, a lifter or a stitched one")


def missing_export_packages() -> list[str]:
    return [name for name in EXPORT_PACKAGES if importlib.util.find_spec(name) is None]


def export_onnx(module: nn.Module, inputs: tuple, path: str | Path, input_names: list, output_names: list) -> Path:
    """Write `module` as ONNX with a dynamic batch axis on every input and output."""
    missing = missing_export_packages()
    if missing:
        raise InputError(f"ONNX export needs {', '.join(missing)}: `make setup` installs them (the 'export' "
                         f"dependency group of pyproject.toml), or pip install onnx onnxscript onnxruntime")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The exporter lists every torchvision operator it cannot register; this project never uses torchvision.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    batch = torch.export.Dim("batch", min=1)
    dynamic_shapes = tuple({0: batch} for _ in inputs)
    with torch.no_grad():
        program = torch.onnx.export(module, inputs, dynamo=True, dynamic_shapes=dynamic_shapes,
                                    input_names=input_names, output_names=output_names, verbose=False)
    with atomic_path(path) as temp:  # a failed export leaves no half-written .onnx file
        program.save(str(temp))
    return path


def onnxruntime_outputs(path: str | Path, inputs: tuple, input_names: list) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {name: value.numpy() for name, value in zip(input_names, inputs)})


@torch.no_grad()
def largest_difference(module: nn.Module, path: str | Path, inputs: tuple, input_names: list) -> float:
    """max |onnxruntime - PyTorch| over all outputs, on `inputs`."""
    expected = module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    found = onnxruntime_outputs(path, inputs, input_names)
    return max(float(np.abs(a - b.float().numpy()).max()) for a, b in zip(found, expected))


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("export_onnx")
    group.add_argument("--output", default=None, help="the .onnx file to write")
    group.add_argument("--no_fuse_bn", action="store_true", help="export without folding the batch norms")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a hourglass, lifter or stitched checkpoint)"
    if not opts.output:
        return "--output FILE.onnx is required"
    return None


def run(opts: argparse.Namespace) -> Path:
    logger = get_logger()
    module, inputs, input_names, output_names = exportable(opts.load, fuse_bn=not opts.no_fuse_bn)
    path = export_onnx(module, inputs, opts.output, input_names, output_names)
    logger.info(f"wrote {path}: inputs {input_names}, outputs {output_names}, dynamic batch axis"
                + ("" if opts.no_fuse_bn else f", {module_folds(module)} batch norms folded"))
    if importlib.util.find_spec("onnxruntime") is None:
        logger.warning("onnxruntime is not installed: the file was not checked against PyTorch")
    else:
        difference = largest_difference(module, path, inputs, input_names)
        logger.info(f"onnxruntime matches PyTorch on the example input: max |difference| {difference:.2e}")
        if difference > TOLERANCE:
            logger.warning(f"the difference {difference:.2e} exceeds {TOLERANCE:g}")
    return path


def module_folds(module: nn.Module) -> int:
    return sum(getattr(child, "folded_batch_norms", 0) for child in module.modules())
