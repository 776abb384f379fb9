"""`python -m stacked_hourglass.convert_mpii --release FILE.mat [--valid_h5 valid.h5] --output_dir DIR`

MPII's release annotation file (`mpii_human_pose_v1_u12_1.mat`, read by `mpii_release.py`) -> the files the
hourglass commands read, in DIR (put the images in DIR/images/):
  mpii_annotations.json  one record per person that is a sample (keypoints, head box and person box), pytorch-pose's
                         layout: dataset, isValidation, img_paths, objpos, scale_provided, joint_self (16 x [x, y,
                         visible], zeros where not annotated), joint_others / objpos_other / scale_provided_other
                         (the image's other samples, always lists) and numOtherPeople, annolist_index and
                         people_index (1-based, as MATLAB), plus headboxes [[x1, y1], [x2, y2]], cat_name,
                         act_name, act_id, video_id, frame_sec. The validation records come first, in the order below,
                         then the training records in annolist / annorect order. (No img_width / img_height: the
                         release file does not hold image sizes.)
  valid_gt.mat           the validation people as PCKh ground truth in the layout of detections_our_format.mat:
                         pos_gt_src (16, 2, N) px, jnt_missing (16, N), headboxes_src (2, 2, N), dataset_joints,
                         in the order of the JSON's validation records (what `run.py hourglass_mpii` predicts).
Test images (img_train 0) are left out. Validation split:
  --valid_h5  the standard Tompson split (pose-hg-train's annot/valid.h5): each row is matched by image name and
              person position (`imgname`, `person`, 0-based) and checked by its box (`center`, `scale` = objpos with
              y + 15 s, s x 1.25); the validation records are valid.h5's rows in its order, so `--gt valid.h5` and
              valid_gt.mat score the same. Rows not found in the release file are reported.
  otherwise   every `--valid_every`-th training image (the 1st, (N+1)-th, ... of the annolist's training images
              that hold a sample) gives all its samples to validation; the rest train.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import h5py
import numpy as np

from stacked_hourglass.annotations import CONVERTED_GT_NAME, JSON_NAME
from stacked_hourglass.mpii_fields import NUM_JOINTS
from stacked_hourglass.mpii_release import ReleaseImage, ReleasePerson, adjusted_box, read_release
from utils.atomic import atomic_path, write_text_atomic
from utils.cli import Parser, given_options, one_line_errors
from utils.errors import InputError
from utils.run_logging import get_logger

STANDARD_JOINT_CODES = ("rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor", "neck", "head", "rwri", "relb",
                        "rsho", "lsho", "lelb", "lwri")  # dataset_joints of detections_our_format.mat, MPII order
DEFAULT_VALID_EVERY = 6  # about the Tompson split's share (2958 of ~28,900 people)
CENTRE_TOLERANCE_PX = 0.5
SCALE_TOLERANCE = 1e-3  # relative


def read_valid_rows(path: str | Path) -> dict[str, np.ndarray]:
    """imgname (N,) str, person (N,) int, center (N, 2), scale (N,) of a valid.h5-layout file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: valid.h5 not found")
    try:
        with h5py.File(path, "r") as data:
            missing = [key for key in ("imgname", "person", "center", "scale") if key not in data]
            if missing:
                raise InputError(f"{path}: missing the field(s) {missing} (expected pose-hg-train's valid.h5 layout)")
            rows = {key: data[key][()] for key in ("imgname", "person", "center", "scale")}
    except OSError as error:
        raise InputError(f"{path}: cannot be read as HDF5 ({error})") from error
    rows["imgname"] = np.asarray([n.decode() if isinstance(n, bytes) else str(n) for n in rows["imgname"].reshape(-1)])
    rows["person"] = np.asarray(rows["person"]).reshape(-1).astype(int)
    count = len(rows["imgname"])
    for key, shape in (("person", (count,)), ("center", (count, 2)), ("scale", (count,))):
        if np.shape(rows[key]) != shape:
            raise InputError(f"{path}: field '{key}' has shape {np.shape(rows[key])}, expected {shape}")
    return rows


def _same_box(person: ReleasePerson, centre_px: np.ndarray, scale: float) -> bool:
    centre, adjusted_scale = adjusted_box(person)
    return (bool(np.abs(centre - centre_px).max() <= CENTRE_TOLERANCE_PX)
            and abs(adjusted_scale - scale) <= SCALE_TOLERANCE * scale)


def match_valid_rows(images: list[ReleaseImage], rows: dict[str, np.ndarray]) -> tuple[list[ReleasePerson], list[int]]:
    """The release person of each valid.h5 row, in row order (see the module docstring); and the unmatched rows."""
    by_name: dict[str, list[ReleasePerson]] = {}
    for image in images:
        by_name.setdefault(image.name, []).extend(p for p in image.people if p.is_sample)
    matched, unmatched, taken = [], [], set()
    for row, (name, position) in enumerate(zip(rows["imgname"], rows["person"])):
        boxed = [p for p in by_name.get(name, []) if _same_box(p, rows["center"][row], float(rows["scale"][row]))
                 and (p.image_index, p.person_index) not in taken]
        at_position = [p for p in boxed if p.person_index == position]
        found = (at_position or boxed)[:1]
        if found:
            matched.append(found[0])
            taken.add((found[0].image_index, found[0].person_index))
        else:
            unmatched.append(row)
    return matched, unmatched


def every_nth_image(images: list[ReleaseImage], every: int) -> list[ReleasePerson]:
    """The samples of the 1st, (every+1)-th, ... training image that holds a sample, in annolist order."""
    with_samples = [image for image in images if image.is_train and any(p.is_sample for p in image.people)]
    return [p for image in with_samples[::every] for p in image.people if p.is_sample]


def person_record(person: ReleasePerson, image: ReleaseImage, is_validation: bool) -> dict:
    """The JSON record of one sample (layout in the module docstring)."""
    others = [p for p in image.people if p.is_sample and p.person_index != person.person_index]
    return {
        "dataset": "MPI", "isValidation": float(is_validation), "img_paths": person.image_name,
        "objpos": person.objpos_px.tolist(), "scale_provided": person.scale,
        "joint_self": person.joints.tolist(),
        "joint_others": [p.joints.tolist() for p in others],
        "objpos_other": [p.objpos_px.tolist() for p in others],
        "scale_provided_other": [p.scale for p in others],
        "numOtherPeople": float(len(others)),
        "annolist_index": float(image.index + 1), "people_index": float(person.person_index + 1),
        "headboxes": person.head_box_px.tolist(),
        **image.activity, "video_id": image.video_id, "frame_sec": image.frame_sec,
    }


def write_valid_gt(path: Path, people: list[ReleasePerson]) -> None:
    """PCKh ground truth of `people` in the layout of detections_our_format.mat."""
    import scipy.io

    joints = np.stack([p.joints for p in people]) if people else np.zeros((0, NUM_JOINTS, 3))  # (N, 16, 3)
    annotated = np.stack([p.annotated for p in people]) if people else np.zeros((0, NUM_JOINTS), dtype=bool)
    boxes = np.stack([p.head_box_px for p in people]) if people else np.zeros((0, 2, 2))  # (N, 2, 2)
    names = np.empty((1, NUM_JOINTS), dtype=object)
    for index, code in enumerate(STANDARD_JOINT_CODES):
        names[0, index] = np.array([code])
    with atomic_path(path) as temp:
        with open(temp, "wb") as stream:
            scipy.io.savemat(stream, {
                "pos_gt_src": np.ascontiguousarray(joints[..., :2].transpose(1, 2, 0)),  # (16, 2, N)
                "jnt_missing": np.ascontiguousarray((~annotated).T.astype(np.uint8)),  # (16, N)
                "headboxes_src": np.ascontiguousarray(boxes.transpose(1, 2, 0)),  # (2, 2, N)
                "dataset_joints": names})


def convert_release(release: str | Path, output_dir: str | Path, valid_h5: str | Path | None = None,
                    valid_every: int = DEFAULT_VALID_EVERY) -> dict[str, int]:
    """Write DIR/mpii_annotations.json and DIR/valid_gt.mat (see the module docstring); returns counts."""
    logger = get_logger()
    images = read_release(release)
    output_dir = Path(output_dir)
    samples = [p for image in images if image.is_train for p in image.people if p.is_sample]
    if not samples:
        raise InputError(f"{release}: no training image holds a person with keypoints and a head box")
    if valid_h5 is not None:
        rows = read_valid_rows(valid_h5)
        validation, unmatched = match_valid_rows(images, rows)
        if not validation:
            raise InputError(f"{valid_h5}: none of its {len(rows['imgname'])} people is in {release} (matched by "
                             f"image name, person position and box); is it the valid.h5 of another dataset?")
        if unmatched:
            logger.warning(f"{len(unmatched)} of {len(rows['imgname'])} valid.h5 rows are not in the release file "
                           f"(first: row {unmatched[0]}, {rows['imgname'][unmatched[0]]}); the validation split "
                           f"holds the {len(validation)} found, in valid.h5 order")
        split = f"valid.h5's Tompson split ({valid_h5})"
    else:
        if valid_every < 2:
            raise InputError(f"--valid_every must be at least 2, got {valid_every}")
        validation = every_nth_image(images, valid_every)
        split = f"every N-th training image, N = {valid_every}"
    chosen = {(p.image_index, p.person_index) for p in validation}
    training = [p for p in samples if (p.image_index, p.person_index) not in chosen]
    records = ([person_record(p, images[p.image_index], True) for p in validation]
               + [person_record(p, images[p.image_index], False) for p in training])
    write_text_atomic(json.dumps(records) + "\n", output_dir / JSON_NAME)
    write_valid_gt(output_dir / CONVERTED_GT_NAME, validation)
    counts = {"images": len(images), "test_images": sum(not image.is_train for image in images),
              "people": sum(len(image.people) for image in images), "train_people": len(training),
              "valid_people": len(validation)}
    counts["not_samples"] = sum(1 for image in images if image.is_train for p in image.people if not p.is_sample)
    logger.info(f"{release}: {counts['images']} images ({counts['test_images']} test images left out), "
                f"{counts['people']} people; people of training images without keypoints, head box or person box "
                f"(no samples): {counts['not_samples']}")
    logger.info(f"validation ({split}): {len(validation)} people; training: {len(training)} people")
    logger.info(f"wrote {output_dir / JSON_NAME} and {output_dir / CONVERTED_GT_NAME}; put the images in "
                f"{output_dir / 'images'}/")
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m stacked_hourglass.convert_mpii", description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, help="MPII's mpii_human_pose_v1_u12_1.mat")
    parser.add_argument("--valid_h5", default=None,
                        help="pose-hg-train's annot/valid.h5: the standard validation split (default: every "
                             "--valid_every-th training image)")
    parser.add_argument("--valid_every", type=int, default=DEFAULT_VALID_EVERY,
                        help="without --valid_h5: every N-th training image is a validation image")
    parser.add_argument("--output_dir", required=True, help="dataset folder to write into (images go in images/)")
    return parser


def check_options(opts: argparse.Namespace, given: frozenset[str]) -> str | None:
    if opts.valid_h5 and "valid_every" in given:
        return "--valid_every is not read with --valid_h5 (the split is valid.h5's): give one of them"
    return None


@one_line_errors("convert_mpii")
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    opts = parser.parse_args(argv)
    problem = check_options(opts, given_options(parser, argv))
    if problem:
        parser.error(problem)
    convert_release(opts.release, opts.output_dir, opts.valid_h5, opts.valid_every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
