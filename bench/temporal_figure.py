"""Bar chart of frame-wise vs temporal lifters from `eval.py h36m_MPJPE` reports (the README's Time figure).

    python bench/temporal_figure.py --reports OUT/framewise_gt OUT/temporal_gt OUT/framewise_noisy OUT/temporal_noisy \
        --output docs/temporal_lifter.png
Each folder holds eval/h36m_MPJPE.json; names are read as <model>_<input>. Prints one JSON line with the values.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", nargs="+", required=True)
    parser.add_argument("--output", required=True)
    opts = parser.parse_args()
    values = {}
    for folder in map(Path, opts.reports):
        report = json.loads((folder / "eval" / "h36m_MPJPE.json").read_text())["average_over_actions"]
        values[folder.name] = {k: round(report[k], 2) for k in ("mpjpe_mm", "p_mpjpe_mm", "mpjve_mm")}
    inputs = sorted({name.split("_", 1)[1] for name in values})
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for axis, metric, title in ((axes[0], "mpjpe_mm", "MPJPE (mm)"), (axes[1], "mpjve_mm", "MPJVE (mm / frame)")):
        for offset, model in ((-0.2, "framewise"), (0.2, "temporal")):
            heights = [values.get(f"{model}_{i}", {}).get(metric, 0) for i in inputs]
            bars = axis.bar([k + offset for k in range(len(inputs))], heights, width=0.4, label=model)
            axis.bar_label(bars, fmt="%.1f", fontsize=8)
        axis.set_xticks(range(len(inputs)), [f"{i} 2D" for i in inputs])
        axis.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    figure.suptitle("Frame-wise vs temporal (27 frames) lifter, synthetic Human3.6M test S9 S11", fontsize=10)
    figure.tight_layout()
    figure.savefig(opts.output, dpi=110)
    print(json.dumps(values))


if __name__ == "__main__":
    main()
