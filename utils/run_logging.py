"""Console and TensorBoard logging for a run; only the main process writes."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from utils.errors import OutputError

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


class _RaisingFileHandler(logging.FileHandler):
    """A log file whose write failures stop the run (logging's default prints a traceback and goes on)."""

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        cause = getattr(error, "strerror", None) or error
        raise OutputError(f"{self.baseFilename}: cannot write the run's log ({cause})")


class _EventsGuard:
    """Watches tensorboardX's background writer. Left alone, a failed write (ENOSPC, EIO, ...) kills its thread,
    and the next events block the main thread forever on the full queue. The guard keeps the thread alive (the
    failing write is recorded, not raised there) and turns the failure into an OutputError naming the folder and
    the cause at the next call of the main thread."""

    def __init__(self, writer, tb_dir: Path):
        self.tb_dir, self.error = tb_dir, None
        events = writer._get_file_writer().event_writer
        self._events, self._file = events, events._ev_writer
        for method in ("write_event", "flush"):
            setattr(self._file, method, self._recording(getattr(self._file, method)))

    def _recording(self, method):
        def guarded(*args):
            try:
                return method(*args)
            except Exception as error:
                self.error = self.error or error
                return None

        return guarded

    def abandon(self) -> None:
        """Stop the writer thread and drop the events file (failing writes are swallowed, so the queue drains);
        a thread that died some other way is left alone, as its queue may never drain. tensorboardX's exit
        handler then does nothing."""
        worker = getattr(self._events, "_worker", None)
        try:
            if worker is not None and worker.is_alive():
                self._events.close()
        except OSError:
            pass
        finally:
            self._events._closed = True

    def failure(self) -> OutputError | None:
        worker = getattr(self._events, "_worker", None)
        if self.error is None and (worker is None or worker.is_alive()):
            return None
        cause = getattr(self.error, "strerror", None) or self.error or "the writer thread stopped"
        self.abandon()
        return OutputError(f"{self.tb_dir}: cannot write TensorBoard events ({cause}); the run stops, its last "
                           f"complete checkpoint is kept")


class RunLogger:
    """TensorBoard scalars/images (tensorboardX) plus a plain-text log file in the run folder. A failure to write
    either (a full disk, ...) raises `OutputError` naming the path and the cause, at once or at the next call."""

    def __init__(self, tb_dir: str | Path | None, log_file: str | Path | None = None, enabled: bool = True):
        self.enabled = enabled
        self.console = get_logger()
        self.writer = None
        self._guard = None
        self._file_handler = None
        if not enabled:
            return
        try:
            if tb_dir is not None:
                from tensorboardX import SummaryWriter

                self.writer = SummaryWriter(str(tb_dir))
                self._guard = _EventsGuard(self.writer, Path(tb_dir))
            if log_file is not None:
                Path(log_file).parent.mkdir(parents=True, exist_ok=True)
                self._file_handler = _RaisingFileHandler(log_file)
        except OSError as error:
            self.close()
            raise OutputError(f"{error.filename or tb_dir}: cannot be written ({error.strerror or error})") from error
        if self._file_handler is not None:
            self._file_handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.console.addHandler(self._file_handler)

    def _check_events(self) -> None:
        failure = self._guard.failure() if self._guard is not None else None
        if failure is not None:
            self.writer, self._guard = None, None  # closing it would wait on the dead thread
            raise failure

    def info(self, message: str) -> None:
        if self.enabled:
            self.console.info(message)

    def scalars(self, values: dict[str, float], step: int, prefix: str = "") -> None:
        if self.writer is not None:
            self._check_events()
            for name, value in values.items():
                self.writer.add_scalar(f"{prefix}{name}", float(value), step)

    def image(self, tag: str, image_hwc: np.ndarray, step: int) -> None:
        """image_hwc: (H, W, 3) uint8 or float in [0, 1]."""
        if self.writer is not None:
            self._check_events()
            self.writer.add_image(tag, image_hwc, step, dataformats="HWC")

    def close(self) -> None:
        """Flush and close; raises OutputError if the events could not be written (after closing the log file)."""
        failure = None
        try:
            if self.writer is not None:
                failure = self._guard.failure() if self._guard is not None else None
                if failure is None:
                    self.writer.close()
                    failure = self._guard.failure() if self._guard is not None else None
        except OSError as error:
            failure = OutputError(f"{self._guard.tb_dir if self._guard else 'TensorBoard'}: cannot write TensorBoard "
                                  f"events ({error.strerror or error})")
        finally:
            self.writer, self._guard = None, None
            if self._file_handler is not None:
                handler, self._file_handler = self._file_handler, None
                self.console.removeHandler(handler)
                try:
                    handler.close()
                except OSError as error:
                    failure = failure or OutputError(f"{handler.baseFilename}: cannot write the run's log "
                                                     f"({error.strerror or error})")
        if failure is not None:
            raise failure
