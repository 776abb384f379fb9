"""One live run per run folder: a lock file (`.lock`, holding the pid and host while the run lives).

The lock is an exclusive `flock` on the file, which the operating system drops when the process ends however it
ends (SIGKILL included): a lock file left by a dead run is taken over without asking. A second live run in the same
folder is refused with a message naming the folder and the holding pid. Where `fcntl` is missing the pid written
in the file decides (a lock whose pid is not running on this host is stale).
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

from utils.errors import InputError
from utils.processes import process_alive

LOCK_NAME = ".lock"
# The locks this process holds, by folder: a run that ended in an exception without closing leaves its lock here,
# and a later run of the same process in the same folder takes it over instead of refusing itself.
_HELD: dict[Path, "RunLock"] = {}


class RunLockedError(InputError):
    """Another live run holds the run folder."""


class RunLock:
    """`RunLock(run_dir).acquire()` ... `.release()`; see the module docstring."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self._handle = None

    def _holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def acquire(self) -> "RunLock":
        key = self.run_dir.resolve()
        if key in _HELD:
            _HELD.pop(key).release()
        if self.path.is_symlink():
            raise InputError(f"{self.path}: is a symbolic link; a run folder's lock, logs and checkpoints are not "
                             f"written through links: remove it")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            import fcntl
        except ImportError:  # no flock: the pid in the file decides
            fcntl = None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise RunLockedError(f"{self.run_dir} is in use by another run ({self._holder()}); wait for it to "
                                     f"end, or give another --exp or --checkpoint_dir") from None
        else:
            holder = self._holder().split()
            if holder and holder[0].startswith("pid=") and holder[0][4:].isdigit():
                pid = int(holder[0][4:])
                if pid != os.getpid() and process_alive(pid):
                    handle.close()
                    raise RunLockedError(f"{self.run_dir} is in use by another run ({' '.join(holder)}); wait for "
                                         f"it to end, or give another --exp or --checkpoint_dir")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid={os.getpid()} host={socket.gethostname()}\n")
        handle.flush()
        self._handle = handle
        _HELD[key] = self
        return self

    def release(self) -> None:
        """Drop the lock (idempotent). The empty file stays: removing it would let a run that opened it just before
        lock a file that no longer names the folder's lock."""
        if self._handle is None:
            return
        try:
            self._handle.seek(0)
            self._handle.truncate()
        except OSError:
            pass
        self._handle.close()
        self._handle = None
        _HELD.pop(self.run_dir.resolve(), None)
