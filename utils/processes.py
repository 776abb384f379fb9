"""Worker processes that end with the process that started them.

A pool's idle workers wait on their task queue; when the parent is killed (SIGKILL, SIGTERM, a closed terminal) it
runs no clean-up and they would wait forever. `exit_with_parent` (a pool initializer) ends them instead.
"""
from __future__ import annotations

import os
import threading
import time

PARENT_CHECK_SECONDS = 1.0  # how often a worker looks whether its parent still lives


def process_alive(pid: int) -> bool:
    """Whether a process `pid` exists on this host (a zombie counts as alive until reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exit_with_parent(parent_pid: int) -> None:
    """Pool initializer: a daemon thread ends this worker when the process `parent_pid` is gone, or when the worker
    is handed to another parent (a forkserver exits with the process that started it)."""
    first_parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != first_parent or not process_alive(parent_pid):
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
