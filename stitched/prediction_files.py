"""The prediction files of the stitched network (`run.py stitched_mpii`, on images or a video), one writer:

- `stitched_predictions.npz`: `preds` (N, 16, 2) MPII order, image px, `scores` (N, 16) heatmap peaks, `poses_3d`
  (N, 17, 3) H36M-17 root-relative camera-frame mm, root = 0, `image_names` (N,), `center_px` (N, 2), `box_px` (N,),
  `missing` (N,), and for a video `frame_index` (N,);
- `stitched_predictions.mat` (`preds`), and `stitched_predictions.json` (one object per person).
`stitched.pose_files` reads them back.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from utils.atomic import save_mat_atomic, save_npz_atomic, write_text_atomic

OUTPUT_STEM = "stitched_predictions"


def write_stitched_predictions(output_dir: Path, records, result: dict,
                               extra: dict[str, np.ndarray] | None = None) -> Path:
    """OUTPUT_DIR/stitched_predictions.npz, .mat and .json (the layout of `run.py stitched_mpii`; module docstring).
    records: image_names, center_px, box_px per row; result: preds, poses_3d, missing (+ scores); extra: more
    per-row arrays (a video's frame_index), in the npz and in each JSON person (`frame` for frame_index)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    extra = extra or {}
    path = output_dir / f"{OUTPUT_STEM}.npz"
    scores = result.get("scores", np.zeros(result["preds"].shape[:2]))
    save_npz_atomic(path, preds=result["preds"], scores=scores, poses_3d=result["poses_3d"],
                    image_names=records.image_names, center_px=records.center_px, box_px=records.box_px,
                    missing=result["missing"], **extra)
    save_mat_atomic(output_dir / f"{OUTPUT_STEM}.mat", {"preds": result["preds"]})
    people = [{"image": str(name), "joints_2d_px": joints.round(2).tolist(), "scores": score.round(4).tolist(),
               "joints_3d_mm": pose.round(2).tolist(), "missing": bool(gone)}
              for name, joints, score, pose, gone in zip(records.image_names, result["preds"], scores,
                                                         result["poses_3d"], result["missing"])]
    for key, values in extra.items():
        for person, value in zip(people, values):
            person["frame" if key == "frame_index" else key] = value.item()
    write_text_atomic(json.dumps(
        {"joint_order_2d": "mpii16", "joint_order_3d": "h36m17", "units_2d": "image px",
         "units_3d": "mm, root-relative, camera frame", "people": people}), output_dir / f"{OUTPUT_STEM}.json")
    return path
