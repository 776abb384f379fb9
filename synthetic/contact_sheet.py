"""`python -m synthetic.contact_sheet --data_dir DIR --out sheet.png`: a PNG grid of samples with their labels drawn.

MPII tiles show every person's 16 joints from mpii_annotations.json (green visible, red occluded) and head boxes;
Human3.6M tiles show the 32-joint skeleton from data_2d_h36m_gt.npz on the rendered frame.
Reads only the written files, so the sheet checks what loaders will see.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from utils.atomic import atomic_path
from utils.cameras import H36M_CAMERA_IDS
from utils.cli import Parser
from utils.npz import load_npz
from utils.skeletons import H36M32, MPII

TILE = (360, 270)  # width, height of one grid cell, px
_SIDE_COLOURS = {"left": (255, 140, 0), "right": (0, 120, 255), "centre": (255, 255, 255)}  # BGR


def _fit(image: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Letterbox into a tile; returns the tile, the scale and the (x, y) offset applied."""
    height, width = image.shape[:2]
    scale = min(TILE[0] / width, TILE[1] / height)
    resized = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    tile = np.zeros((TILE[1], TILE[0], 3), np.uint8)
    x, y = (TILE[0] - resized.shape[1]) // 2, (TILE[1] - resized.shape[0]) // 2
    tile[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
    return tile, scale, (x, y)


def _point(xy, scale: float, offset: tuple[int, int]) -> tuple[int, int]:
    return int(round(xy[0] * scale + offset[0])), int(round(xy[1] * scale + offset[1]))


def _draw_skeleton(tile, joints_px, annotated, visible, skeleton, scale, offset) -> None:
    for parent, child in skeleton.bones:
        if annotated[parent] and annotated[child]:
            colour = _SIDE_COLOURS[skeleton.side_of(child)]
            cv2.line(tile, _point(joints_px[parent], scale, offset), _point(joints_px[child], scale, offset),
                     colour, 1, cv2.LINE_AA)
    for joint in np.flatnonzero(annotated):
        colour = (0, 220, 0) if visible[joint] else (0, 0, 255)
        cv2.circle(tile, _point(joints_px[joint], scale, offset), 2, colour, -1, cv2.LINE_AA)


def _caption(tile: np.ndarray, text: str) -> None:
    cv2.putText(tile, text, (4, TILE[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(tile, text, (4, TILE[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)


def mpii_tiles(data_dir: Path, count: int) -> list[np.ndarray]:
    records = json.loads((data_dir / "mpii" / "mpii_annotations.json").read_text())
    by_image: dict[str, list[dict]] = {}
    for record in records:
        by_image.setdefault(record["img_paths"], []).append(record)
    names = sorted(by_image)
    tiles = []
    for name in names[:: max(len(names) // max(count, 1), 1)][:count]:
        image = cv2.imread(str(data_dir / "mpii" / "images" / name))
        tile, scale, offset = _fit(image)
        for record in by_image[name]:
            joints = np.array(record["joint_self"], dtype=np.float64)
            annotated = (joints[:, :2] != 0).any(axis=1)
            _draw_skeleton(tile, joints[:, :2], annotated, joints[:, 2] > 0, MPII, scale, offset)
            (x1, y1), (x2, y2) = record["headboxes"]
            cv2.rectangle(tile, _point((x1, y1), scale, offset), _point((x2, y2), scale, offset), (255, 255, 0), 1)
        split = "val" if by_image[name][0]["isValidation"] else "train"
        _caption(tile, f"MPII {name} {split} {len(by_image[name])}p")
        tiles.append(tile)
    return tiles


def h36m_tiles(data_dir: Path, count: int) -> list[np.ndarray]:
    frames = json.loads((data_dir / "h36m" / "frames.json").read_text())
    positions_2d = load_npz(data_dir / "h36m" / "data_2d_h36m_gt.npz")["positions_2d"].item()
    tiles = []
    picks = np.random.default_rng(0).choice(len(frames), size=min(count, len(frames)), replace=False)
    for item in [frames[index] for index in sorted(picks)]:  # spread over subjects, actions and cameras
        image = cv2.imread(str(data_dir / "h36m" / item["image"]))
        camera = H36M_CAMERA_IDS.index(item["camera"])
        joints = positions_2d[item["subject"]][item["action"]][camera][item["frame"]]
        # zoom on the actor: a 4:3 window 1.5 x the skeleton's height (at least 400 px), inside the frame
        height = max(1.5 * np.ptp(joints[:, 1]), 400.0)
        size = np.array([height * TILE[0] / TILE[1], height])
        corner = np.clip((joints.min(0) + joints.max(0)) / 2 - size / 2, 0, np.array(image.shape[1::-1]) - size)
        x0, y0 = np.maximum(corner, 0).astype(int)
        x1, y1 = (corner + size).astype(int)
        tile, scale, offset = _fit(image[y0:y1, x0:x1])
        joints = joints - (x0, y0)
        everything = np.ones(32, dtype=bool)
        _draw_skeleton(tile, joints, everything, everything, H36M32, scale, offset)
        _caption(tile, f"{item['subject']} {item['action']} .{item['camera']} #{item['frame']}")
        tiles.append(tile)
    return tiles


def contact_sheet(data_dir: Path, mpii_count: int = 12, h36m_count: int = 8, columns: int = 4) -> np.ndarray:
    """(H, W, 3) BGR grid: MPII samples first, then Human3.6M frames."""
    tiles = mpii_tiles(data_dir, mpii_count) + h36m_tiles(data_dir, h36m_count)
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    rows = [np.concatenate(tiles[start:start + columns], axis=1) for start in range(0, len(tiles), columns)]
    return np.concatenate(rows, axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m synthetic.contact_sheet", description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", type=Path, default=None, help="dataset root (default: the cached small set)")
    parser.add_argument("--out", type=Path, default=Path("docs/synthetic_contact_sheet.png"), help="PNG to write")
    parser.add_argument("--mpii", type=int, default=12, help="number of MPII images")
    parser.add_argument("--h36m", type=int, default=8, help="number of Human3.6M frames")
    args = parser.parse_args(argv)
    data_dir = args.data_dir
    if data_dir is None:
        from synthetic.cache import default_data_dir

        data_dir = default_data_dir()
    if not (data_dir / "mpii" / "mpii_annotations.json").is_file():
        print(f"error: {data_dir} is not a synthetic dataset root (no mpii/mpii_annotations.json); "
              "generate one with `python -m synthetic --out DIR`", file=sys.stderr)
        return 2
    _, png = cv2.imencode(".png", contact_sheet(data_dir, args.mpii, args.h36m), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    with atomic_path(args.out) as temp:
        temp.write_bytes(png.tobytes())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
