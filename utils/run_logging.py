"""Console and TensorBoard logging for a run; only the main process writes."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

LOGGER_NAME = "stitchpose"


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is at the time of each message (redirections and captures included)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property always reads sys.stdout
        pass


def get_logger() -> logging.Logger:
    """The project logger: INFO to stdout, message only (set up on first use)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def progress(iterable=None, enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar on stderr, hidden on non-main processes and refreshed at most twice a second."""
    return tqdm(iterable, disable=not enabled, mininterval=0.5, dynamic_ncols=True, leave=False, **kwargs)


class RunLogger:
    """TensorBoard scalars/images (tensorboardX) plus a plain-text log file in the run folder."""

    def __init__(self, tb_dir: str | Path | None, log_file: str | Path | None = None, enabled: bool = True):
        self.enabled = enabled
        self.console = get_logger()
        self.writer = None
        self._file_handler = None
        if not enabled:
            return
        if tb_dir is not None:
            from tensorboardX import SummaryWriter

            self.writer = SummaryWriter(str(tb_dir))
        if log_file is not None:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            self._file_handler = logging.FileHandler(log_file)
            self._file_handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.console.addHandler(self._file_handler)

    def info(self, message: str) -> None:
        if self.enabled:
            self.console.info(message)

    def scalars(self, values: dict[str, float], step: int, prefix: str = "") -> None:
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"{prefix}{name}", float(value), step)

    def image(self, tag: str, image_hwc: np.ndarray, step: int) -> None:
        """image_hwc: (H, W, 3) uint8 or float in [0, 1]."""
        if self.writer is not None:
            self.writer.add_image(tag, image_hwc, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self._file_handler is not None:
            self.console.removeHandler(self._file_handler)
            self._file_handler.close()
