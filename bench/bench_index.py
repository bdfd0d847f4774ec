"""Foundation benchmark: index a 1,000,000-packet pcap and print its last packet's tree, beside tshark.

Usage: python bench/bench_index.py [PACKETS]   (default 1,000,000; the file is made in bench/out/)
Prints, for tui-sniffer and for tshark on the same file in the same run: the time to read the whole
file, peak memory, and the time to print the last packet's detail tree.
"""
from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time

from make_big_pcap import benchmark_file


_INDEX_PROBE = """
import resource, sys, time
import tui_sniffer
started = time.perf_counter()
capture = tui_sniffer.open_capture(sys.argv[1])
count = len(capture)
elapsed = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{count} {elapsed:.3f} {peak_mb:.1f} {capture.index.nbytes() / 1e6:.1f}")
"""


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run a command; return its wall time, the children's peak RSS in MB, and its stdout."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if result.returncode not in (0, 2):
        print(result.stderr[-2000:], file=sys.stderr)
    return elapsed, peak_mb, result.stdout


def main() -> None:
    packets = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    big = benchmark_file(packets)
    size_mb = big.stat().st_size / 1e6
    print(f"file: {big} ({packets} packets, {size_mb:.1f} MB)\n")

    count, index_s, index_peak, column_mb = subprocess.run(
        [sys.executable, "-c", _INDEX_PROBE, str(big)], capture_output=True, text=True, check=True
    ).stdout.split()
    tree_s, _, tree_out = timed([sys.executable, "-m", "tui_sniffer.cli", "-r", str(big), "-V",
                                 "--frame", str(packets)])
    assert tree_out.startswith(f"Frame {packets}:"), tree_out[:200]
    print(f"{'':34}{'tui-sniffer':>14}{'tshark':>14}")
    tshark = shutil.which("tshark")
    tshark_read = tshark_tree = "n/a"
    if tshark:
        read_s, _, _ = timed([tshark, "-n", "-r", str(big), "-q"])
        tshark_read = f"{read_s:.2f} s"
        tshark_tree_s, _, _ = timed([tshark, "-n", "-r", str(big), "-V", "-Y", f"frame.number == {packets}"])
        tshark_tree = f"{tshark_tree_s:.2f} s"
    print(f"{'read/index whole file':34}{float(index_s):>12.2f} s{tshark_read:>14}")
    print(f"{'peak memory (index)':34}{float(index_peak):>11.0f} MB{'':>14}")
    print(f"{'  of which index columns':34}{float(column_mb):>11.0f} MB")
    print(f"{'-V of the last packet (cold start)':34}{tree_s:>12.2f} s{tshark_tree:>14}")
    print(f"\npackets indexed: {count}; targets: index < 5 s, peak < 300 MB, last tree < 2 s")


if __name__ == "__main__":
    main()
