"""TCP analysis benchmark: what Wireshark's sequence analysis costs on a 1,000,000-packet pcap, beside tshark.

Usage: python bench/bench_tcp_analysis.py [PACKETS]   (default 1,000,000; the file is made in bench/out/)
Prints, each in a fresh process: the index time; the time to analyse the stream of the last packet
(what opening that packet's tree adds); the time and memory to analyse every stream (what a filter
on tcp.analysis.* needs first); and tshark's time to read the file with a tcp.analysis filter.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

_PROBE = """
import resource, sys, time
import tui_sniffer
capture = tui_sniffer.open_capture(sys.argv[1])
started = time.perf_counter()
capture.index_all()
indexed = time.perf_counter()
last_row = capture.index.count - 1
facts = capture.tcp_analysis.segment(last_row)
one_stream = time.perf_counter()
before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
capture.tcp_analysis.analyse_all()
flagged = int((capture.tcp_analysis.flags_column() != 0).sum())
every_stream = time.perf_counter()
after_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(indexed - started, one_stream - indexed, every_stream - one_stream, before_mb, after_mb, flagged)
"""


def main() -> None:
    packets = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    OUT.mkdir(exist_ok=True)
    big = OUT / f"big_{packets}.pcap"
    if not big.exists():
        subprocess.run([sys.executable, str(HERE / "make_big_pcap.py"), str(big), str(packets)], check=True)
    print(f"file: {big} ({packets} packets, {big.stat().st_size / 1e6:.1f} MB)\n")
    output = subprocess.run([sys.executable, "-c", _PROBE, str(big)], capture_output=True, text=True, check=True)
    index_s, stream_s, all_s, before_mb, after_mb, flagged = (float(value) for value in output.stdout.split())
    tshark_text = "n/a"
    tshark = shutil.which("tshark")
    if tshark:
        started = time.perf_counter()
        subprocess.run([tshark, "-n", "-r", str(big), "-Y", "tcp.analysis.flags", "-q"], capture_output=True)
        tshark_text = f"{time.perf_counter() - started:.2f} s"
    print(f"{'':44}{'tui-sniffer':>14}{'tshark':>14}")
    print(f"{'index the file':44}{index_s:>12.2f} s")
    print(f"{'analyse the last packet stream (cold)':44}{stream_s * 1000:>11.1f} ms")
    print(f"{'analyse every stream (tcp.analysis.flags)':44}{all_s:>12.2f} s{tshark_text:>14}")
    print(f"{'peak memory before / after all streams':44}{before_mb:>6.0f} / {after_mb:.0f} MB")
    print(f"\nframes with a TCP analysis flag: {int(flagged)} (tshark's column is its whole read with the filter)")


if __name__ == "__main__":
    main()
