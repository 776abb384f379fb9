"""Human3.6M cameras: reading `cameras.h5`, world <-> camera frames and projection with lens distortion.

Conventions (the same as the 3D pose baseline and VideoPose3D):
- `Camera.R` maps world to camera: X_cam = R (X_world - T), T is the camera centre in world mm.
  In `cameras.h5` the stored R maps camera to world, so it is transposed on load.
- Distortion: radial k1..k3 and tangential (p1, p2). `cameras.h5` stores the tangential pair reversed,
  so it is reversed on load. The projection follows Human3.6M's own model (the one its 2D labels were made with).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from utils.errors import InputError

H36M_CAMERA_IDS: tuple[str, ...] = ("54138969", "55011271", "58860488", "60457274")


@dataclass(frozen=True)
class Camera:
    """One calibrated camera. Lengths in mm, focal length and centre in pixels."""

    R: np.ndarray  # (3, 3) world -> camera rotation
    T: np.ndarray  # (3,) camera centre in world coordinates, mm
    f: np.ndarray  # (2,) focal length, px
    c: np.ndarray  # (2,) principal point, px
    k: np.ndarray  # (3,) radial distortion
    p: np.ndarray  # (2,) tangential distortion (p1, p2)
    name: str = ""
    width: int = 1000
    height: int = 1000

    def world_to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world mm -> (..., 3) camera frame mm."""
        return world_to_camera(points_world, self.R, self.T)

    def camera_to_world(self, points_camera: np.ndarray) -> np.ndarray:
        """(..., 3) camera frame mm -> (..., 3) world mm."""
        return camera_to_world(points_camera, self.R, self.T)

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """(..., 3) camera frame (any length unit) -> (..., 2) distorted image pixels."""
        return project_to_pixels(points_camera, self.f, self.c, self.k, self.p)

    def project_world(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world mm -> (..., 2) distorted image pixels."""
        return self.project(self.world_to_camera(points_world))


def world_to_camera(points_world: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """X_cam = R (X_world - T). points (..., 3), R (3, 3) world->camera, T (3,) camera centre."""
    assert points_world.shape[-1] == 3, points_world.shape
    return (points_world - np.reshape(T, 3)) @ R.T


def camera_to_world(points_camera: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """X_world = R^T X_cam + T, the inverse of `world_to_camera`."""
    assert points_camera.shape[-1] == 3, points_camera.shape
    return points_camera @ R + np.reshape(T, 3)


def project_to_pixels(points_camera, f, c, k, p):
    """Pinhole projection with Human3.6M's radial + tangential distortion.

    points_camera: (..., 3) camera frame, z > 0 in front of the camera; f, c: (2,) px; k: (3,); p: (2,) = (p1, p2).
    Returns (..., 2) pixels. Works on numpy arrays and torch tensors (differentiable).
    """
    assert points_camera.shape[-1] == 3, points_camera.shape
    xy = points_camera[..., :2] / points_camera[..., 2:3]
    r2 = (xy ** 2).sum(-1, keepdims=True)
    k1, k2, k3 = (float(v) for v in np.reshape(k, 3))
    p_flat = [float(v) for v in np.reshape(p, 2)]
    radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
    tangential = p_flat[0] * xy[..., 0:1] + p_flat[1] * xy[..., 1:2]
    shift = _stack_last(p_flat[0] * r2, p_flat[1] * r2)
    distorted = xy * (radial + tangential) + shift
    return distorted * _like(f, distorted) + _like(c, distorted)


def _stack_last(a, b):
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b], axis=-1)
    import torch

    return torch.cat([a, b], dim=-1)


def _like(values, reference):
    """(2,) camera parameter in the array type, dtype and device of `reference`."""
    flat = np.reshape(np.asarray(values, dtype=np.float64), 2)
    if isinstance(reference, np.ndarray):
        return flat.astype(reference.dtype)
    import torch

    return torch.as_tensor(flat, dtype=reference.dtype, device=reference.device)


def _read(group: h5py.Group, field: str, path: Path, shape: tuple[int, ...]) -> np.ndarray:
    if field not in group:
        raise KeyError(f"{path}: camera group '{group.name}' has no field '{field}' (expected shape {shape})")
    value = np.asarray(group[field][()], dtype=np.float64)
    if value.size != int(np.prod(shape)):
        raise ValueError(f"{path}: '{group.name}/{field}' has shape {value.shape}, expected {shape}")
    if not np.isfinite(value).all():
        raise InputError(f"{path}: '{group.name}/{field}' holds NaN/inf values ({value.ravel().tolist()}); the "
                         f"camera cannot project")
    if field == "f" and not (value > 0).all():
        raise InputError(f"{path}: '{group.name}/f' (focal length, px) must be positive, got {value.ravel().tolist()}")
    return value.reshape(shape)


def load_h36m_cameras(path: str | Path, subjects: list[int] | None = None) -> dict[tuple[int, str], Camera]:
    """Read a Human3.6M `cameras.h5` into {(subject, camera_id): Camera}.

    Layout: groups `subject{n}/camera{1..4}` with R (3,3) camera->world, T (3,1) mm, f, c (2,1), k (3,1),
    p (2,1) reversed, Name (8,1) ASCII codes of the camera id.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"camera file not found: {path} (expected a Human3.6M cameras.h5)")
    cameras: dict[tuple[int, str], Camera] = {}
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"{path}: not a readable HDF5 camera file ({error})") from error
    with handle:
        subject_groups = [name for name in handle if name.startswith("subject")]
        if not subject_groups:
            raise KeyError(f"{path}: no 'subject<N>' groups; this is not a Human3.6M cameras.h5")
        for group_name in subject_groups:
            subject = int(group_name[len("subject"):])
            if subjects is not None and subject not in subjects:
                continue
            for camera_group in sorted(handle[group_name]):
                group = handle[group_name][camera_group]
                name_codes = np.asarray(group["Name"][()]).ravel() if "Name" in group else np.array([])
                name = "".join(chr(int(code)) for code in name_codes.ravel()) or camera_group
                width, height = (1000, 1002) if name == "60457274" else (1000, 1000)
                cameras[(subject, name)] = Camera(
                    R=_read(group, "R", path, (3, 3)).T,
                    T=_read(group, "T", path, (3,)),
                    f=_read(group, "f", path, (2,)),
                    c=_read(group, "c", path, (2,)),
                    k=_read(group, "k", path, (3,)),
                    p=_read(group, "p", path, (2,))[::-1].copy(),
                    name=name,
                    width=width,
                    height=height,
                )
    return cameras


def save_h36m_cameras(path: str | Path, cameras: dict[tuple[int, str], Camera]) -> None:
    """Write cameras in the `cameras.h5` layout and conventions that `load_h36m_cameras` reads."""
    by_subject: dict[int, list[Camera]] = {}
    for (subject, _), camera in sorted(cameras.items()):
        by_subject.setdefault(subject, []).append(camera)
    with h5py.File(path, "w") as handle:
        for subject, subject_cameras in by_subject.items():
            for index, camera in enumerate(subject_cameras, start=1):
                group = handle.create_group(f"subject{subject}/camera{index}")
                group["R"] = camera.R.T
                group["T"] = camera.T.reshape(3, 1)
                group["f"] = camera.f.reshape(2, 1)
                group["c"] = camera.c.reshape(2, 1)
                group["k"] = camera.k.reshape(3, 1)
                group["p"] = camera.p[::-1].reshape(2, 1)
                group["Name"] = np.array([float(ord(ch)) for ch in camera.name]).reshape(-1, 1)


def quaternion_to_matrix(quaternion: np.ndarray) -> np.ndarray:
    """(4,) unit quaternion (w, x, y, z) -> (3, 3) rotation matrix (the rotation it applies to column vectors)."""
    w, x, y, z = np.asarray(quaternion, dtype=np.float64) / np.linalg.norm(quaternion)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """(3, 3) rotation matrix -> (4,) unit quaternion (w, x, y, z) with w >= 0 (the inverse of `quaternion_to_matrix`)."""
    m = np.asarray(rotation, dtype=np.float64)
    trace = np.trace(m)
    candidates = np.array([trace, m[0, 0], m[1, 1], m[2, 2]])
    i = int(np.argmax(candidates))
    if i == 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        j, k = (i % 3) + 1, ((i + 1) % 3) + 1  # the other two axes, cyclic
        a, b, c = i - 1, j - 1, k - 1
        s = 2.0 * np.sqrt(1.0 + m[a, a] - m[b, b] - m[c, c])
        q = [0.0] * 4
        q[0] = (m[c, b] - m[b, c]) / s
        q[i] = 0.25 * s
        q[j] = (m[b, a] + m[a, b]) / s
        q[k] = (m[c, a] + m[a, c]) / s
    q = np.array(q)
    return q * (1.0 if q[0] >= 0 else -1.0)


def camera_from_videopose3d(orientation: np.ndarray, translation_mm: np.ndarray, **intrinsics) -> Camera:
    """A camera from VideoPose3D's extrinsics: `orientation` the camera -> world quaternion (w, x, y, z),
    `translation_mm` the camera centre in world mm (VideoPose3D lists mm and divides by 1000). Intrinsics (f, c, k,
    p, name, width, height) default to a distortion-free 640 x 480 camera with unit focal length."""
    defaults = {"f": np.ones(2), "c": np.zeros(2), "k": np.zeros(3), "p": np.zeros(2), "width": 640, "height": 480}
    defaults.update(intrinsics)
    return Camera(R=quaternion_to_matrix(orientation).T, T=np.asarray(translation_mm, dtype=np.float64), **defaults)
