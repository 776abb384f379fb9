"""viz.py scripts end to end on tiny data and untrained tiny networks: each writes valid, non-blank PNGs named after
its images; bad inputs stop with a message naming the file and the field."""
import json

import numpy as np
import pytest

import run as run_command
import viz as viz_command
from tests.viz.conftest import assert_valid_png
from twod_threed.data import load_pose_pairs


@pytest.fixture
def hourglass_run(toy_mpii, checkpoints, tmp_path):
    out = tmp_path / "hourglass"
    assert run_command.main(["hourglass_mpii", "--load", str(checkpoints[0]), "--data_dir", str(toy_mpii),
                             "--output_dir", str(out)]) == 0
    return out / "preds_valid.npz"


@pytest.fixture
def stitched_run(toy_mpii, checkpoints, tmp_path):
    out = tmp_path / "stitched"
    assert run_command.main(["stitched_mpii", "--load_hourglass", str(checkpoints[0]), "--load_2d3d",
                             str(checkpoints[1]), "--data_dir", str(toy_mpii), "--output_dir", str(out)]) == 0
    return out / "stitched_predictions.npz"


def pngs(folder):
    return sorted(folder.glob("*.png"))


def test_2d_overlay_draws_each_person_of_a_hourglass_run(toy_mpii, hourglass_run, tmp_path):
    out = tmp_path / "pictures"
    assert viz_command.main(["2d_overlay", "--img_dir", str(toy_mpii / "images"), "--2d_pose_estimations",
                             str(hourglass_run), "--output_dir", str(out), "--max_images", "3"]) == 0
    written = pngs(out)
    # Two people in each image: the second one gets its own file.
    assert [p.name for p in written] == ["000000000.png", "000000000_person2.png", "000000001.png"]
    for path in written:
        assert_valid_png(path, (350, 400))


def test_stitched_overlays_with_3d_panels(toy_mpii, stitched_run, tmp_path):
    for script, extra in (("2d_overlay_3d_pred", []),
                          ("2d_overlay_3d_gt_3d_pred", ["--3d_pose_ground_truths", str(stitched_run)])):
        out = tmp_path / script
        assert viz_command.main([script, "--img_dir", str(toy_mpii / "images"), "--2d_pose_estimations",
                                 str(stitched_run).replace(".npz", ".json"), "--3d_pose_estimation",
                                 str(stitched_run), "--output_dir", str(out), "--max_images", "1", *extra]) == 0
        (path,) = pngs(out)
        pixels = assert_valid_png(path, (700 if script.endswith("pred") else 1100, 400))
        assert pixels.shape[1] == (800 if script == "2d_overlay_3d_pred" else 1200)  # 4-inch panels at 100 dpi


@pytest.mark.slow
def test_human36m_pictures_by_frame_name(fake_h36m, checkpoints, tmp_path):
    pairs = load_pose_pairs(fake_h36m, (9,))
    np.savez(tmp_path / "input.npz", poses_2d=pairs.joints_2d_px.numpy(), names=pairs.names())
    assert run_command.main(["2d3d_h36m", "--load", str(checkpoints[1]), "--input", str(tmp_path / "input.npz"),
                             "--output_dir", str(tmp_path / "lifted")]) == 0
    out = tmp_path / "pictures"
    # With --img_dir only the frames that have an image are drawn (frames.json lists 3 of them).
    assert viz_command.main(["2d_gt_3d_gt_3d_pred", "--2d_pose_ground_truths", str(fake_h36m),
                             "--3d_pose_estimation", str(tmp_path / "lifted" / "predictions_3d.npz"),
                             "--3d_pose_ground_truths", str(fake_h36m / "data_3d_h36m.npz"),
                             "--img_dir", str(fake_h36m), "--output_dir", str(out)]) == 0
    frames = json.loads((fake_h36m / "frames.json").read_text())
    assert [p.name for p in pngs(out)] == sorted(f"S9_{f['action'].replace(' ', '_')}_{f['camera']}_{f['frame']:06d}.png"
                                                 for f in frames)
    for path in pngs(out):
        assert_valid_png(path, (1100, 400))
    blank = tmp_path / "blank"  # no --img_dir: any rows, on a blank canvas
    assert viz_command.main(["2d_gt_3d_gt_3d_pred", "--2d_pose_ground_truths", str(fake_h36m),
                             "--3d_pose_estimation", str(tmp_path / "lifted" / "predictions_3d.npz"),
                             "--3d_pose_ground_truths", str(fake_h36m), "--output_dir", str(blank),
                             "--max_images", "2"]) == 0
    assert len(pngs(blank)) == 2 and all(assert_valid_png(p, (1100, 400)) is not None for p in pngs(blank))


@pytest.mark.slow
@pytest.mark.parametrize("script", ["saliency_and_prob_maps", "saliency_and_prob_maps_with_skeleton"])
def test_saliency_rows_per_joint(script, toy_mpii, checkpoints, tmp_path):
    out = tmp_path / script
    assert viz_command.main([script, "--load", str(checkpoints[0]), "--img_dir", str(toy_mpii / "images"),
                             "--output_dir", str(out), "--max_images", "1"]) == 0
    (path,) = pngs(out)
    pixels = assert_valid_png(path, (350, 2000))
    assert pixels.shape[0] > 4 * pixels.shape[1]  # 16 rows of 3 panels


def test_saliency_is_the_gradient_of_the_joint_peak(checkpoints):
    import torch

    from stacked_hourglass.checkpoint import load_hourglass
    from stacked_hourglass.model import normalise_input
    from stacked_hourglass.viz import saliency_and_heatmaps

    model, _, extras = load_hourglass(checkpoints[0])
    image = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
    heatmaps, saliency = saliency_and_heatmaps(model, image, extras["mean_rgb"], extras["std_rgb"])
    assert heatmaps.shape == (16, 16, 16) and saliency.shape == (16, 64, 64) and (saliency >= 0).all()
    pixels = image.float()[None].requires_grad_(True)
    peak = model(normalise_input(pixels, extras["mean_rgb"], extras["std_rgb"]))["heatmaps"][-1][0, 5].max()
    peak.backward()
    assert torch.allclose(saliency[5], pixels.grad[0].abs().amax(0), rtol=1e-4, atol=1e-7)


@pytest.mark.slow
def test_orthogonal_augmentation(fake_h36m, checkpoints, tmp_path, capsys):
    out = tmp_path / "augmentation"
    assert viz_command.main(["orthog_augmentation", "--load", str(checkpoints[1]), "--data_dir", str(fake_h36m),
                             "--index", "3", "--num_orientations", "2", "--z_rotations_only",
                             "--output_dir", str(out)]) == 0
    (path,) = pngs(out)
    assert path.name == "orthog_augmentation_000003.png"
    pixels = assert_valid_png(path, (800, 800))
    assert pixels.shape[0] > pixels.shape[1]  # three rows: the example and two augmented copies
    assert viz_command.main(["orthog_augmentation", "--load", str(checkpoints[1]), "--data_dir", str(fake_h36m),
                             "--dataset_normalization", "--output_dir", str(out)]) == 1
    assert "'per_instance' normalisation" in capsys.readouterr().err


@pytest.mark.parametrize("args, words", [
    (["2d_overlay", "--2d_pose_estimations", "{tmp}/absent.npz"], ["absent.npz", "file not found"]),
    (["2d_overlay", "--2d_pose_estimations", "{tmp}/bad.npz"], ["bad.npz", "'preds'", "shape (2, 17, 2)"]),
    (["2d_overlay_3d_pred", "--2d_pose_estimations", "{hourglass}", "--3d_pose_estimation", "{tmp}/nan.npz"],
     ["nan.npz", "'poses_3d'", "NaN"]),
    (["2d_overlay_3d_gt_3d_pred", "--2d_pose_estimations", "{hourglass}", "--3d_pose_estimation", "{hourglass}"],
     ["no 3D poses", "'poses_3d'"]),
    (["2d_overlay", "--2d_pose_estimations", "{tmp}/elsewhere.npz"], ["none of the images", "'x.jpg'"]),
])
def test_bad_inputs_stop_with_the_file_and_the_field(args, words, toy_mpii, hourglass_run, tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", preds=np.zeros((2, 17, 2)), image_names=np.array(["a.jpg", "b.jpg"]))
    np.savez(tmp_path / "nan.npz", poses_3d=np.full((8, 17, 3), np.nan))
    np.savez(tmp_path / "elsewhere.npz", preds=np.zeros((2, 16, 2)), image_names=np.array(["x.jpg", "y.jpg"]))
    argv = [a.format(tmp=tmp_path, hourglass=hourglass_run) for a in args]
    assert viz_command.main([*argv, "--img_dir", str(toy_mpii / "images"), "--output_dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert all(word in error for word in words), error
    assert not pngs(tmp_path)
