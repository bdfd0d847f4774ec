"""Defers Python's full garbage collections to moments when the user is not typing or scrolling.

A full (generation 2) collection walks every live object; with a few hundred dissected packets in
the capture's caches that takes 100–200 ms, a visible stall when it lands in a page-down. The young
generations still run as usual (they reclaim scapy's short-lived reference cycles at once); only
the full pass waits until input has been quiet for a moment. Textual's PAUSE_GC_ON_SCROLL does the
same for animations, by turning all collection off.
"""
from __future__ import annotations

import gc
import time

QUIET_SECONDS = 1.0
_NEVER_ON_ITS_OWN = 1 << 30


class IdleCollector:
    """Holds back automatic full collections and runs them after `QUIET_SECONDS` without input."""

    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self._saved_thresholds = gc.get_threshold()

    def start(self) -> None:
        """Stop the interpreter from running full collections on its own."""
        self._saved_thresholds = gc.get_threshold()
        young, middle, _ = self._saved_thresholds
        gc.set_threshold(young, middle, _NEVER_ON_ITS_OWN)

    def stop(self) -> None:
        """Give the interpreter its own collection schedule back."""
        gc.set_threshold(*self._saved_thresholds)

    def input_seen(self) -> None:
        """Note that the user just pressed a key or used the mouse."""
        self.last_input = time.monotonic()

    def collect_if_quiet(self) -> bool:
        """Run the held-back full collection if one is due and input has been quiet; whether it ran."""
        due = gc.get_count()[2] >= self._saved_thresholds[2]
        if due and time.monotonic() - self.last_input >= QUIET_SECONDS:
            gc.collect()
            return True
        return False
