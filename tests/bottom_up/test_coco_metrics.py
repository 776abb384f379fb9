"""eval.py coco_AP: pycocotools' own COCOeval.stats, and a hand-computed AP."""
from __future__ import annotations

import json

import numpy as np
import pytest

from eval import main as eval_main

PERSON = np.array([[50, 20, 2], [48, 18, 2], [52, 18, 2], [45, 19, 2], [55, 19, 2], [40, 35, 2], [60, 35, 2],
                   [35, 50, 2], [65, 50, 2], [33, 65, 2], [67, 65, 2], [43, 70, 2], [57, 70, 2], [42, 90, 2],
                   [58, 90, 2], [41, 110, 2], [59, 110, 1]], dtype=float)


def ground_truth() -> dict:
    """Two images; image 1 has two people (one 100 px to the right of the other), image 2 one person."""
    people = [(1, PERSON), (1, PERSON + [100, 0, 0]), (2, PERSON + [10, 5, 0])]
    annotations = [{"id": index, "image_id": image, "category_id": 1, "iscrowd": 0, "num_keypoints": 17,
                    "keypoints": person.reshape(-1).tolist(), "area": 3000.0,
                    "bbox": [person[:, 0].min(), person[:, 1].min(), np.ptp(person[:, 0]), np.ptp(person[:, 1])]}
                   for index, (image, person) in enumerate(people, start=1)]
    return {"images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 150},
                       {"id": 2, "file_name": "b.jpg", "width": 200, "height": 150}],
            "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}


def results() -> list[dict]:
    rng = np.random.default_rng(0)
    found = [(1, PERSON + [0.5, -0.5, 0], 0.9), (1, PERSON + [100 + rng.normal(0, 3), 4, 0], 0.7),
             (2, PERSON + [10, 5, 0] + np.c_[rng.normal(0, 2, (17, 2)), np.zeros(17)], 0.8), (2, PERSON + [60, 20, 0], 0.3)]
    return [{"image_id": image, "category_id": 1, "keypoints": person.reshape(-1).tolist(), "score": score}
            for image, person, score in found]


def test_coco_ap_equals_cocoeval_stats(tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    (tmp_path / "gt.json").write_text(json.dumps(ground_truth()))
    (tmp_path / "results.json").write_text(json.dumps(results()))
    assert eval_main(["coco_AP", "--gt", str(tmp_path / "gt.json"), "--predictions", str(tmp_path / "results.json"),
                      "--output_dir", str(tmp_path / "out")]) == 0
    written = json.loads((tmp_path / "out" / "coco_AP.json").read_text())
    gt = COCO(str(tmp_path / "gt.json"))
    evaluator = COCOeval(gt, gt.loadRes(str(tmp_path / "results.json")), "keypoints")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert list(written) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    np.testing.assert_allclose(list(written.values()), evaluator.stats, rtol=0, atol=1e-12)
    assert 0.3 < written["AP"] < 1.0
    assert (tmp_path / "out" / "coco_AP_precision_recall.png").is_file()


def test_one_of_two_people_found_exactly_gives_51_of_101(tmp_path):
    """One image, two people, one exact prediction: precision 1 up to recall 0.5, then 0 -> AP = 51 / 101 at every
    OKS threshold; AR = 0.5."""
    gt = ground_truth()
    gt["images"] = gt["images"][:1]
    gt["annotations"] = gt["annotations"][:2]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    exact = [{"image_id": 1, "category_id": 1, "keypoints": PERSON.reshape(-1).tolist(), "score": 1.0}]
    (tmp_path / "results.json").write_text(json.dumps(exact))
    assert eval_main(["coco_AP", "--gt", str(tmp_path / "gt.json"), "--predictions", str(tmp_path / "results.json"),
                      "--output_dir", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "coco_AP.json").read_text())
    assert written["AP"] == pytest.approx(51 / 101) and written["AP50"] == pytest.approx(51 / 101)
    assert written["AR"] == pytest.approx(0.5)


def test_bad_predictions_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "gt.json").write_text(json.dumps(ground_truth()))
    (tmp_path / "results.json").write_text(json.dumps([{"image_id": 1, "keypoints": [1, 2], "score": 1}]))
    assert eval_main(["coco_AP", "--gt", str(tmp_path / "gt.json"), "--predictions", str(tmp_path / "results.json"),
                      "--output_dir", str(tmp_path)]) == 1
    assert "51 finite numbers" in capsys.readouterr().err
    assert eval_main(["coco_AP", "--gt", str(tmp_path / "missing.json"), "--predictions",
                      str(tmp_path / "results.json"), "--output_dir", str(tmp_path)]) == 1
    assert "not found" in capsys.readouterr().err
