"""The Python API (`stitched.inference.Estimator`): what it returns, that it is the path the commands take, and the
README's five-line example."""
import contextlib
import io
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import run as run_command
from stacked_hourglass import transforms
from stacked_hourglass.images import warp_image
from stacked_hourglass.inference import HourglassPredictor
from stitched.checkpoint import load_stitched
from stitched.inference import Estimator
from stitched.network import heatmap_to_image_matrices
from utils.errors import InputError
from utils.precision import choose_precision

REPO_ROOT = Path(__file__).resolve().parents[2]


def photo(seed: int = 0, height: int = 120, width: int = 90) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_stitched_estimator_equals_the_network_on_the_box_crop(stitched_checkpoint):
    estimator = Estimator.from_checkpoint(stitched_checkpoint)
    image = photo()
    people = estimator([image, image], boxes=[None, [[10, 10, 50, 90]]])
    assert people.joints_2d_px.shape == (2, 16, 2) and people.scores.shape == (2, 16)
    assert people.poses_3d_mm.shape == (2, 17, 3) and np.all(people.poses_3d_mm[:, 0] == 0)
    assert people.image_index.tolist() == [0, 1]
    assert people.boxes_px.tolist() == [[0, 0, 89, 119], [10, 10, 50, 90]]
    # The box [10, 10, 50, 90]: centre (30, 50), square side 1.25 x 80 = 100 px, warped to the network's input.
    network = load_stitched(stitched_checkpoint).model
    res = network.input_res
    image_to_input = transforms.crop_matrix(np.array([30.0, 50.0]), 100.0, res)
    crop = torch.from_numpy(warp_image(image, image_to_input, res)).permute(2, 0, 1)[None]
    with torch.no_grad():
        output = network(crop, heatmap_to_image_matrices(image_to_input[None]))
    assert np.allclose(people.joints_2d_px[1], output["joints_2d_px"][0].numpy(), atol=1e-4)
    assert np.allclose(people.poses_3d_mm[1, 1:], output["root_relative_mm"][0].numpy(), atol=1e-3)
    assert np.allclose(people.scores[1], output["heatmaps"][-1][0].amax((1, 2)).numpy(), atol=1e-6)


def test_hourglass_estimator_is_2d_only_and_a_lifter_makes_it_3d(stitched_checkpoint):
    hourglass_file, lifter_file = stitched_checkpoint.parent / "hourglass.pt", stitched_checkpoint.parent / "lifter.pt"
    image = photo(1)
    people = Estimator.from_checkpoint(hourglass_file)(image)
    assert people.poses_3d_mm is None and people.joints_2d_px.shape == (1, 16, 2)
    predictor = HourglassPredictor.from_checkpoint(hourglass_file, precision=choose_precision("cpu", False))
    image_to_input = transforms.crop_matrix(np.array([44.5, 59.5]), 120.0, predictor.input_res)  # the whole image
    crop = torch.from_numpy(warp_image(image, image_to_input, predictor.input_res)).permute(2, 0, 1)[None]
    assert np.allclose(people.joints_2d_px, predictor(crop, image_to_input[None]).joints_px)
    lifted = Estimator.from_checkpoint(hourglass_file, lifter=lifter_file)(image)
    assert lifted.poses_3d_mm.shape == (1, 17, 3)
    with pytest.raises(InputError, match="lifter"):
        Estimator.from_checkpoint(lifter_file)
    with pytest.raises(InputError, match="RGB uint8"):
        Estimator.from_checkpoint(hourglass_file)(image.astype(np.float32))


def test_run_py_stitched_mpii_takes_the_same_path(stitched_checkpoint, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    image = photo(2)
    cv2.imwrite(str(images / "a.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert run_command.main(["stitched_mpii", "--load", str(stitched_checkpoint), "--image_dir", str(images),
                             "--output_dir", str(tmp_path / "out")]) == 0
    written = np.load(tmp_path / "out" / "stitched_predictions.npz")
    people = Estimator.from_checkpoint(stitched_checkpoint)(image)
    assert np.allclose(written["preds"], people.joints_2d_px, atol=1e-4)
    assert np.allclose(written["poses_3d"], people.poses_3d_mm, atol=1e-3)
    assert np.allclose(written["scores"], people.scores, atol=1e-6)


def test_the_readme_example_runs(stitched_checkpoint, tmp_path, monkeypatch):
    readme = (REPO_ROOT / "README.md").read_text()
    code = re.search(r"## Python API.*?```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    (tmp_path / "model_checkpoints" / "stitched_h36m_a").mkdir(parents=True)
    os.link(stitched_checkpoint, tmp_path / "model_checkpoints" / "stitched_h36m_a" / "best.pt")
    cv2.imwrite(str(tmp_path / "photo.jpg"), photo(3))
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    assert printed.getvalue().strip() == "(1, 16, 2) (1, 16) (1, 17, 3)"


def test_fuse_bn_on_run_py_gives_the_same_joints(stitched_checkpoint, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "a.png"), photo(4))
    found = {}
    for extra in ([], ["--fuse_bn"]):
        out = tmp_path / f"out{len(extra)}"
        assert run_command.main(["stitched_mpii", "--load", str(stitched_checkpoint), "--image_dir", str(images),
                                 "--output_dir", str(out), *extra]) == 0
        found[bool(extra)] = np.load(out / "stitched_predictions.npz")
    assert np.abs(found[True]["preds"] - found[False]["preds"]).max() < 1e-4
    assert np.abs(found[True]["scores"] - found[False]["scores"]).max() < 1e-4
    assert Estimator.from_checkpoint(stitched_checkpoint, fuse_bn=True).network.folded_batch_norms > 0
