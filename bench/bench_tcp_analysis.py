"""TCP analysis benchmark: what Wireshark's sequence analysis costs on a 1,000,000-packet pcap, beside tshark.

Usage: python bench/bench_tcp_analysis.py [PACKETS]   (default 1,000,000; the file is made in bench/out/)
Prints, each in a fresh process: the index time; the time to analyse the stream of the last packet
(what opening that packet's tree adds); the time and memory to analyse every stream (what a filter
on tcp.analysis.* needs first); the time the analysis columns then take to decide such a filter on
every packet; and tshark's time to read the file with that filter.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

from make_big_pcap import benchmark_file


_FILTER = "tcp.analysis.retransmission || tcp.analysis.duplicate_ack"
_PROBE = """
import resource, sys, time
import tui_sniffer
from tui_sniffer.analysis.tcp_columns import with_tcp_analysis
from tui_sniffer.filter import compile_filter, evaluate_columns
from tui_sniffer.store.filter_columns import IndexColumns
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
count = capture.index.count
columns = with_tcp_analysis(IndexColumns(capture.index), capture.tcp_analysis, 0, count)
verdict = evaluate_columns(compile_filter(sys.argv[2]), columns)
filtered = time.perf_counter()
print(indexed - started, one_stream - indexed, every_stream - one_stream, before_mb, after_mb, flagged,
      filtered - every_stream, int(verdict.surely.sum()), int(verdict.maybe.sum()))
"""


def main() -> None:
    packets = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    big = benchmark_file(packets)
    print(f"file: {big} ({packets} packets, {big.stat().st_size / 1e6:.1f} MB)\n")
    output = subprocess.run([sys.executable, "-c", _PROBE, str(big), _FILTER], capture_output=True, text=True,
                            check=True)
    index_s, stream_s, all_s, before_mb, after_mb, flagged, filter_s, matched, undecided = (
        float(value) for value in output.stdout.split())
    tshark_text = "n/a"
    tshark = shutil.which("tshark")
    if tshark:
        started = time.perf_counter()
        subprocess.run([tshark, "-n", "-r", str(big), "-Y", _FILTER, "-q"], capture_output=True)
        tshark_text = f"{time.perf_counter() - started:.2f} s"
    print(f"{'':44}{'tui-sniffer':>14}{'tshark':>14}")
    print(f"{'index the file':44}{index_s:>12.2f} s")
    print(f"{'analyse the last packet stream (cold)':44}{stream_s * 1000:>11.1f} ms")
    print(f"{'analyse every stream':44}{all_s:>12.2f} s")
    print(f"{'then decide the filter from the columns':44}{filter_s:>12.2f} s")
    print(f"{'  together (tshark: read with the filter)':44}{all_s + filter_s:>12.2f} s{tshark_text:>14}")
    print(f"{'peak memory before / after all streams':44}{before_mb:>6.0f} / {after_mb:.0f} MB")
    print(f"\nfilter {_FILTER!r}: {int(matched)} frames match, {int(undecided)} left to dissection; "
          f"{int(flagged)} frames have some TCP analysis flag")


if __name__ == "__main__":
    main()
