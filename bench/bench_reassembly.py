"""TCP reassembly and Follow Stream benchmark on a 1,000,000-packet pcap, beside tshark.

Usage: python bench/bench_reassembly.py [PACKETS]   (default 1,000,000; the file is made in bench/out/)
Reassembly is lazy: indexing frames nothing, and opening a packet frames only its own stream. Printed,
each in a fresh process: the index time; opening the reassembling last segment of a ~24 KB HTTP
response near the end of the file (cold), then its first segment (framing already done); Follow of
that stream (Python API); headless `-q -z follow,tcp,ascii,N` for the same stream, and tshark's.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

from make_big_pcap import benchmark_file


_PROBE = """
import resource, sys, time
import numpy as np
import tui_sniffer
from tui_sniffer.analysis.follow import follow_stream
capture = tui_sniffer.open_capture(sys.argv[1])
started = time.perf_counter()
capture.index_all()
indexed = time.perf_counter()
streams, payloads = capture.index.column("tcp_stream"), capture.index.column("payload_length")
tail = slice(capture.index.count - 20000, capture.index.count)
tail_streams = streams[tail][streams[tail] >= 0]
totals = np.bincount(tail_streams, weights=payloads[tail][streams[tail] >= 0])
stream = int(np.nonzero(totals > 20000)[0][-1])
rows = np.nonzero((streams == stream) & (payloads > 0))[0]
before = time.perf_counter()
last = capture.dissect(int(rows[-1]) + 1)
opened_last = time.perf_counter()
first = capture.dissect(int(rows[1]) + 1)
opened_first = time.perf_counter()
followed = follow_stream(capture, "tcp", stream)
followed_at = time.perf_counter()
assert last.fields("tcp.segment.count"), "the last segment should reassemble the response"
print(stream, len(rows), last.fields("tcp.segment.count")[0], indexed - started, opened_last - before,
      opened_first - opened_last, followed_at - opened_first, followed.byte_count(),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _timed(command: list[str]) -> tuple[float, str]:
    """Seconds a command took and its output."""
    started = time.perf_counter()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - started, output


def main() -> None:
    packets = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    big = benchmark_file(packets)
    print(f"file: {big} ({packets} packets, {big.stat().st_size / 1e6:.1f} MB)\n")
    output = subprocess.run([sys.executable, "-c", _PROBE, str(big)], capture_output=True, text=True, check=True)
    stream, rows, segments, index_s, last_s, first_s, follow_s, follow_bytes, peak_mb = output.stdout.split()
    request = f"follow,tcp,ascii,{stream}"
    ours_s, ours = _timed([sys.executable, "-m", "tui_sniffer.cli", "-r", str(big), "-q", "-z", request])
    tshark_text, same = "n/a", "n/a"
    tshark = shutil.which("tshark")
    if tshark:
        tshark_s, theirs = _timed([tshark, "-n", "-r", str(big), "-q", "-z", request])
        tshark_text, same = f"{tshark_s:.2f} s", "yes" if ours == theirs else "NO"
    print(f"stream {stream}: {rows} data segments, the response reassembled from {segments} segments\n")
    print(f"{'':46}{'tui-sniffer':>14}{'tshark':>14}")
    print(f"{'index the file':46}{float(index_s):>12.2f} s")
    print(f"{'open the reassembling segment (cold)':46}{float(last_s) * 1000:>11.1f} ms")
    print(f"{'open the stream first segment after it':46}{float(first_s) * 1000:>11.1f} ms")
    print(f"{'Follow the stream, API (' + follow_bytes + ' bytes)':46}{float(follow_s) * 1000:>11.1f} ms")
    print(f"{'-q -z ' + request + ' (whole run)':46}{ours_s:>12.2f} s{tshark_text:>14}")
    print(f"{'peak memory of the probe':46}{float(peak_mb):>9.0f} MB")
    print(f"\nfollow output identical to tshark's: {same}")


if __name__ == "__main__":
    main()
