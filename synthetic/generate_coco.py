"""Generate the synthetic COCO person-keypoints split: multi-person photos in the layout of COCO 2017.

    ROOT/coco/annotations/person_keypoints_{train,val}2017.json
    ROOT/coco/{train,val}2017/<12 digits>.jpg

The photos are drawn by the MPII photo renderer (1-3 people, occluders, chairs) at 256 x 256, at full render
scale (the small faces keep their eyes), from random streams of their own ([seed, 20, image number]), so the
MPII and Human3.6M files of a dataset are the same bytes whether or not this split was ever made.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from synthetic.coco_scene import COCO_KEYPOINT_NAMES, COCO_SKELETON, CocoPerson, coco_people
from synthetic.generate import _executor, _results, _write_jpeg
from synthetic.mpii_scene import render_mpii_image

from synthetic.cache import COCO_GENERATOR_VERSION
IMAGE_SIZE = (256, 256)  # (width, height) px
PEOPLE_WEIGHTS = (0.25, 0.4, 0.35)  # chance of 1, 2, 3 people per photo: denser than the MPII split
SPLITS = ("train", "val")


@dataclass(frozen=True)
class CocoSizeConfig:
    name: str
    train_images: int
    val_images: int


COCO_SIZES = {"tiny": CocoSizeConfig("tiny", 12, 6), "small": CocoSizeConfig("small", 1600, 200),
              "medium": CocoSizeConfig("medium", 6000, 500)}


def image_id(split: str, number: int) -> int:
    """COCO image ids: train from 1, val from 1,000,001 (unique over both files, as in COCO)."""
    return number + 1 + (1_000_000 if split == "val" else 0)


def _task(out_dir: str, seed: int, split: str, numbers: list[int]) -> tuple[str, list]:
    import cv2

    cv2.setNumThreads(1)
    made = []
    for number in numbers:
        rng = np.random.default_rng([seed, 20, SPLITS.index(split), number])
        people = int(rng.choice(3, p=PEOPLE_WEIGHTS)) + 1
        photo = render_mpii_image(rng, size=IMAGE_SIZE, num_people=people, render_scale=1.0)
        name = f"{image_id(split, number):012d}.jpg"
        _write_jpeg(Path(out_dir) / f"{split}2017" / name, photo.image)
        made.append((image_id(split, number), name, photo.image.shape[1], photo.image.shape[0], coco_people(photo)))
    return split, made


def annotation(person: CocoPerson, annotation_id: int, image: int) -> dict:
    """One COCO keypoint annotation; unlabelled keypoints are [0, 0, 0], as in COCO."""
    rows = np.concatenate([person.keypoints_px, person.flags[:, None]], axis=1)
    rows[person.flags == 0] = 0
    keypoints = [round(float(v), 2) if i % 3 < 2 else int(v) for i, v in enumerate(rows.reshape(-1))]
    return {"id": annotation_id, "image_id": image, "category_id": 1, "iscrowd": 0,
            "num_keypoints": int((person.flags > 0).sum()), "keypoints": keypoints,
            "bbox": [round(float(v), 2) for v in person.bbox_px], "area": round(person.area_px, 2),
            "segmentation": []}


def coco_document(images: list, split: str) -> dict:
    """The person_keypoints file of one split: info, images, annotations, categories."""
    annotations, records = [], []
    for number, name, width, height, people in sorted(images):
        records.append({"id": number, "file_name": name, "width": width, "height": height})
        annotations += [annotation(person, 0, number) for person in people]
    for index, item in enumerate(annotations, start=1):
        item["id"] = index
    category = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_KEYPOINT_NAMES),
                "skeleton": [list(pair) for pair in COCO_SKELETON]}
    return {"info": {"description": f"stitchpose synthetic people, {split} split", "version": COCO_GENERATOR_VERSION},
            "images": records, "annotations": annotations, "categories": [category]}


def generate_coco(out_dir: str | Path, size: str = "small", seed: int = 0, workers: int = 2,
                  progress: bool = True) -> dict:
    """Write the COCO split into `out_dir`/coco; returns the contents of `out_dir`/info.json."""
    config, out_dir = COCO_SIZES[size], Path(out_dir)
    coco = out_dir / "coco"
    (coco / "annotations").mkdir(parents=True, exist_ok=True)
    counts = {"train": config.train_images, "val": config.val_images}
    tasks = [("coco", (str(coco), seed, split, list(range(start, min(start + 8, counts[split])))))
             for split in SPLITS for start in range(0, counts[split], 8)]
    made: dict[str, list] = {split: [] for split in SPLITS}
    with _executor(workers) as executor, tqdm(total=sum(counts.values()), desc=f"synthetic coco {size}", unit="img",
                                              disable=not progress) as bar:
        pending = {executor.submit(run_coco_task, task): task for task in tasks}
        for split, items in _results(executor, pending, run_coco_task):
            made[split] += items
            bar.update(len(items))
    info = {"generator": "stitchpose.synthetic.coco", "version": COCO_GENERATOR_VERSION, "size": size, "seed": seed,
            "config": asdict(config)}
    for split in SPLITS:
        document = coco_document(made[split], split)
        (coco / "annotations" / f"person_keypoints_{split}2017.json").write_text(json.dumps(document))
        info[f"{split}_people"] = len(document["annotations"])
    (out_dir / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def run_coco_task(task: tuple) -> tuple[str, list]:
    return _task(*task[1])
