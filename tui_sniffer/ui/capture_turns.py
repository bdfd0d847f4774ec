"""Turns on the open capture between the UI thread and the filter worker, the UI first.

The capture's dissection caches are not thread-safe, so one thread dissects at a time. The worker
takes the capture for one progress item (~50 ms of work) at a time, and not while the UI thread has
used it within the last `UI_GRACE_SECONDS`: scrolling and selecting stay quick during a long filter
run, which goes on at full speed as soon as the user pauses. (With a plain lock the worker, which
takes it straight back after each item, starves the UI thread.)
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from time import monotonic, sleep
from typing import Iterator

UI_GRACE_SECONDS = 0.15


class CaptureTurns:
    """Who may dissect now: the UI thread whenever it asks (`with turns:`, waiting at most for the
    worker's current item), a worker (`with turns.worker():`) when the UI has been quiet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ui_busy_until = 0.0

    def __enter__(self) -> None:
        self._ui_busy_until = monotonic() + UI_GRACE_SECONDS
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()
        self._ui_busy_until = monotonic() + UI_GRACE_SECONDS

    @contextmanager
    def worker(self) -> Iterator[None]:
        """A worker's turn, once the UI thread has left the capture alone for a moment."""
        while (wait := self._ui_busy_until - monotonic()) > 0:
            sleep(wait)
        with self._lock:
            yield
