"""Camera rigs: four Human3.6M-like calibrated cameras per subject, and the pinhole of an MPII-like photo.

The Human3.6M rig copies the real layout (four cameras near the corners of a 4 x 8 m room, about 1.5 m high,
looking at the middle of the capture area), its intrinsics (f ~ 1145 px, 1000 x 1000 images) and its lens
distortion, with small per-subject changes in placement, as in the real recordings.
"""
from __future__ import annotations

import numpy as np

from synthetic.render import Lens
from utils.cameras import H36M_CAMERA_IDS, Camera

# Per camera id: centre (mm, world), focal (px), principal point (px), radial k1..k3, tangential p1, p2.
_RIG = {
    "54138969": ((1840, 4950, 1560), (1145.0, 1143.8), (512.5, 515.5), (-0.207, 0.248, -0.0031), (-0.00098, -0.00142)),
    "55011271": ((1760, -5080, 1600), (1149.7, 1147.6), (508.8, 508.1), (-0.194, 0.240, 0.0068), (-0.00162, -0.00274)),
    "58860488": ((-1850, 5210, 1490), (1149.1, 1148.8), (519.8, 501.4), (-0.208, 0.255, -0.0025), (0.00148, -0.00076)),
    "60457274": ((-1800, -3720, 1575), (1145.5, 1144.8), (515.0, 501.9), (-0.198, 0.218, -0.0089), (-0.00059, -0.00181)),
}


def look_at(centre_mm: np.ndarray, target_mm: np.ndarray, roll_rad: float = 0.0) -> np.ndarray:
    """World -> camera rotation (3, 3) of a camera at `centre_mm` looking at `target_mm`, world z up, image y down."""
    forward = target_mm - centre_mm
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    cos, sin = np.cos(roll_rad), np.sin(roll_rad)
    return np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]]) @ rotation


def h36m_rig(subject: int, seed: int) -> dict[str, Camera]:
    """The four cameras of one subject, keyed by camera id (in `H36M_CAMERA_IDS` order)."""
    rng = np.random.default_rng([seed, 36, subject])
    cameras = {}
    for camera_id in H36M_CAMERA_IDS:
        centre, focal, principal, radial, tangential = (np.array(v, dtype=np.float64) for v in _RIG[camera_id])
        centre = centre + rng.uniform(-120, 120, 3)
        target = np.array([0.0, 0.0, 800.0]) + rng.uniform(-200, 200, 3)
        width, height = (1000, 1002) if camera_id == "60457274" else (1000, 1000)
        cameras[camera_id] = Camera(R=look_at(centre, target, rng.uniform(-0.03, 0.03)), T=centre,
                                    f=focal + rng.uniform(-2, 2, 2), c=principal + rng.uniform(-2, 2, 2),
                                    k=radial, p=tangential, name=camera_id, width=width, height=height)
    return cameras


def lens_of(camera: Camera) -> Lens:
    return Lens(f=camera.f, c=camera.c, k=camera.k, p=camera.p)


def photo_lens(rng: np.random.Generator, width: int, height: int) -> Lens:
    """An everyday camera: no distortion, horizontal field of view between about 45 and 75 degrees."""
    focal = width * rng.uniform(0.65, 1.2)
    centre = np.array([width / 2, height / 2]) + rng.uniform(-0.02, 0.02, 2) * (width, height)
    return Lens(f=np.array([focal, focal]), c=centre)
