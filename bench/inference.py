"""Stitched RGB -> 3D inference, five ways in one run: eager PyTorch, eager in the precision `--amp` picks here
(utils/precision.py: bf16 autocast on a CPU with native bf16; on other CPUs it is fp32, so it is not measured twice),
batch norms folded (`--fuse_bn`), torch.compile (of the folded network), and onnxruntime (the file `run.py
export_onnx` writes), images/s at batch 1 and 16 and their ratios to eager.

  python bench/inference.py [--repeats 5] [--threads N] [--quick]

The network is the published configuration (hourglass stacks=2, features=256, 256x256 input; lifter 1024 x 2
residual blocks) with random weights and batch-norm statistics (speed does not depend on them), fp32, channels-last
memory as the commands run it (onnxruntime takes plain NCHW arrays), uint8 crops in, 2D joints, scores and 3D poses out (`stitched.export.StitchedPoses`). Measurements alternate between the
settings; medians are reported. compile needs a C++ compiler and onnxruntime the 'export' dependency group: a
setting that cannot run is null, with the reason. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacked_hourglass.model import HourglassConfig  # noqa: E402
from stitched.export import StitchedPoses, export_onnx, missing_export_packages  # noqa: E402
from stitched.network import StitchedConfig, StitchedNetwork  # noqa: E402
from twod_threed.model import LifterConfig  # noqa: E402
from twod_threed.normalization import Normaliser  # noqa: E402
from utils.compiling import compile_problem  # noqa: E402
from utils.fusion import fuse_batch_norms  # noqa: E402
from utils.machine import machine_info, matmul_gflops  # noqa: E402
from utils.precision import choose_precision  # noqa: E402

BATCHES = (1, 16)


def build(hourglass: HourglassConfig) -> StitchedNetwork:
    normaliser = Normaliser("per_instance", torch.zeros(32), torch.ones(32), torch.zeros(48), torch.ones(48))
    network = StitchedNetwork(StitchedConfig(asdict(hourglass), asdict(LifterConfig())), normaliser,
                              torch.full((3,), 0.5), torch.full((3,), 0.25))
    generator = torch.Generator().manual_seed(0)
    for module in network.modules():  # statistics away from (0, 1), so folding does real work
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.copy_(0.1 * torch.randn(module.num_features, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(module.num_features, generator=generator))
    return network.to(memory_format=torch.channels_last).eval()  # as load_stitched gives it


def runners(network: StitchedNetwork, example: tuple, folder: Path) -> tuple[dict, dict]:
    """{setting: callable(images, matrices)} and {setting: reason} for those that cannot run here."""
    eager = StitchedPoses(network).eval()
    fused = StitchedPoses(fuse_batch_norms(network)).eval()
    found = {"eager": eager, "fused": fused}
    skipped = {}
    amp = choose_precision("cpu", True)
    if amp.dtype is None:
        skipped["amp"] = amp.describe()
    else:
        def with_amp(images, matrices):
            with amp.autocast():
                return eager(images, matrices)
        found["amp"] = with_amp
    problem = compile_problem(torch.device("cpu"))
    if problem:
        skipped["compiled"] = problem
    else:
        found["compiled"] = torch.compile(fused, dynamic=False)
    missing = missing_export_packages() + ([] if importlib.util.find_spec("onnxruntime") else ["onnxruntime"])
    if missing:
        skipped["onnxruntime"] = f"not installed: {', '.join(missing)}"
    else:
        import onnxruntime

        path = export_onnx(fused, example, folder / "stitched.onnx", ["images", "heatmap_to_image"],
                           ["joints_2d_px", "scores", "poses_3d_mm"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        found["onnxruntime"] = lambda images, matrices: session.run(
            None, {"images": images.contiguous().numpy(), "heatmap_to_image": matrices.numpy()})
    return found, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch (and onnxruntime) intra-op threads")
    parser.add_argument("--quick", action="store_true", help="a small hourglass (checks the script, not a figure)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hourglass = HourglassConfig(stacks=1, features=32, input_res=64) if args.quick else HourglassConfig()
    network = build(hourglass)
    res = hourglass.input_res
    matrices = torch.tensor([[[4.0, 0.0, 1.5], [0.0, 4.0, 1.5]]])
    inputs = {batch: (torch.randint(0, 256, (batch, 3, res, res), dtype=torch.uint8)
                      .contiguous(memory_format=torch.channels_last), matrices.expand(batch, 2, 3).contiguous())
              for batch in BATCHES}  # crops in the loader's channels-last memory
    with tempfile.TemporaryDirectory() as folder:
        example = (inputs[16][0][:2].contiguous(), inputs[16][1][:2])  # batch 2, NCHW: the export's example
        found, skipped = runners(network, example, Path(folder))

        @torch.inference_mode()
        def images_per_second(name: str, batch: int) -> float:
            started = time.perf_counter()
            found[name](*inputs[batch])
            return batch / (time.perf_counter() - started)

        settings = [(name, batch) for name in found for batch in BATCHES]
        for setting in settings:  # warm-up (compiles)
            images_per_second(*setting)
            images_per_second(*setting)
        samples: dict[tuple[str, int], list[float]] = {s: [] for s in settings}
        reference = []
        for _ in range(args.repeats):
            reference.append(matmul_gflops())
            for setting in settings:
                samples[setting].append(images_per_second(*setting))
    median = {s: statistics.median(v) for s, v in samples.items()}
    with torch.no_grad():
        eager_out, fused_out = (StitchedPoses(m)(*inputs[16]) for m in (network, fuse_batch_norms(network)))
    result = {
        "bench": "inference",
        "hourglass": {"stacks": hourglass.stacks, "features": hourglass.features, "input_res": res},
        **machine_info(),
        "precision": "fp32 (amp: the precision --amp picks here)",
        "amp_precision": choose_precision("cpu", True).name,
        "repeats": args.repeats,
        "matmul_fp32_gflops": round(statistics.median(reference), 1),
        **{f"images_per_s_batch{b}_{n}": round(median[(n, b)], 2) for n, b in settings},
        **{f"over_eager_batch{b}_{n}": round(median[(n, b)] / median[("eager", b)], 2)
           for n, b in settings if n != "eager"},
        "fused_max_abs_difference_joints_2d_px": float((eager_out[0] - fused_out[0]).abs().max()),
        "skipped": skipped,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
