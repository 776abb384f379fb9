#!/usr/bin/env bash
# Draws docs/viz_<script>.png, one picture of each viz.py script, from the embedded synthetic dataset.
#
#   docs/viz_pictures.sh HOURGLASS.pt LIFTER.pt [WORK_DIR]      (from the repository root)
#
# HOURGLASS.pt / LIFTER.pt: checkpoints of train.py hourglass_mpii and 2d3d_h36m (stitched here without
# fine-tuning). Predictions and all pictures go to WORK_DIR (default outputs/viz_pictures); the first picture of
# each script is copied to docs/.
set -euo pipefail
HOURGLASS=$1
LIFTER=$2
WORK=${3:-outputs/viz_pictures}
PY=${PY:-.venv/bin/python}
DATA=$($PY -c "from synthetic import default_data_dir; print(default_data_dir())" 2>/dev/null)
MPII_IMAGES=$DATA/mpii/images
H36M=$DATA/h36m

# Predictions: hourglass and stitched network on the MPII-format validation people, the lifter on Human3.6M test
# subjects from ground-truth 2D, the stitched network on rendered Human3.6M test frames (person boxes from the 2D
# ground truth, so that its image names are the frames.json paths).
$PY run.py hourglass_mpii --load "$HOURGLASS" --output_dir "$WORK/hourglass"
$PY run.py stitched_mpii --load_hourglass "$HOURGLASS" --load_2d3d "$LIFTER" --output_dir "$WORK/stitched"
$PY run.py 2d3d_h36m --load "$LIFTER" --input "$H36M/data_2d_h36m_gt.npz" --subjects 9 11 \
    --output_dir "$WORK/lifter"
$PY - "$H36M" "$WORK/h36m_boxes.json" <<'EOF'
import json, sys
from pathlib import Path
import numpy as np
from stitched.h36m_truth import read_h36m_dataset
h36m, out = Path(sys.argv[1]), Path(sys.argv[2])
images = [f["image"] for f in json.loads((h36m / "frames.json").read_text()) if f["subject"] in ("S9", "S11")][:16]
joints = read_h36m_dataset(h36m, np.asarray(images))[0].joints_px  # (N, 16, 2) px
low, high = joints.min(1), joints.max(1)
margin = 0.1 * (high - low).max(-1, keepdims=True)
out.write_text(json.dumps({name: [[*(lo - m).tolist(), *(hi + m).tolist()]]
                           for name, lo, hi, m in zip(images, low, high, margin)}))
EOF
$PY run.py stitched_mpii --load_hourglass "$HOURGLASS" --load_2d3d "$LIFTER" --image_dir "$H36M" \
    --boxes "$WORK/h36m_boxes.json" --output_dir "$WORK/stitched_h36m"

picture() {  # picture NAME ARGS...: draw with viz.py, copy the first PNG to docs/viz_NAME.png
    local name=$1
    shift
    rm -rf "${WORK:?}/$name"
    $PY viz.py "$name" --output_dir "$WORK/$name" "$@"
    cp "$(ls "$WORK/$name"/*.png | head -n 1)" "docs/viz_$name.png"
}
picture 2d_overlay --image_dir "$MPII_IMAGES" --2d_pose_estimations "$WORK/hourglass/preds_valid.npz" --max_images 4
picture 2d_overlay_3d_pred --image_dir "$MPII_IMAGES" --max_images 4 \
    --2d_pose_estimations "$WORK/stitched/stitched_predictions.npz" \
    --3d_pose_estimation "$WORK/stitched/stitched_predictions.npz"
picture 2d_overlay_3d_gt_3d_pred --image_dir "$H36M" --max_images 4 \
    --2d_pose_estimations "$WORK/stitched_h36m/stitched_predictions.npz" \
    --3d_pose_estimation "$WORK/stitched_h36m/stitched_predictions.npz" --3d_pose_ground_truths "$H36M"
picture 2d_gt_3d_gt_3d_pred --image_dir "$H36M" --max_images 4 --2d_pose_ground_truths "$H36M" \
    --3d_pose_estimation "$WORK/lifter/predictions_3d.npz" --3d_pose_ground_truths "$H36M"
picture saliency_and_prob_maps --load "$HOURGLASS" --max_images 1 --dpi 56
picture saliency_and_prob_maps_with_skeleton --load "$HOURGLASS" --max_images 1 --dpi 56
picture orthog_augmentation --load "$LIFTER" --index 1000 --num_orientations 3
