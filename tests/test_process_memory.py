"""Freed multi-megabyte numpy temporaries go back to the system once the CLI has set up the process."""
from __future__ import annotations

import platform
import subprocess
import sys

import pytest

_PROBE = """
import sys
import numpy as np
from tui_sniffer.process_memory import return_freed_blocks_to_os
if sys.argv[1] == "set up":
    return_freed_blocks_to_os()
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
first = np.ones(8 << 20, np.uint8)
del first
blocks, kept = [], []
for _ in range(20):
    blocks.append(np.ones(2 << 20, np.uint8))
    kept.append(np.ones(200 << 10, np.uint8))
before = resident()
del blocks
print(before - resident())
"""


def _released_bytes(mode: str) -> int:
    """Bytes of resident memory given back when twenty 2 MiB arrays, interleaved with kept 200 KiB
    ones, are freed after an 8 MiB one was (which makes glibc raise its mmap threshold to 8 MiB)."""
    result = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return int(result.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the mmap threshold is a glibc setting")
def test_freed_big_arrays_leave_resident_memory():
    released = _released_bytes("set up")
    assert released >= 30 << 20
    assert released > _released_bytes("as started") + (20 << 20)
