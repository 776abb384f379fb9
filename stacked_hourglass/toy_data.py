"""A small MPII-format dataset of stick figures, for tests and benchmarks (not for accuracy claims).

`write_toy_mpii(root, ...)` writes root/images/*.jpg, root/mpii_annotations.json (pytorch-pose records with
`headboxes`), root/annot/valid.h5 and root/detections_our_format.mat (validation people, in the same order), i.e.
the layout that `--data_dir` and `eval.py mpii_PCKh` read.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import scipy.io

from utils.skeletons import MPII

# Joints relative to the pelvis, in units of the person's height (x right on screen, y down).
TEMPLATE = np.array([
    [-0.10, 0.45], [-0.10, 0.25], [-0.08, 0.00], [0.08, 0.00], [0.10, 0.25], [0.10, 0.45], [0.00, 0.00],
    [0.00, -0.30], [0.00, -0.35], [0.00, -0.52], [-0.30, -0.05], [-0.20, -0.17], [-0.12, -0.30], [0.12, -0.30],
    [0.20, -0.17], [0.30, -0.05]])
LIMB_COLOURS = np.random.default_rng(7).integers(40, 255, size=(MPII.num_joints, 3))


def random_person(rng: np.random.Generator, height_px: float, pelvis_px: np.ndarray) -> np.ndarray:
    """(16, 2) image px: the template, jittered, mirrored or not, scaled to `height_px` around `pelvis_px`."""
    pose = TEMPLATE + rng.normal(0.0, 0.05, size=TEMPLATE.shape)
    if rng.random() < 0.5:  # seen from the back: left and right swap sides on screen
        pose[:, 0] *= -1.0
    angle = np.deg2rad(rng.normal(0.0, 10.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return pelvis_px + height_px * pose @ rotation.T


def draw_person(image: np.ndarray, joints_px: np.ndarray, thickness: int) -> None:
    for child, parent in enumerate(MPII.parents):
        if parent >= 0:
            a, b = (tuple(int(round(v)) for v in joints_px[j]) for j in (parent, child))
            cv2.line(image, a, b, tuple(int(c) for c in LIMB_COLOURS[child]), thickness, cv2.LINE_AA)
    for joint, point in enumerate(joints_px):
        colour = tuple(int(255 - c) for c in LIMB_COLOURS[joint])
        cv2.circle(image, tuple(int(round(v)) for v in point), max(1, thickness), colour, -1, cv2.LINE_AA)


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth colour gradient with mild noise (JPEG sizes like photographs)."""
    corners = rng.integers(0, 255, size=(2, 2, 3)).astype(np.float32)
    image = cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR)
    image += rng.normal(0.0, 4.0, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_toy_mpii(root: str | Path, images: int = 12, people_per_image: int = 1, validation_images: int = 4,
                   size: tuple[int, int] = (160, 120), height_range: tuple[float, float] = (0.6, 0.9),
                   seed: int = 0, quality: int = 90) -> Path:
    """Write the dataset; returns root. `size` is (width, height) px; person heights are a fraction of it."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    records = []
    for image_index in range(images):
        name = f"{image_index:09d}.jpg"
        image = background(rng, width, height)
        for person in range(people_per_image):
            person_height = rng.uniform(*height_range) * height
            pelvis = np.array([rng.uniform(0.3, 0.7) * width, rng.uniform(0.45, 0.55) * height])
            if people_per_image > 1:
                pelvis[0] = (person + 0.5) / people_per_image * width
            joints = random_person(rng, person_height, pelvis)
            draw_person(image, joints, thickness=max(1, int(person_height / 40)))
            head = joints[MPII.index("head_top")]
            half = 0.08 * person_height
            records.append({
                "dataset": "MPI", "isValidation": float(image_index < validation_images), "img_paths": name,
                "img_width": float(width), "img_height": float(height),
                "objpos": [float(pelvis[0]), float(pelvis[1] - 0.1 * person_height)],
                "joint_self": [[float(x), float(y), 1.0] for x, y in joints],
                "scale_provided": float(person_height / 200.0),
                "headboxes": [[float(head[0] - half), float(head[1])], [float(head[0] + half), float(head[1] + 2 * half)]],
                "annolist_index": float(image_index), "people_index": float(person), "numOtherPeople": 0.0,
            })
        cv2.imwrite(str(root / "images" / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, quality])
    (root / "mpii_annotations.json").write_text(json.dumps(records))
    if validation_images:
        write_validation_truth(root, [r for r in records if r["isValidation"]])
    return root


def write_validation_truth(root: Path, records: list[dict]) -> None:
    """annot/valid.h5 and detections_our_format.mat for the validation records, in their order."""
    joints = np.array([[j[:2] for j in r["joint_self"]] for r in records])  # (N, 16, 2)
    scale = np.array([r["scale_provided"] for r in records])
    center = np.array([r["objpos"] for r in records]) + np.stack([0 * scale, 15 * scale], 1)
    boxes = np.array([r["headboxes"] for r in records])  # (N, 2, 2)
    head_size = 0.6 * np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1)
    (root / "annot").mkdir(exist_ok=True)
    with h5py.File(root / "annot" / "valid.h5", "w") as out:
        out["imgname"] = np.array([r["img_paths"] for r in records], dtype="S13")
        out["center"], out["scale"], out["part"] = center, scale * 1.25, joints
        out["visible"] = np.ones(joints.shape[:2])
        out["normalize"] = head_size
    scipy.io.savemat(root / "detections_our_format.mat", {
        "pos_gt_src": joints.transpose(1, 2, 0), "jnt_missing": np.zeros((16, len(records)), dtype=np.uint8),
        "headboxes_src": boxes.transpose(1, 2, 0)})
