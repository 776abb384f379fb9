"""Video files through OpenCV: frames in as RGB uint8 batches with the frame rate, frames out as mp4 (mp4v)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from utils.atomic import file_mode
from utils.errors import InputError


class VideoReader:
    """Frames of a video file as RGB uint8 (H, W, 3), in batches; `fps` and `frame_count` (OpenCV's estimate)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"video {self.path}: file not found")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise InputError(f"video {self.path}: OpenCV cannot open it (not a video, or a codec it lacks)")
        self.fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
        self.frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.width, self.height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        capture.release()

    def batches(self, batch_size: int) -> Iterator[list[np.ndarray]]:
        capture = cv2.VideoCapture(str(self.path))
        try:
            batch: list[np.ndarray] = []
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                batch.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                if len(batch) == batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            capture.release()

    def frames(self) -> Iterator[np.ndarray]:
        for batch in self.batches(1):
            yield batch[0]


class VideoWriter:
    """RGB uint8 frames (all of one size) to an mp4 file (OpenCV's mp4v codec) at `fps`. The frames go to a
    temporary file beside `path` (still named .mp4, which OpenCV needs to pick the container) that replaces `path`
    when the writer closes normally, so a failed or interrupted run leaves no half-written video."""

    def __init__(self, path: str | Path, fps: float, size_px: tuple[int, int]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.temp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp{self.path.suffix or '.mp4'}")
        self.size_px = size_px  # (width, height)
        self.writer = cv2.VideoWriter(str(self.temp), cv2.VideoWriter_fourcc(*"mp4v"), fps, size_px)
        if not self.writer.isOpened():
            self.temp.unlink(missing_ok=True)
            raise InputError(f"{self.path}: OpenCV cannot write an mp4v video here")

    def write(self, frame_rgb: np.ndarray) -> None:
        assert frame_rgb.shape[1::-1] == self.size_px, (frame_rgb.shape, self.size_px)
        self.writer.write(cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        """Finish the file and put it in place."""
        self.writer.release()
        os.chmod(self.temp, file_mode())
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        self.writer.release()
        self.temp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, error_type, *_) -> None:
        self.discard() if error_type is not None else self.close()
