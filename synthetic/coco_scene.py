"""COCO person-keypoint labels of a rendered photo: 17 keypoints (face points on the drawn head), box, mask area.

The body keypoints are the Human3.6M joints the figure is drawn from; the nose is the body's nose tip; the eyes and
ears are points on the drawn head's surface (a sphere of the head capsule's radius around its centre) in the
directions where the renderer paints the eyes (`synthetic.appearance.head_colour`: a little above the equator,
0.3 to the side) and at the sides (ears). Visibility comes from the z-buffer, as for the MPII labels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.body import CROWN, NOSE
from synthetic.mpii_scene import MpiiImage
from synthetic.render import HEAD_RADIUS_OF_NECK_BONE, IDS_PER_PERSON, joint_visibility

COCO_KEYPOINT_NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                       "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                       "right_knee", "left_ankle", "right_ankle")
# COCO's skeleton (1-based keypoint numbers), as in person_keypoints_val2017.json.
COCO_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9), (8, 10),
                 (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
# Body points of keypoints 5..16 (left_shoulder ... right_ankle): Human3.6M joints.
_BODY_POINTS = (17, 25, 18, 26, 19, 27, 6, 1, 7, 2, 8, 3)
EYE_UP, EYE_SIDE = 0.17, 0.3  # the painted eyes' direction: up and side components of the unit normal
EAR_UP = -0.1
# Own radius (mm, x girth) around each keypoint for the z-buffer test: face points lie on the surface.
COCO_OWN_RADIUS_MM = np.array([12, 10, 10, 12, 12, 62, 62, 48, 48, 40, 40, 60, 60, 60, 60, 40, 40], dtype=np.float64)


@dataclass(frozen=True)
class CocoPerson:
    keypoints_px: np.ndarray  # (17, 2) COCO order, pixels
    flags: np.ndarray  # (17,) int: 2 visible, 1 inside the image but occluded, 0 outside (not labelled)
    bbox_px: np.ndarray  # (4,) [x, y, w, h] of the drawn person, clipped to the image
    area_px: float  # pixels the person covers in the image (its mask area)


def face_points(points_cam: np.ndarray) -> np.ndarray:
    """(34, 3) camera-frame body points -> (5, 3) nose, left eye, right eye, left ear, right ear (mm)."""
    first, second = points_cam[14] * 0.4 + points_cam[15] * 0.6, points_cam[14] * -0.15 + points_cam[15] * 1.15
    centre = (first + second) / 2  # the head capsule's axis ends, as in synthetic.render._PARTS
    radius = HEAD_RADIUS_OF_NECK_BONE * np.linalg.norm(points_cam[15] - points_cam[14])
    up = points_cam[CROWN] - points_cam[14]
    up /= np.linalg.norm(up)
    front = points_cam[NOSE] - centre
    front -= up * (front @ up)
    front /= np.linalg.norm(front)
    left = np.cross(up, front)
    if left @ (points_cam[17] - points_cam[25]) < 0:  # point towards the body's left shoulder
        left = -left
    eye_front = np.sqrt(1 - EYE_UP ** 2 - EYE_SIDE ** 2)
    ear_front = 0.0
    directions = np.stack([eye_front * front + EYE_UP * up + EYE_SIDE * left,
                           eye_front * front + EYE_UP * up - EYE_SIDE * left,
                           ear_front * front + EAR_UP * up + np.sqrt(1 - EAR_UP ** 2) * left,
                           ear_front * front + EAR_UP * up - np.sqrt(1 - EAR_UP ** 2) * left])
    return np.concatenate([points_cam[NOSE][None], centre + radius * directions])


def coco_people(photo: MpiiImage) -> list[CocoPerson]:
    """The COCO labels of every person of a photo rendered by `render_mpii_image`."""
    assert photo.lens is not None and len(photo.points_cam) == len(photo.people), "render with this version"
    height, width = photo.image.shape[:2]
    scale, people = photo.canvas_scale, []
    for index, (points_cam, girth) in enumerate(zip(photo.points_cam, photo.girths)):
        keypoints_cam = np.concatenate([face_points(points_cam), points_cam[list(_BODY_POINTS)]])
        keypoints_px = photo.lens.project(keypoints_cam)
        visible = joint_visibility(photo.canvas, (keypoints_px + 0.5) * scale - 0.5, keypoints_cam[:, 2],
                                   COCO_OWN_RADIUS_MM * girth)
        inside = (keypoints_px[:, 0] >= 0) & (keypoints_px[:, 0] <= width - 1) & (keypoints_px[:, 1] >= 0) & (
            keypoints_px[:, 1] <= height - 1)
        flags = np.where(inside, np.where(visible, 2, 1), 0)
        owned = (photo.canvas.ids > index * IDS_PER_PERSON) & (photo.canvas.ids <= (index + 1) * IDS_PER_PERSON)
        rows, cols = np.nonzero(owned)
        if len(rows):
            low = np.array([cols.min(), rows.min()]) / scale
            high = np.array([cols.max() + 1, rows.max() + 1]) / scale
        else:  # hidden entirely: the box of its keypoints
            low, high = keypoints_px.min(0), keypoints_px.max(0)
        low, high = np.clip(low, 0, [width, height]), np.clip(high, 0, [width, height])
        people.append(CocoPerson(keypoints_px, flags.astype(np.int64), np.r_[low, high - low],
                                 float(owned.sum() / scale ** 2)))
    return people

