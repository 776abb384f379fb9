"""How `hourglass_eva` checkpoints are run on the Validate takes: PCK@0.1, mean error and jitter (image px) of
each checkpoint under non-overlapping clips (stride K, the earlier prediction), the centred overlapping clips
(`predict_frames`' default) and the latter with DARK sub-pixel decoding instead of quarter-pixel steps.

  python bench/hourglass_eva_prediction.py --load CK_FRAMEWISE.pt CK_TEMPORAL.pt [--data_dir D]

Prints one JSON line per checkpoint and prediction, then one with the machine.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacked_hourglass.clips import jitter_px, load_frame_crops, mean_pixel_error, pck  # noqa: E402
from stacked_hourglass.eva import VALID_SUBJECTS  # noqa: E402
from stacked_hourglass.temporal import load_clip_hourglass, predict_frames  # noqa: E402
from synthetic import humaneva_root  # noqa: E402
from utils.machine import machine_info  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", nargs="+", required=True, help="hourglass_eva checkpoints")
    parser.add_argument("--data_dir", default=None)
    opts = parser.parse_args()
    folder = humaneva_root(opts.data_dir)
    for path in opts.load:
        model, config, extras = load_clip_hourglass(path)
        data = load_frame_crops(folder, VALID_SUBJECTS, extras["input_res"], show_progress=False)
        for name, stride, method in (("non-overlapping", config.clip_frames, "quarter"), ("centred", None, "quarter"),
                                     ("centred, dark decoding", None, "dark")):
            found = predict_frames(model, data.crops, data.image_to_input, data.run, extras["mean_rgb"],
                                   extras["std_rgb"], torch.device("cpu"), stride=stride, decode_method=method)
            print(json.dumps({"checkpoint": path, "temporal": config.temporal, "prediction": name,
                              "pck_0.1": round(pck(found, data.joints_px), 2),
                              "mean_px": round(mean_pixel_error(found, data.joints_px), 3),
                              "jitter_px": round(jitter_px(found, data.joints_px, data.run), 3)}), flush=True)
    print(json.dumps(machine_info()))


if __name__ == "__main__":
    main()
