"""Keep resident memory close to what the program holds: big freed temporaries go back to the OS."""
from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 1 << 20
"""Blocks from 1 MiB up get their own mapping, unmapped on free. Per-batch arrays stay below it and
keep reusing heap memory: at glibc's 128 KiB start value each one was a fresh mapping and indexing
the 1M-packet file took twice as long (ten times the page faults)."""


def return_freed_blocks_to_os() -> None:
    """Pin glibc's mmap threshold, which it otherwise raises each time a big mapped block is freed.

    After numpy's first multi-megabyte temporary is freed, glibc would serve every later block of up
    to that size from the heap, where freed blocks stay resident: ~45 MB more RSS after indexing the
    1,000,000-packet benchmark file. Without glibc (another C library) this does nothing.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
