"""MPII's official release file (`mpii_human_pose_v1_u12_1.mat`) read into plain people, whatever its irregularities.

The file holds one struct `RELEASE`: annolist(i) per image (image.name, annorect, frame_sec, vididx), img_train(i)
(1 annotated training image, 0 test image), single_person(i), act(i) (cat_name, act_name, act_id), video_list.
annorect(k) per person: x1 y1 x2 y2 (head box, px), annopoints.point(p) with id (MPII joint 0-15), x, y,
is_visible; scale (person height / 200 px); objpos.x/y (rough person centre, px). How the real file varies, and
what this reader does with it:
- struct arrays differ per image (test images' annorect carry only scale and objpos): every field is optional;
- a single person's annorect (or a single point) loads as one struct instead of an array: both become lists;
- people without annopoints (or without a head box, scale or objpos) are kept but are no training samples;
- unannotated joints are left out of the point list: x = y = 0, annotated False (pytorch-pose's convention);
- is_visible is a number, a character '0'/'1', or empty: empty counts as visible (MPII leaves it empty on joints
  it does not judge, chiefly the upper neck and head top; valid.h5 marks those visible);
- a file without img_train (other writers, e.g. Datumaro's) has only annotated images: all count as training.
Indices here are 0-based positions in annolist / annorect (valid.h5's `index` / `person` use the same).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stacked_hourglass.mpii_fields import NUM_JOINTS
from utils.errors import InputError
from utils.run_logging import progress

RELEASE_NAME = "mpii_human_pose_v1_u12_1.mat"


@dataclass
class ReleasePerson:
    """One annorect entry. joints (16, 3): x, y px and visible (1/0), zeros where not annotated."""

    image_index: int  # 0-based position in annolist
    person_index: int  # 0-based position in the image's annorect
    image_name: str
    joints: np.ndarray  # (16, 3)
    annotated: np.ndarray  # (16,) bool
    objpos_px: np.ndarray | None  # (2,)
    scale: float | None  # person height / 200 px
    head_box_px: np.ndarray | None  # (2, 2) [[x1, y1], [x2, y2]]

    @property
    def is_sample(self) -> bool:
        """A training/validation sample: keypoints, a head box and a person box."""
        return (bool(self.annotated.any()) and self.head_box_px is not None and self.objpos_px is not None
                and self.scale is not None and self.scale > 0)


@dataclass
class ReleaseImage:
    index: int  # 0-based position in annolist
    name: str
    is_train: bool  # img_train (True when the file has no img_train)
    people: list[ReleasePerson]
    activity: dict[str, Any]  # cat_name, act_name (str, '' when empty), act_id (int, -1 when none)
    video_id: str  # '' when none
    frame_sec: int | None


def as_list(value: Any) -> list:
    """A MATLAB struct array / cell as loaded with squeeze_me: one struct, an array of them, or empty -> list."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        return [] if value.size == 0 else list(value.reshape(-1))
    return [value]


def _number(value: Any) -> float | None:
    """A scalar field (possibly empty, a 1x1 array or a character) as float, else None."""
    if isinstance(value, np.ndarray):
        if value.size != 1:
            return None
        value = value.reshape(-1)[0]
    if isinstance(value, (str, bytes)):
        value = value.decode() if isinstance(value, bytes) else value
        try:
            return float(value.strip().strip("'\""))
        except ValueError:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "" if value.size == 0 else str(value.reshape(-1)[0])
    return "" if value is None else str(value)


def _field(struct: Any, name: str) -> Any:
    return getattr(struct, name, None) if hasattr(struct, "_fieldnames") and name in struct._fieldnames else None


def visibility(value: Any) -> int:
    """is_visible as 1/0: a number, a character '0'/'1', or empty (= visible, see the module docstring)."""
    number = _number(value)
    if number is None:
        return 1
    return int(number > 0)


def read_person(rect: Any, image_index: int, person_index: int, image_name: str, path: Path) -> ReleasePerson:
    joints = np.zeros((NUM_JOINTS, 3))
    annotated = np.zeros(NUM_JOINTS, dtype=bool)
    annopoints = _field(rect, "annopoints")
    points = as_list(_field(annopoints, "point")) if hasattr(annopoints, "_fieldnames") else []
    for point in points:
        joint, x, y = (_number(_field(point, name)) for name in ("id", "x", "y"))
        if joint is None or x is None or y is None:
            continue
        if not (0 <= joint < NUM_JOINTS and joint == int(joint)):
            raise InputError(f"{path}: annolist({image_index + 1}).annorect({person_index + 1}) has a point with "
                             f"id {joint}; expected an MPII joint id 0-{NUM_JOINTS - 1}")
        joints[int(joint)] = (x, y, visibility(_field(point, "is_visible")))
        annotated[int(joint)] = True
    box = [_number(_field(rect, name)) for name in ("x1", "y1", "x2", "y2")]
    objpos = _field(rect, "objpos")
    centre = [_number(_field(objpos, axis)) for axis in ("x", "y")] if hasattr(objpos, "_fieldnames") else [None]
    return ReleasePerson(image_index, person_index, image_name, joints, annotated,
                         None if None in centre else np.asarray(centre, dtype=np.float64),
                         _number(_field(rect, "scale")),
                         None if None in box else np.asarray(box, dtype=np.float64).reshape(2, 2))


def _per_image(release: Any, name: str, count: int, path: Path) -> list:
    """A per-image field of RELEASE (img_train, single_person, act) as a list of `count` entries, or Nones."""
    values = _field(release, name)
    if values is None:
        return [None] * count
    listed = as_list(values)
    if len(listed) != count:
        raise InputError(f"{path}: RELEASE.{name} has {len(listed)} entries for {count} images in annolist")
    return listed


def read_release(path: str | Path) -> list[ReleaseImage]:
    """Every image of a release file (test images included, flagged by is_train False), in annolist order."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: release file not found (MPII's {RELEASE_NAME})")
    import scipy.io

    try:
        data = scipy.io.loadmat(str(path), struct_as_record=False, squeeze_me=True)
    except Exception as error:  # scipy raises several types for a bad file
        raise InputError(f"{path}: cannot be read as a MATLAB .mat file ({error})") from error
    if "RELEASE" not in data or not hasattr(data["RELEASE"], "_fieldnames"):
        variables = sorted(k for k in data if not k.startswith("__"))
        hint = (" (that is the PCKh ground-truth layout, not the release file)" if "pos_gt_src" in variables else "")
        raise InputError(f"{path}: not an MPII release file: expected a struct 'RELEASE' (with annolist, img_train, "
                         f"act, ...), found the variables {variables}{hint}")
    release = data["RELEASE"]
    if "annolist" not in release._fieldnames:
        raise InputError(f"{path}: RELEASE has no field 'annolist' (the per-image annotations); found "
                         f"{list(release._fieldnames)}")
    annolist = as_list(release.annolist)
    if not annolist:
        raise InputError(f"{path}: RELEASE.annolist is empty")
    count = len(annolist)
    train, acts = _per_image(release, "img_train", count, path), _per_image(release, "act", count, path)
    videos = [_text(v) for v in as_list(_field(release, "video_list"))]
    images = []
    for index, (entry, is_train, act) in enumerate(progress(zip(annolist, train, acts), total=count, desc="images")):
        name = _text(_field(_field(entry, "image"), "name"))
        if not name:
            raise InputError(f"{path}: annolist({index + 1}) has no image.name")
        people = [read_person(rect, index, k, name, path) for k, rect in enumerate(as_list(_field(entry, "annorect")))]
        act_id = _number(_field(act, "act_id"))
        video = _number(_field(entry, "vididx"))
        frame = _number(_field(entry, "frame_sec"))
        images.append(ReleaseImage(
            index, name, True if is_train is None else bool(_number(is_train)), people,
            {"cat_name": _text(_field(act, "cat_name")), "act_name": _text(_field(act, "act_name")),
             "act_id": -1 if act_id is None else int(act_id)},
            videos[int(video) - 1] if video is not None and 1 <= video <= len(videos) else "",
            None if frame is None else int(frame)))
    return images


def head_size_px(box_px: np.ndarray) -> float:
    """PCKh normaliser of a head box [[x1, y1], [x2, y2]]: 0.6 x its diagonal, px (valid.h5's `normalize`)."""
    return 0.6 * float(np.linalg.norm(box_px[1] - box_px[0]))


def adjusted_box(person: ReleasePerson) -> tuple[np.ndarray, float]:
    """The hourglass papers' person box: centre = objpos with y + 15 * s, scale s * 1.25 (valid.h5's center/scale)."""
    return person.objpos_px + np.array([0.0, 15.0 * person.scale]), 1.25 * person.scale
