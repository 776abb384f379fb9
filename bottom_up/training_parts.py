"""What `train.py hourglass_coco` and `train.py distill_hourglass` share: options, model config, data, validation."""
from __future__ import annotations

import argparse

import numpy as np
import torch

from bottom_up.checkpoint import OUTPUTS
from bottom_up.codec import AssociativeEmbeddingCodec
from bottom_up.coco_data import CocoImage, annotation_path, load_coco_split, read_json
from bottom_up.coco_metrics import coco_keypoint_eval
from bottom_up.dataset import CocoAugment, CocoKeypointDataset
from bottom_up.grouping import GroupingSettings
from bottom_up.inference import InferenceSettings, coco_results, detect_people
from stacked_hourglass.images import read_image
from stacked_hourglass.model import HourglassConfig

METRIC = "AP"


def add_model_options(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("bottom-up hourglass model")
    model.add_argument("--stacks", type=int, default=2, help="hourglass modules")
    model.add_argument("--blocks", type=int, default=1, help="residual blocks per hourglass level")
    model.add_argument("--features", type=int, default=128, help="channels through the hourglasses")
    model.add_argument("--early_pool", action="store_true", help="max-pool right after the 7x7 stem conv")
    model.add_argument("--input_res", type=int, default=256, help="square input side px (the whole image)")
    model.add_argument("--remove_intermediate_supervision", action="store_true",
                       help="supervise only the last stack")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("bottom-up data (COCO person keypoints)")
    data.add_argument("--sigma", type=float, default=2.0, help="target Gaussian std, heatmap px")
    data.add_argument("--max_people", type=int, default=30, help="people per image in the grouping loss")
    data.add_argument("--pull_weight", type=float, default=1e-3, help="weight of the associative-embedding pull")
    data.add_argument("--push_weight", type=float, default=1e-3, help="weight of the associative-embedding push")
    data.add_argument("--augment_training_data", action=argparse.BooleanOptionalAction, default=True,
                      help="random scale, rotation, shift (+-10 %% of the input) and left-right flip")
    data.add_argument("--scale_range", type=float, nargs=2, default=[0.75, 1.25], metavar=("LOW", "HIGH"),
                      help="augmentation: image scale uniform in [LOW, HIGH]")
    data.add_argument("--max_rotation", type=float, default=30.0,
                      help="augmentation: rotation uniform in +-N degrees")
    data.add_argument("--flip_prob", type=float, default=0.5, help="augmentation: chance of a left-right mirror")
    data.add_argument("--train_limit", type=int, default=None, help="train on the first N images only")
    data.add_argument("--valid_limit", type=int, default=100, help="validate (AP) on the first N val images")
    data.add_argument("--validate_every", type=int, default=1,
                      help="validate (AP, which picks best.pt) every N epochs, and after the last")
    optim = parser.add_argument_group("bottom-up optimisation")
    optim.add_argument("--max_train_minutes", type=float, default=None,
                       help="stop after the epoch running when this much time has passed; the cosine learning "
                            "rate anneals over this budget")
    parser.set_defaults(lr=1e-3, batch_size=8, epochs=50)


def model_config(opts: argparse.Namespace) -> HourglassConfig:
    return HourglassConfig(stacks=opts.stacks, blocks=opts.blocks, features=opts.features,
                           early_pool=opts.early_pool, num_joints=OUTPUTS, input_res=opts.input_res,
                           intermediate_supervision=not opts.remove_intermediate_supervision)


def image_mean_std(images: list[CocoImage], count: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel RGB mean and std in [0, 1] over the first `count` readable images."""
    sums, squares, pixels = np.zeros(3), np.zeros(3), 0
    for item in images[:count]:
        image = read_image(item.path)
        if image is None:
            continue
        values = image.reshape(-1, 3).astype(np.float64) / 255
        sums, squares, pixels = sums + values.sum(0), squares + (values ** 2).sum(0), pixels + len(values)
    if not pixels:
        return np.full(3, 0.5), np.full(3, 0.25)
    mean = sums / pixels
    return mean, np.sqrt(np.maximum(squares / pixels - mean ** 2, 1e-6))


def build_data(opts, root, codec: AssociativeEmbeddingCodec):
    train_images = load_coco_split(root, "train", opts.train_limit)
    valid_images = load_coco_split(root, "val", opts.valid_limit)
    augment = (CocoAugment(tuple(opts.scale_range), opts.max_rotation, flip_prob=opts.flip_prob)
               if opts.augment_training_data else None)
    return CocoKeypointDataset(train_images, codec, augment, opts.seed), valid_images


def data_options_problem(opts: argparse.Namespace) -> str | None:
    low, high = opts.scale_range
    if not 0 < low <= high:
        return f"--scale_range needs 0 < LOW <= HIGH, got {low} {high}"
    if not 0 <= opts.max_rotation <= 180 or not 0 <= opts.flip_prob <= 1:
        return "--max_rotation must be in [0, 180] degrees and --flip_prob in [0, 1]"
    if opts.validate_every < 1:
        return f"--validate_every must be >= 1, got {opts.validate_every}"
    return None


def make_validate(root, valid_images: list[CocoImage], codec, mean_t, std_t, device):
    """validate(model) -> {AP, AP50, AP75, AR} on the validation images (single scale, flip test)."""
    gt = read_json(annotation_path(root, "val"))
    kept = {item.image_id for item in valid_images}
    gt = {**gt, "images": [r for r in gt["images"] if r["id"] in kept],
          "annotations": [a for a in gt["annotations"] if a["image_id"] in kept]}
    settings = InferenceSettings(flip=True, grouping=GroupingSettings(max_people=codec.max_people))

    def validate(model: torch.nn.Module) -> dict[str, float]:
        results = []
        for item in valid_images:
            image = read_image(item.path)
            if image is None:
                continue
            keypoints, scores = detect_people(model, image, codec, mean_t, std_t, settings, device)
            results += coco_results(item.image_id, keypoints, scores)
        stats, _, _ = coco_keypoint_eval(gt, results)
        return {METRIC: stats["AP"], "AP50": stats["AP50"], "AP75": stats["AP75"], "AR": stats["AR"]}

    return validate
