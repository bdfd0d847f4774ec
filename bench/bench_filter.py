"""Display-filter benchmark: five filters on a 1,000,000-packet pcap, beside tshark -Y in the same run.

Usage: python bench/bench_filter.py [PACKETS] [--limit SECONDS]   (default 1,000,000; the file is made
in bench/out/ by make_big_pcap.py)

For each filter it prints the time tui-sniffer takes once the file is indexed (Capture.iter_filter
to the last progress item, on a capture opened for that filter alone, so no filter profits from what
an earlier one worked out) and the time `tshark -n -r FILE -Y FILTER -T fields -e frame.number`
takes from start to end, with both match counts. Both run twice: per segment (our
`open_capture(reassemble=False)`, tshark `-o tcp.desegment_tcp_streams:FALSE`) and with TCP
reassembly (both tools' default). A run of ours past the limit is stopped and shown as such.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from make_big_pcap import benchmark_file

FILTERS = ['tcp.port == 80', 'ip.src == 10.0.0.0/8 and tcp.flags.syn == 1', 'frame.len > 1000',
           'http.request.method == "GET"', 'dns.qry.name contains "example"', 'http']
TARGETS = {FILTERS[0]: "< 1 s", FILTERS[1]: "< 1 s", FILTERS[2]: "< 1 s",
           FILTERS[3]: "< tshark", FILTERS[4]: "< tshark", FILTERS[5]: "< tshark"}

_PROBE = """
import sys, time
import tui_sniffer
from tui_sniffer.filter import compile_filter
path, reassemble, limit = sys.argv[1], sys.argv[2] == "on", float(sys.argv[3])
for number, text in enumerate(sys.argv[4:]):
    capture = tui_sniffer.open_capture(path, reassemble=reassemble)
    started = time.perf_counter()
    capture.index_all()
    if not number:
        print(f"index {time.perf_counter() - started:.3f}", flush=True)
    compiled = compile_filter(text)
    started = time.perf_counter()
    matches, done = 0, 0
    for progress in capture.iter_filter(compiled):
        matches += len(progress.frames)
        done = progress.rows_done
        if time.perf_counter() - started > limit:
            break
    print(f"{time.perf_counter() - started:.3f}\\t{matches}\\t{done}\\t{text}", flush=True)
    capture.close()
"""


def ours(big: Path, reassemble: bool, limit: float) -> tuple[float, dict[str, tuple[float, int, int]]]:
    """Index time and, per filter, (seconds, matches, rows examined) for tui-sniffer."""
    output = subprocess.run([sys.executable, "-c", _PROBE, str(big), "on" if reassemble else "off", str(limit),
                             *FILTERS], capture_output=True, text=True, check=True).stdout.splitlines()
    index_seconds = float(output[0].split()[1])
    results = {}
    for line in output[1:]:
        seconds, matches, done, text = line.split("\t")
        results[text] = (float(seconds), int(matches), int(done))
    return index_seconds, results


def tshark(binary: str, big: Path, text: str, reassemble: bool) -> tuple[float, int]:
    """Seconds and matches of `tshark -Y` on the whole file."""
    options = [] if reassemble else ["-o", "tcp.desegment_tcp_streams:FALSE"]
    started = time.perf_counter()
    result = subprocess.run([binary, "-n", *options, "-r", str(big), "-Y", text, "-T", "fields",
                             "-e", "frame.number"], capture_output=True, text=True)
    return time.perf_counter() - started, len(result.stdout.split())


def main() -> None:
    arguments = sys.argv[1:]
    limit = 120.0
    if "--limit" in arguments:
        position = arguments.index("--limit")
        limit = float(arguments[position + 1])
        del arguments[position:position + 2]
    packets = int(arguments[0]) if arguments else 1_000_000
    big = benchmark_file(packets)
    print(f"file: {big} ({packets} packets, {big.stat().st_size / 1e6:.1f} MB)")
    binary = shutil.which("tshark")
    for reassemble in (False, True):
        index_seconds, results = ours(big, reassemble, limit)
        mode = "with TCP reassembly (default)" if reassemble else "per segment (no TCP reassembly)"
        print(f"\n{mode}; tui-sniffer indexed the file in {index_seconds:.2f} s first")
        print(f"{'filter':46}{'tui-sniffer':>14}{'matches':>10}{'tshark -Y':>12}{'matches':>10}{'target':>10}")
        for text in FILTERS:
            seconds, matches, done = results[text]
            shown = f"{seconds:.2f} s" if done == packets else f">{limit:.0f} s*"
            their_seconds, their_matches = tshark(binary, big, text, reassemble) if binary else (float("nan"), 0)
            print(f"{text:46}{shown:>14}{matches:>10}{their_seconds:>10.2f} s{their_matches:>10}{TARGETS[text]:>10}")
        if any(done < packets for _, _, done in results.values()):
            print(f"* stopped after {limit:.0f} s; matches counted so far")


if __name__ == "__main__":
    main()
