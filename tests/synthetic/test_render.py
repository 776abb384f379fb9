"""Labels agree with pixels, and visibility follows occlusion."""
import dataclasses
import json

import cv2
import numpy as np
import pytest

from synthetic.appearance import sample_appearance
from synthetic.body import NUM_JOINTS, forward_kinematics, root_rotation, sample_body_shape, stand_on_floor
from synthetic.h36m_scene import make_sequence, render_frame, studio, subject_identity
from synthetic.mpii_scene import MPII_FROM_POINTS, _label, render_mpii_image
from synthetic.render import IDS_PER_PERSON, OCCLUDER_ID, Canvas, Lens, box_corners, draw_box, draw_person
from synthetic.scene_cameras import h36m_rig

LENS = Lens(f=np.array([800.0, 800.0]), c=np.array([320.0, 240.0]))
LIGHT = np.array([0.0, -0.6, -0.8])
GREY = np.full((480, 640, 3), 128, np.uint8)
MPII_NAMES = ("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax", "upper_neck",
              "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist")


def _standing_person(yaw: float, depth_mm: float = 4000.0):
    """A person in a relaxed standing pose, arms a little out, `yaw` 0 facing the camera; camera-frame points."""
    rng = np.random.default_rng(0)
    shape, appearance = sample_body_shape(rng), sample_appearance(rng)
    angles = np.zeros((1, NUM_JOINTS, 3))
    angles[0, [18, 26], 1] = 20  # shoulder abduction
    angles[0, [19, 27], 0] = 15  # elbows
    world = stand_on_floor(forward_kinematics(shape, angles, root_rotation(np.array([yaw + np.pi]), np.zeros(1),
                                                                             np.zeros(1)), np.zeros((1, 3))), 40)[0]
    # camera 1 m above the floor looking along +y at the person (world z up -> camera y down)
    camera = np.stack([world[:, 0], 1000.0 - world[:, 2], world[:, 1] + depth_mm], axis=-1)
    return shape, appearance, camera


def _visibility(canvas, points, shape):
    person = _label(canvas, LENS, points, shape)
    return dict(zip(MPII_NAMES, person.visible)), person


def test_unoccluded_front_view_sees_every_joint():
    shape, appearance, points = _standing_person(yaw=0.0)
    canvas = Canvas.over(GREY)
    draw_person(canvas, points, shape, appearance, LENS, LIGHT, 0)
    visible, person = _visibility(canvas, points, shape)
    assert all(visible.values()), visible
    cols, rows = np.round(person.joints_px).astype(int).T
    assert (canvas.ids[rows, cols] > 0).all() and (canvas.ids[rows, cols] <= IDS_PER_PERSON).all()
    # every labelled joint lies on a drawn body pixel, not on the background
    assert (np.abs(canvas.image[rows, cols].astype(int) - 128).sum(-1) > 0).all()


def test_a_box_in_front_hides_the_joints_behind_it():
    shape, appearance, points = _standing_person(yaw=0.0)
    middle = 0.5 * (points[13] + points[0])
    half = np.array([130.0, 0.5 * abs(points[0, 1] - points[13, 1]) + 40, 50.0])
    canvas = Canvas.over(GREY)
    draw_person(canvas, points, shape, appearance, LENS, LIGHT, 0)
    draw_box(canvas, box_corners(middle - [0, 0, 500], half, np.eye(3)), LENS, np.array([200.0, 50, 50]), LIGHT)
    visible, person = _visibility(canvas, points, shape)
    assert not visible["thorax"] and not visible["pelvis"]
    for name in ("head_top", "r_ankle", "l_ankle", "r_wrist", "l_wrist", "r_knee", "l_knee"):
        assert visible[name], name
    cols, rows = np.round(person.joints_px[[6, 7]]).astype(int).T
    assert (canvas.ids[rows, cols] == OCCLUDER_ID).all()
    # the same box behind the person hides nothing
    canvas = Canvas.over(GREY)
    draw_person(canvas, points, shape, appearance, LENS, LIGHT, 0)
    draw_box(canvas, box_corners(middle + [0, 0, 500], half, np.eye(3)), LENS, np.array([200.0, 50, 50]), LIGHT)
    assert all(_visibility(canvas, points, shape)[0].values())


def test_side_view_hides_the_far_limbs():
    shape, appearance, points = _standing_person(yaw=np.pi / 2)  # right side towards the camera
    canvas = Canvas.over(GREY)
    draw_person(canvas, points, shape, appearance, LENS, LIGHT, 0)
    visible, _ = _visibility(canvas, points, shape)
    assert points[2, 2] < points[7, 2]  # the right knee is the nearer one
    assert visible["r_knee"] and visible["r_hip"] and visible["r_ankle"]
    assert not visible["l_knee"] and not visible["l_hip"]


@pytest.mark.parametrize("style", ["open", "print", "placket"])
def test_front_of_the_top_is_marked_only_on_the_front(style):
    """Facing shows on the body: the marking is drawn on the chest between the shoulders, never on the back."""
    counts = {}
    for name, yaw in (("front", 0.0), ("back", np.pi)):
        shape, appearance, points = _standing_person(yaw=yaw)
        appearance = dataclasses.replace(appearance, front=np.array([255.0, 0.0, 255.0]), front_style=style)
        canvas = Canvas.over(GREY)
        draw_person(canvas, points, shape, appearance, LENS, LIGHT, 0)
        image = canvas.image.astype(int)
        marked = (image[..., 1] < 10) & (image[..., 0] > 60) & (np.abs(image[..., 0] - image[..., 2]) < 12)
        counts[name] = int(marked.sum())
        if name == "front":
            rows, cols = np.nonzero(marked)
            r_shoulder, l_shoulder = LENS.project(points[[25, 17]])
            assert (cols > r_shoulder[0]).all() and (cols < l_shoulder[0]).all()  # facing: right is image-left
            assert (rows > LENS.project(points[14])[1]).all() and (rows < LENS.project(points[0])[1]).all()
    assert counts["front"] > 100 and counts["back"] == 0, counts


def test_joints_outside_the_image_are_neither_inside_nor_visible():
    shape, appearance, points = _standing_person(yaw=0.0, depth_mm=1500.0)  # too close: feet leave the frame
    canvas = Canvas.over(GREY)
    draw_person(canvas, points, shape, appearance, LENS, LIGHT, 0)
    _, person = _visibility(canvas, points, shape)
    below = person.joints_px[:, 1] > 479
    assert below[0] and below[5]
    assert not person.inside[below].any() and not person.visible[below].any()


@pytest.mark.parametrize("seed", range(12))
def test_visible_mpii_labels_sit_on_their_own_person(seed):
    result = render_mpii_image(np.random.default_rng([seed, 99]))
    ids, scale = result.canvas.ids, result.canvas_scale  # the canvas is drawn at `scale` x the image size
    assert result.image.shape[:2] == tuple(np.round(np.array(ids.shape) / scale).astype(int))
    padded = np.pad(ids, 1)
    for index, person in enumerate(result.people):
        cols, rows = np.round((person.joints_px[person.visible] + 0.5) * scale - 0.5).astype(int).T
        # the pixel, or for a joint on the outline of a small far figure a neighbour, belongs to this person
        owners = np.stack([padded[rows + 1 + dy, cols + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
        mine = (owners > index * IDS_PER_PERSON) & (owners <= (index + 1) * IDS_PER_PERSON)
        assert mine[4].mean() > 0.9 and mine.any(axis=0).all()
        hidden = person.inside & ~person.visible
        cols, rows = np.round((person.joints_px[hidden] + 0.5) * scale - 0.5).astype(int).T
        assert (ids[rows, cols] > 0).all()  # something is drawn over every hidden joint


def test_written_mpii_labels_match_a_fresh_render_and_the_jpeg(tiny_dataset):
    records = json.loads((tiny_dataset / "mpii" / "mpii_annotations.json").read_text())
    first = [record for record in records if record["annolist_index"] == 1.0]
    result = render_mpii_image(np.random.default_rng([0, 2, 0]), num_people=len(first))
    for record, person in zip(first, result.people):
        joints = np.array(record["joint_self"])
        np.testing.assert_allclose(joints[person.inside, :2], person.joints_px[person.inside], atol=1e-3)
        np.testing.assert_array_equal(joints[:, 2], person.visible.astype(float))
    written = cv2.imread(str(tiny_dataset / "mpii" / "images" / first[0]["img_paths"]))[..., ::-1]
    smooth = lambda image: cv2.blur(image, (5, 5)).astype(int)  # noqa: E731  (JPEG drops part of the grain)
    assert np.abs(smooth(written) - smooth(result.image)).mean() < 2


def test_h36m_frame_pixels_at_projected_joints_belong_to_the_actor():
    seed, subject = 0, 9
    camera = h36m_rig(subject, seed)["55011271"]
    shape, appearance = subject_identity(subject, seed)
    sequence = make_sequence(subject, 13, 0, 40, seed)  # Walking: no chair
    frame = render_frame(studio(subject, camera, seed), sequence.points_mm[20], shape, appearance, [],
                         np.random.default_rng(1))
    assert frame.image.shape == (1000, 1000, 3)
    joints_px = camera.project_world(sequence.points_mm[20, list(MPII_FROM_POINTS)]) - frame.offset
    cols, rows = np.round((joints_px + 0.5) * frame.scale - 0.5).astype(int).T
    assert (frame.canvas.ids[rows, cols] > 0).mean() == 1.0
