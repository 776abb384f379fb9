"""Drawing primitives: joints land where their coordinates say, side colours, equal 3D axes, the 3D convention."""
import numpy as np
import pytest

from utils.plotting import (SIDE_COLOURS, blank_image_axes, camera_to_plot, draw_skeleton_2d, draw_skeleton_3d,
                            draw_skeleton_cv2, equal_limits, figure_to_array, joint_colours, new_figure,
                            safe_file_name, show_image, side_colour, unique_stems)
from utils.skeletons import H36M17, MPII


def only(joint: int, skeleton=MPII) -> np.ndarray:
    visible = np.zeros(skeleton.num_joints)
    visible[joint] = 1
    return visible


@pytest.mark.parametrize("name, x, y", [("l_wrist", 20, 30), ("r_knee", 5, 44), ("head_top", 63, 0)])
def test_opencv_joint_lands_at_its_pixel_in_its_side_colour(name, x, y):
    joint = MPII.index(name)
    joints = np.full((16, 2), 200.0)  # everything else far outside the image
    joints[joint] = (x, y)
    image = draw_skeleton_cv2(np.zeros((48, 64, 3), np.uint8), joints, MPII, visible=only(joint), radius=3)
    assert tuple(image[y, x]) == SIDE_COLOURS[MPII.side_of(joint)]
    drawn = np.argwhere(image.any(-1))  # (K, 2) rows, columns
    assert np.abs(drawn - (y, x)).max() <= 4  # nothing drawn away from the joint


def test_opencv_bones_take_the_side_of_their_child_and_sub_pixel_positions_hold():
    joints = np.full((16, 2), 500.0)
    joints[MPII.index("l_elbow")] = (10.0, 10.0)
    joints[MPII.index("l_wrist")] = (50.0, 10.0)
    visible = only(MPII.index("l_elbow")) + only(MPII.index("l_wrist"))
    image = draw_skeleton_cv2(np.zeros((40, 60, 3), np.uint8), joints, MPII, visible, thickness=3, radius=1)
    assert tuple(image[10, 30]) == SIDE_COLOURS["left"]  # the middle of the forearm
    shifted = joints.copy()
    shifted[MPII.index("l_wrist")] = (40.5, 20.5)
    dot = draw_skeleton_cv2(np.zeros((40, 60, 3), np.uint8), shifted, MPII, only(MPII.index("l_wrist")), radius=2)
    weights = dot[..., 1].astype(np.float64)
    rows, columns = np.indices(weights.shape)
    centroid = (float((columns * weights).sum() / weights.sum()), float((rows * weights).sum() / weights.sum()))
    assert centroid == pytest.approx((40.5, 20.5), abs=0.15)


def test_matplotlib_joint_lands_at_its_image_coordinates():
    figure = new_figure(3.0, 2.4, dpi=100)
    ax = figure.add_axes((0.05, 0.05, 0.9, 0.9))
    show_image(ax, np.full((80, 100, 3), 255, np.uint8))
    joint = MPII.index("l_ankle")
    joints = np.full((16, 2), 1e4)
    joints[joint] = (30.0, 60.0)
    draw_skeleton_2d(ax, joints, MPII, visible=only(joint), marker_size=6)
    pixels = figure_to_array(figure).astype(np.int64)
    green = np.abs(pixels - np.asarray(SIDE_COLOURS["left"])).sum(-1) < 60
    assert green.sum() > 5
    rows, columns = np.nonzero(green)
    x_display, y_display = ax.transData.transform((30.0, 60.0))
    expected = (x_display, pixels.shape[0] - y_display)  # display y grows upwards, array rows downwards
    assert (columns.mean(), rows.mean()) == pytest.approx(expected, abs=1.0)


def test_blank_axes_point_y_down_with_equal_aspect():
    figure = new_figure(3, 3)
    ax = figure.add_subplot(1, 1, 1)
    joints = np.array([[0.0, 0.0], [100.0, 50.0]])
    blank_image_axes(ax, joints)
    low, high = ax.get_ylim()
    assert low > high  # inverted: larger image y is lower on the screen
    assert ax.get_aspect() == 1.0


def test_side_colours_follow_the_joint_names():
    colours = joint_colours(MPII)
    assert np.allclose(colours[MPII.index("l_hip")], side_colour("left"))
    assert np.allclose(colours[MPII.index("r_wrist")], side_colour("right"))
    assert np.allclose(colours[MPII.index("thorax")], side_colour("centre"))
    assert len({SIDE_COLOURS[s] for s in ("left", "right", "centre")}) == 3


def test_3d_axes_are_equal_and_minus_y_is_drawn_up():
    pose = np.zeros((17, 3))
    pose[H36M17.index("head")] = (0.0, -700.0, 0.0)  # above the hip: camera y points down
    pose[H36M17.index("r_foot")] = (-150.0, 900.0, 100.0)
    plotted = camera_to_plot(pose)
    assert plotted[H36M17.index("head"), 2] == 700.0 and plotted[H36M17.index("r_foot"), 1] == 100.0
    figure = new_figure(4, 4)
    ax = figure.add_subplot(1, 1, 1, projection="3d")
    draw_skeleton_3d(ax, pose, H36M17)
    spans = [np.diff(limits)[0] for limits in (ax.get_xlim(), ax.get_ylim(), ax.get_zlim())]
    assert spans == pytest.approx([spans[0]] * 3)
    assert spans[0] >= 1600  # holds the whole pose
    assert np.allclose(ax.get_box_aspect() / ax.get_box_aspect()[0], 1.0)
    centre, half = equal_limits([plotted, plotted * 2])
    assert half >= np.abs(plotted * 2 - centre).max()


def test_file_names_from_image_and_frame_names():
    assert safe_file_name("000000123.jpg") == "000000123"
    assert safe_file_name("S9/Walking 1/54138969/000123") == "S9_Walking_1_54138969_000123"
    assert unique_stems(["a.jpg", "a.jpg", "b.png"]) == ["a", "a_person2", "b"]
