"""Write MPII-style annotations: the record JSON, `annot/valid.h5` and `detections_our_format.mat`.

Layouts and conventions are those of specimens/mpii (see ../shared/specimens/README.md): record keys and value types
of `mpii_annotations.json` (plus "headboxes"), 1-based `annolist_index` / `people_index` stored as floats, missing
joints written as [0, 0, 0]; valid.h5 with centre y + 15 x scale and scale x 1.25 already applied.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from synthetic.mpii_scene import MpiiPerson

MPII_JOINT_CODES = ("rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor", "neck", "head", "rwri", "relb",
                    "rsho", "lsho", "lelb", "lwri")
_EMPTY = {"_ArrayType_": "double", "_ArraySize_": [0, 0], "_ArrayData_": None}  # MATLAB's empty array, as exported


@dataclass(frozen=True)
class MpiiImageRecord:
    """What the generator keeps of one written image."""

    file_name: str  # relative to mpii/images/
    width: int
    height: int
    is_validation: bool
    people: list[MpiiPerson]


def _round(values: np.ndarray, digits: int = 3) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def _joints(person: MpiiPerson) -> list[list[float]]:
    """16 x [x, y, visible]; joints outside the image are not annotated: [0, 0, 0]."""
    rows = np.concatenate([person.joints_px, person.visible[:, None]], axis=1)
    rows[~person.inside] = 0.0
    return _round(rows)


def _others(values: list) -> object:
    """The specimen's encoding of the other people's fields: empty -> MATLAB empty, one -> bare, more -> list."""
    if not values:
        return dict(_EMPTY)
    return values[0] if len(values) == 1 else values


def person_records(images: list[MpiiImageRecord]) -> list[dict]:
    """One record per person, images in order, the specimen's keys in the specimen's order plus "headboxes"."""
    records = []
    for image_number, image in enumerate(images, start=1):
        for person_number, person in enumerate(image.people, start=1):
            others = [other for other in image.people if other is not person]
            records.append({
                "dataset": "MPI",
                "isValidation": float(image.is_validation),
                "img_paths": image.file_name,
                "img_width": float(image.width),
                "img_height": float(image.height),
                "objpos": _round(person.objpos_px),
                "joint_self": _joints(person),
                "scale_provided": round(person.scale, 3),
                "joint_others": _others([_joints(other) for other in others]),
                "scale_provided_other": _others([round(other.scale, 3) for other in others]),
                "objpos_other": _others([_round(other.objpos_px) for other in others]),
                "annolist_index": float(image_number),
                "people_index": float(person_number),
                "numOtherPeople": float(len(others)),
                "headboxes": _round(person.headbox_px),
            })
    return records


def validation_arrays(records: list[dict]) -> dict[str, np.ndarray]:
    """The valid.h5 fields of the records with isValidation == 1, in record order."""
    val = [record for record in records if record["isValidation"] == 1.0]
    joints = np.array([record["joint_self"] for record in val], dtype=np.float64).reshape(-1, 16, 3)
    objpos = np.array([record["objpos"] for record in val], dtype=np.float64).reshape(-1, 2)
    scale = np.array([record["scale_provided"] for record in val], dtype=np.float64)
    headboxes = np.array([record["headboxes"] for record in val], dtype=np.float64).reshape(-1, 2, 2)
    torso = joints[:, 7, :2] - joints[:, 6, :2]
    annotated = (joints[:, 7, :2] != 0).any(-1) & (joints[:, 6, :2] != 0).any(-1)
    names = [record["img_paths"].encode("ascii") for record in val]
    return {
        "imgname": np.array(names, dtype=f"S{max((len(name) for name in names), default=13)}"),
        "center": objpos + np.stack([np.zeros_like(scale), 15 * scale], axis=1),
        "scale": scale * 1.25,
        "part": joints[..., :2],
        "visible": joints[..., 2],
        "normalize": 0.6 * np.linalg.norm(headboxes[:, 1] - headboxes[:, 0], axis=1),
        "index": np.array([record["annolist_index"] - 1 for record in val], dtype=np.float64),
        "person": np.array([record["people_index"] - 1 for record in val], dtype=np.float64),
        "torsoangle": np.where(annotated, np.degrees(np.arctan2(torso[:, 0], -torso[:, 1])), 0.0),
        "missing": (joints[..., :2] == 0).all(-1),
        "headboxes": headboxes,
    }


def write_valid_h5(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with h5py.File(path, "w") as handle:
        for key in ("center", "imgname", "index", "normalize", "part", "person", "scale", "torsoangle", "visible"):
            handle.create_dataset(key, data=arrays[key])


def write_detections_mat(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Ground truth in the layout of the standard PCKh script, with a fixed header so the bytes are reproducible."""
    names = np.empty((1, 16), dtype=object)
    for index, code in enumerate(MPII_JOINT_CODES):
        names[0, index] = np.array([code])
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {
        "pos_gt_src": np.ascontiguousarray(arrays["part"].transpose(1, 2, 0)),
        "jnt_missing": np.ascontiguousarray(arrays["missing"].T.astype(np.uint8)),
        "headboxes_src": np.ascontiguousarray(arrays["headboxes"].transpose(1, 2, 0)),
        "dataset_joints": names,
    })
    data = bytearray(buffer.getvalue())
    header = b"MATLAB 5.0 MAT-file, written by stitchpose synthetic"
    data[:116] = header.ljust(116, b" ")  # savemat stamps the creation time here
    path.write_bytes(bytes(data))


def write_mpii_annotations(mpii_dir: Path, images: list[MpiiImageRecord]) -> dict[str, int]:
    """Write mpii_annotations.json, annot/valid.h5 and detections_our_format.mat; returns counts."""
    records = person_records(images)
    (mpii_dir / "mpii_annotations.json").write_text(json.dumps(records, separators=(", ", ": ")) + "\n")
    arrays = validation_arrays(records)
    (mpii_dir / "annot").mkdir(parents=True, exist_ok=True)
    write_valid_h5(mpii_dir / "annot" / "valid.h5", arrays)
    write_detections_mat(mpii_dir / "detections_our_format.mat", arrays)
    validation = sum(record["isValidation"] == 1.0 for record in records)
    return {"mpii_images": len(images), "mpii_people": len(records), "mpii_train_people": len(records) - validation,
            "mpii_val_people": validation}
