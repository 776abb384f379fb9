"""End to end on the tiny synthetic COCO split: train.py hourglass_coco, run.py hourglass_coco, eval.py coco_AP,
train.py distill_hourglass."""
from __future__ import annotations

import json

import pytest

from eval import main as eval_main
from run import main as run_main
from train import main as train_main

TINY = ["--stacks", "1", "--features", "16", "--input_res", "64", "--epochs", "1", "--batch_size", "4",
        "--valid_limit", "2"]


@pytest.mark.slow
def test_train_run_eval_distill(tiny_coco, tmp_path):
    checkpoints = tmp_path / "checkpoints"
    assert train_main(["hourglass_coco", "--data_dir", str(tiny_coco), "--checkpoint_dir", str(checkpoints),
                       *TINY]) == 0
    teacher = checkpoints / "hourglass_coco_default" / "best.pt"
    assert teacher.is_file()
    out = tmp_path / "out"
    assert run_main(["hourglass_coco", "--data_dir", str(tiny_coco), "--load", str(teacher), "--output_dir", str(out),
                     "--scales", "1", "2", "--limit", "3", "--detection_threshold", "0.0", "--decoder", "dark"]) == 0
    results = json.loads((out / "results_val.json").read_text())
    assert results and {"image_id", "category_id", "keypoints", "score"} <= set(results[0])
    assert len(results[0]["keypoints"]) == 51
    boxes = json.loads((out / "person_boxes_val.json").read_text())
    assert len(boxes) == len(results) and {"image_id", "file_name", "category_id", "bbox", "score"} <= set(boxes[0])
    corner_boxes = json.loads((out / "boxes_val.json").read_text())
    assert sum(len(v) for v in corner_boxes.values()) == len(results)
    gt = tiny_coco / "annotations" / "person_keypoints_val2017.json"
    assert eval_main(["coco_AP", "--gt", str(gt), "--predictions", str(out / "results_val.json"),
                      "--output_dir", str(out)]) == 0
    assert set(json.loads((out / "coco_AP.json").read_text())) >= {"AP", "AR", "APm", "ARl"}
    assert run_main(["hourglass_coco", "--data_dir", str(tiny_coco), "--load", str(teacher), "--output_dir",
                     str(tmp_path / "oracle"), "--ground_truth_grouping", "--limit", "2", "--no_flip_test"]) == 0
    assert train_main(["distill_hourglass", "--teacher", str(teacher), "--data_dir", str(tiny_coco),
                       "--checkpoint_dir", str(checkpoints), *TINY, "--features", "8"]) == 0
    assert (checkpoints / "distill_hourglass_default" / "best.pt").is_file()


def test_run_needs_a_checkpoint_and_refuses_a_wrong_kind(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_main(["hourglass_coco"])
    assert "--load CHECKPOINT is required" in capsys.readouterr().err
    assert run_main(["hourglass_coco", "--load", str(tmp_path / "none.pt"), "--data_dir", str(tmp_path)]) == 1
    assert "checkpoint not found" in capsys.readouterr().err
