"""The synthetic COCO split: layout, fields, face points on the drawn head; the COCO reader's errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bottom_up.coco_data import load_coco_split
from synthetic.body import CROWN, NOSE
from synthetic.coco_scene import face_points
from utils.errors import InputError


def test_synthetic_split_has_the_coco_fields(tiny_coco):
    document = json.loads((tiny_coco / "annotations" / "person_keypoints_val2017.json").read_text())
    category = document["categories"][0]
    assert category["id"] == 1 and category["name"] == "person" and len(category["keypoints"]) == 17
    assert category["keypoints"][:3] == ["nose", "left_eye", "right_eye"] and len(category["skeleton"]) == 19
    assert len(document["images"]) == 6
    for item in document["annotations"]:
        keypoints = np.asarray(item["keypoints"]).reshape(17, 3)
        assert set(keypoints[:, 2]) <= {0, 1, 2} and item["num_keypoints"] == int((keypoints[:, 2] > 0).sum())
        assert item["iscrowd"] == 0 and item["category_id"] == 1 and item["area"] > 0
        x, y, w, h = item["bbox"]
        labelled = keypoints[keypoints[:, 2] > 0, :2]
        assert (labelled >= [x - 3, y - 3]).all() and (labelled <= [x + w + 3, y + h + 3]).all()
        assert w * h >= item["area"]  # the mask lies inside its box
    images = load_coco_split(tiny_coco, "val")
    assert all(item.path.is_file() for item in images) and sum(len(i.keypoints) for i in images) == len(
        document["annotations"])


def test_face_points_lie_on_the_head_sphere_and_left_is_left():
    points = np.zeros((34, 3))
    points[14], points[15] = [0, -1500, 3000], [0, -1600, 3000]  # neck, head (camera y down: up is -y)
    points[CROWN] = points[15] + 0.7 * (points[15] - points[14])
    points[NOSE] = points[15] + [0, 0, -75]  # facing the camera (-z)
    points[17], points[25] = [150, -1450, 3000], [-150, -1450, 3000]  # left shoulder at +x
    face = face_points(points)
    centre = (points[14] * 0.25 + points[15] * 1.75) / 2
    np.testing.assert_allclose(np.linalg.norm(face[1:] - centre, axis=1), 72.0, rtol=1e-9)  # 0.72 x 100 mm bone
    assert face[1, 0] > 0 > face[2, 0] and face[3, 0] > 0 > face[4, 0]  # left eye / ear on the left shoulder's side
    assert (face[1:3, 2] < centre[2]).all() and face[1, 1] < centre[1]  # eyes in front, a little above the centre


def test_reader_errors_name_file_and_field(tmp_path):
    (tmp_path / "annotations").mkdir()
    path = tmp_path / "annotations" / "person_keypoints_val2017.json"
    with pytest.raises(InputError, match="not found"):
        load_coco_split(tmp_path, "val")
    path.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
                                "annotations": [{"id": 7, "image_id": 1, "keypoints": [1, 2, 2]}]}))
    with pytest.raises(InputError, match="annotation 7 field 'keypoints'"):
        load_coco_split(tmp_path, "val")
    path.write_text("{")
    with pytest.raises(InputError, match="not a JSON"):
        load_coco_split(tmp_path, "val")
