"""Boxes files: both layouts, COCO score filtering, images without a box, and one-line errors for bad entries."""
import json

import cv2
import numpy as np
import pytest

from stacked_hourglass.boxes import read_boxes, square_crops
from stacked_hourglass.inputs import folder_records
from utils.errors import InputError

IMAGES = ["000000000139.jpg", "000000000285.jpg", "b.png"]


def write(tmp_path, content, name="boxes.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_corners_and_coco_give_the_same_boxes(tmp_path):
    corners = read_boxes(write(tmp_path, {"b.png": [[10, 20, 50, 100]], "000000000139.jpg": []}), IMAGES)
    assert corners.layout == "corners" and corners.image_names.tolist() == ["b.png"]
    assert corners.corners_px.tolist() == [[10, 20, 50, 100]]
    coco = read_boxes(write(tmp_path, [
        {"image_id": 139, "category_id": 1, "bbox": [10, 20, 40, 80], "score": 0.9},
        {"image_id": 139, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.2},  # below the threshold
        {"image_id": 285, "category_id": 18, "bbox": [0, 0, 50, 50], "score": 0.99},  # a dog
        {"file_name": "b.png", "category_id": 1, "bbox": [1.5, 2, 3, 4], "score": 0.5}]), IMAGES, min_score=0.3)
    assert coco.layout == "coco" and coco.image_names.tolist() == ["000000000139.jpg", "b.png"]
    assert coco.corners_px.tolist() == [[10, 20, 50, 100], [1.5, 2, 4.5, 6]]
    assert coco.scores.tolist() == [0.9, 0.5]
    center, side = square_crops(coco.corners_px[:1])
    assert center.tolist() == [[30, 60]] and side.tolist() == [100.0]  # 1.25 x the longer side (80)


@pytest.mark.parametrize("content, message", [
    ("[1, 2, 3, 4]", "neither"),
    ('["a.jpg"]', "neither"),
    ('{"a.jpg": "box"}', "entry 'a.jpg': expected a list of boxes"),
    ('{"a.jpg": [1, 2, 3, 4]}', "entry 'a.jpg': expected a list of boxes"),
    ('{"a.jpg": [[1, 2, 3]]}', "entry 'a.jpg', box 0: box \\[1, 2, 3\\] is not \\[x1, y1, x2, y2\\]"),
    ('{"a.jpg": [["1", 2, 3, 4]]}', "box 0: box"),
    ('{"a.jpg": [[0, 0, 10, 10], [5, 5, 5, 9]]}', "box 1: .* zero or negative size"),
    ('{"a.jpg": [[0, 0, 1e9, 10]]}', "beyond"),
    ('{"a.jpg": [[0, 0, NaN, 10]]}', "non-finite"),
    ('[{"image_id": 139, "bbox": [0, 0, 0, 10], "score": 1}]', "entry 0: .* zero or negative size"),
    ('[{"image_id": 7, "bbox": [0, 0, 1, 1]}]', "entry 0: image_id 7: no image"),
    ('[{"bbox": [0, 0, 1, 1]}]', "entry 0: .* is not a COCO detection"),
    ('[{"image_id": 139, "bbox": [0, 0, 1, 1]}, "a.jpg"]', "entry 1: \"a.jpg\" is not a COCO detection"),
    ('[{"image_id": 139, "bbox": [0, 0, 1, 1], "score": "high"}]', "entry 0: score"),
    ('{"../secret.jpg": [[0, 0, 1, 1]]}', "leads out of the image folder"),
    ('{"/etc/a.jpg": [[0, 0, 1, 1]]}', "leads out of the image folder"),
    ('[{"file_name": "../a.jpg", "bbox": [0, 0, 1, 1]}]', "entry 0: .*leads out"),
    ("{not json", "cannot be read as a JSON boxes file"),
])
def test_bad_boxes_files_are_one_line_errors_naming_file_and_entry(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(InputError, match=message) as error:
        read_boxes(path, IMAGES)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_paths_outside_are_read_when_allowed(tmp_path):
    boxes = read_boxes(write(tmp_path, {"../b.png": [[0, 0, 2, 2]]}), IMAGES, allow_outside=True)
    assert boxes.image_names.tolist() == ["../b.png"]


def test_images_without_a_box_are_warned_about_or_run_whole(tmp_path, capsys):
    for name, (width, height) in zip(IMAGES, [(40, 30), (20, 60), (10, 10)]):
        cv2.imwrite(str(tmp_path / name), np.zeros((height, width, 3), np.uint8))
    boxes = write(tmp_path, {"b.png": [[0, 0, 8, 4]]}, "boxes.json")
    records = folder_records(tmp_path, str(boxes))
    assert records.image_names.tolist() == ["b.png"]
    log = capsys.readouterr().out
    assert "2 images" in log and "first: 000000000139.jpg" in log and "boxes as {image: [[x1, y1, x2, y2], ...]}" in log
    records = folder_records(tmp_path, str(boxes), whole_image_without_box=True)
    assert records.image_names.tolist() == ["b.png", "000000000139.jpg", "000000000285.jpg"]
    assert records.center_px.tolist() == [[4, 2], [19.5, 14.5], [9.5, 29.5]]
    assert records.box_px.tolist() == [10.0, 40.0, 60.0]
