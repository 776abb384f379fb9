"""MPII's release file -> mpii_annotations.json + valid_gt.mat: the specimens, every irregularity, the splits and
the errors."""
import json

import h5py
import numpy as np
import pytest
import scipy.io

import eval as eval_command
from stacked_hourglass.annotations import load_split, mpii_folder, read_ground_truth, read_h5_records
from stacked_hourglass.convert_mpii import convert_release, main
from stacked_hourglass.mpii_release import read_release, visibility
from stacked_hourglass.pckh_eval import default_ground_truth
from utils.errors import InputError
from utils.skeletons import MPII


@pytest.fixture
def converted(specimens, tmp_path, capsys):
    """The release specimen converted with valid.h5's split; the log is in DIR/log.txt."""
    mpii = specimens / "mpii"
    out = tmp_path / "mpii"
    assert main(["--release", str(mpii / "mpii_release_sample.mat"), "--valid_h5", str(mpii / "valid.h5"),
                 "--output_dir", str(out)]) == 0
    (out / "log.txt").write_text(capsys.readouterr().out)
    return out


def test_validation_people_are_valid_h5_rows(specimens, converted):
    """Rows 0-7 of valid.h5: joints, visibility, centre and scale after y + 15 s, s x 1.25, head size; both files."""
    truth = read_h5_records(specimens / "mpii" / "valid.h5").subset(np.arange(8))
    valid = load_split(converted, "valid")
    assert list(valid.image_names) == list(truth.image_names)
    for field in ("joints_px", "annotated", "visible", "center_px", "box_px", "head_size_px"):
        np.testing.assert_allclose(getattr(valid, field), getattr(truth, field), rtol=0, atol=1e-9, err_msg=field)
    standard = read_ground_truth(converted / "valid_gt.mat", require_head_size=True)
    np.testing.assert_array_equal(standard.joints_px, truth.joints_px)
    np.testing.assert_array_equal(standard.annotated, truth.annotated)
    np.testing.assert_allclose(standard.head_size_px, truth.head_size_px, rtol=0, atol=1e-9)
    names = scipy.io.loadmat(converted / "valid_gt.mat")["dataset_joints"]
    reference = scipy.io.loadmat(specimens / "mpii" / "detections_our_format.mat")["dataset_joints"]
    assert [str(n[0]) for n in names[0]] == [str(n[0]) for n in reference[0]]
    assert "2950 of 2958 valid.h5 rows are not in the release file" in (converted / "log.txt").read_text()


def test_training_people_and_what_is_left_out(converted):
    records = json.loads((converted / "mpii_annotations.json").read_text())
    assert [r["isValidation"] for r in records] == [1.0] * 8 + [0.0] * 11  # validation first
    train = load_split(converted, "train")
    names = list(train.image_names)
    assert not any(name.startswith("0900000") for name in names)  # the 3 test images
    assert names.count("070807258.jpg") == 2  # its third person has no keypoints and no head box
    # 005808361.jpg is also the name of a training image (annolist 11): its person stays in training.
    assert names.count("005808361.jpg") == 1
    # A person whose left knee and ankle points are left out of the list: not annotated, zeros in the JSON.
    person = next(r for r in records if r["img_paths"] == "015599452.jpg" and r["people_index"] == 1.0)
    for joint in ("l_knee", "l_ankle"):
        assert person["joint_self"][MPII.index(joint)] == [0.0, 0.0, 0.0]
    assert person["numOtherPeople"] == 2.0 and len(person["joint_others"]) == 2
    assert person["cat_name"] == "home activities" and person["act_name"] == "vacuuming" and person["act_id"] == 42
    first = records[0]
    assert first["headboxes"] == [[914.0, 79.0], [1031.0, 237.0]] and first["annolist_index"] == 1.0
    assert first["video_id"] == "aAOusnrSsHI" and first["frame_sec"] == 126


def test_release_irregularities(specimens):
    images = read_release(specimens / "mpii" / "mpii_release_sample.mat")
    assert len(images) == 17 and [image.is_train for image in images] == [True] * 14 + [False] * 3
    # One struct (a single person) and an array of structs read alike.
    assert [len(images[i].people) for i in (0, 8, 9, 13)] == [1, 2, 3, 3]
    # is_visible: empty (image 1's upper_neck) counts as visible, the character '0' (image 3's r_wrist, r_elbow)
    # and the number 0 (image 6's r_hip) as occluded, the character '1' as visible (image 1's l_ankle).
    assert images[0].people[0].joints[MPII.index("upper_neck"), 2] == 1
    assert images[2].people[0].joints[[MPII.index("r_wrist"), MPII.index("r_elbow")], 2].tolist() == [0, 0]
    assert images[5].people[0].joints[MPII.index("r_hip"), 2] == 0
    assert images[0].people[0].joints[MPII.index("l_ankle"), 2] == 1
    # Unannotated joints (points left out): image 3's r_ankle and l_ankle.
    assert images[2].people[0].annotated.sum() == 14 and not images[2].people[0].annotated[[0, 5]].any()
    no_keypoints = images[13].people[2]
    assert not no_keypoints.annotated.any() and no_keypoints.head_box_px is None and not no_keypoints.is_sample
    test_person = images[14].people[0]
    assert test_person.scale == 2.0 and test_person.objpos_px.tolist() == [400.0, 300.0]
    assert not test_person.is_sample
    assert images[8].activity == {"cat_name": "occupation", "act_name": "", "act_id": -1}


@pytest.mark.parametrize("value, expected", [(1, 1), (0, 0), (1.0, 1), ("1", 1), ("0", 0), (np.array([]), 1),
                                             (np.array(0.0), 0), (np.array(["0"]), 0)])
def test_is_visible_forms(value, expected):
    assert visibility(value) == expected


def test_datumaro_file_and_the_deterministic_split(specimens, tmp_path):
    out = tmp_path / "datumaro"
    counts = convert_release(specimens / "mpii" / "datumaro" / "mpii_human_pose_v1_u12_1.mat", out, valid_every=2)
    assert counts == {"images": 3, "test_images": 0, "people": 4, "train_people": 1, "valid_people": 3,
                      "not_samples": 0}
    records = json.loads((out / "mpii_annotations.json").read_text())
    # Images 1 and 3 (every 2nd training image from the first) validate; image 2 trains.
    assert [(r["img_paths"], r["isValidation"]) for r in records] == [
        ("000000001.jpg", 1.0), ("000000003.jpg", 1.0), ("000000003.jpg", 1.0), ("000000002.jpg", 0.0)]
    second = records[3]
    assert second["objpos"] == [624.0, 287.0] and second["scale_provided"] == 3.7
    assert second["headboxes"] == [[101.1, 33.3], [215.0, 114.7]]
    assert second["joint_self"][4] == [691.0, 251.0, 0.0] and second["joint_self"][9] == [725.98, 138.182, 1.0]
    assert records[1]["numOtherPeople"] == 1.0 and records[1]["objpos_other"] == [[464.0, 127.0]]
    assert read_ground_truth(out / "valid_gt.mat", require_head_size=True).joints_px.shape == (3, 16, 2)


def write_release(path, annolist, **fields):
    """A release-layout .mat written by scipy (annolist a cell array of structs: read as MATLAB's struct arrays)."""
    entries = np.empty(len(annolist), dtype=object)
    for index, entry in enumerate(annolist):
        entries[index] = entry
    scipy.io.savemat(path, {"RELEASE": {"annolist": entries, **fields}})
    return path


def point(joint, x, y, visible):
    return {"id": joint, "x": x, "y": y, "is_visible": visible}


def test_generated_release_file_with_every_irregularity(tmp_path):
    """Standalone (no specimens): one struct vs several, a person without points, an empty is_visible, a test
    image with only scale and objpos, and the deterministic split."""
    person = {"x1": 10.0, "y1": 20.0, "x2": 40.0, "y2": 60.0, "scale": 2.0, "objpos": {"x": 100.0, "y": 150.0},
              "annopoints": {"point": np.array([point(0, 50.0, 200.0, 1), point(9, 30.0, 30.0, "0"),
                                                point(8, 31.0, 61.0, np.zeros((0, 0)))], dtype=object)}}
    lone_point = {**person, "annopoints": {"point": point(3, 70.0, 120.0, "1")}}
    bare = {"scale": 1.5, "objpos": {"x": 5.0, "y": 6.0}, "annopoints": np.zeros((0, 0))}
    annolist = [{"image": {"name": "a.jpg"}, "annorect": person},
                {"image": {"name": "b.jpg"}, "annorect": np.array([lone_point, bare], dtype=object)},
                {"image": {"name": "c.jpg"}, "annorect": {"scale": 3.0, "objpos": {"x": 1.0, "y": 2.0}}}]
    release = write_release(tmp_path / "release.mat", annolist, img_train=np.array([1, 1, 0]))
    out = tmp_path / "out"
    counts = convert_release(release, out, valid_every=2)
    assert counts == {"images": 3, "test_images": 1, "people": 4, "train_people": 1, "valid_people": 1,
                      "not_samples": 1}
    valid, train = load_split(out, "valid"), load_split(out, "train")
    assert list(valid.image_names) == ["a.jpg"] and list(train.image_names) == ["b.jpg"]
    np.testing.assert_array_equal(valid.annotated[0], np.isin(np.arange(16), [0, 8, 9]))
    np.testing.assert_array_equal(valid.visible[0], np.isin(np.arange(16), [0, 8]))  # '0' occluded, empty visible
    np.testing.assert_allclose(valid.center_px[0], [100.0, 180.0])  # y + 15 x 2
    assert valid.box_px[0] == 500.0 and valid.head_size_px[0] == pytest.approx(0.6 * 50.0)  # 200 x 2 x 1.25; 30x40
    np.testing.assert_array_equal(train.joints_px[0, 3], [70.0, 120.0])


def test_errors_name_the_file(specimens, tmp_path, capsys):
    text = tmp_path / "notes.mat"
    text.write_text("not a mat file")
    no_annolist = tmp_path / "no_annolist.mat"
    scipy.io.savemat(no_annolist, {"RELEASE": {"img_train": np.array([1])}})
    other_h5 = tmp_path / "valid.h5"
    with h5py.File(other_h5, "w") as data:
        data["imgname"], data["person"] = np.array([b"x.jpg"]), np.array([0.0])
        data["center"], data["scale"] = np.zeros((1, 2)), np.ones(1)
    release = specimens / "mpii" / "mpii_release_sample.mat"
    cases = [(["--release", str(tmp_path / "absent.mat")], "release file not found"),
             (["--release", str(text)], "cannot be read as a MATLAB .mat file"),
             (["--release", str(specimens / "mpii" / "detections_our_format.mat")],
              "not an MPII release file: expected a struct 'RELEASE'"),
             (["--release", str(no_annolist)], "RELEASE has no field 'annolist'"),
             (["--release", str(release), "--valid_h5", str(other_h5)], "none of its 1 people is in")]
    for argv, message in cases:
        assert main([*argv, "--output_dir", str(tmp_path / "out")]) == 1
        assert message in capsys.readouterr().err, message
    assert not (tmp_path / "out" / "mpii_annotations.json").exists()


def test_loader_says_how_to_make_annotations(tmp_path):
    with pytest.raises(InputError, match="python -m stacked_hourglass.convert_mpii --release"):
        mpii_folder(tmp_path)


def test_eval_scores_the_converted_folder(converted, tmp_path):
    """`eval.py mpii_PCKh --data_dir DIR` finds valid_gt.mat; the validation joints themselves score 100."""
    assert default_ground_truth(str(converted)) == converted / "valid_gt.mat"
    preds = tmp_path / "preds.mat"
    scipy.io.savemat(preds, {"preds": load_split(converted, "valid").joints_px})
    assert eval_command.main(["mpii_PCKh", "--prediction_files", str(preds), "--data_dir", str(converted),
                              "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "preds_pckh.json").read_text())
    assert report["Mean"] == 100.0 and report["Mean_weighted"] == 100.0
