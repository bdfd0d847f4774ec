"""Live-capture throughput on loopback: UDP at increasing rates, our capture beside `tcpdump -w`.

For each rate a separate process sends small UDP datagrams to a local port at that pace for a
bounded time, while both our capture (a `LiveCapture` writing a pcapng, as `tui-sniffer -i lo -w`
does) and `tcpdump -w` capture the same traffic with the same filter, at the same time.
It prints, per rate: sent, captured, kernel drops (and our own drops), the packets the file
really holds, and our capture's CPU time. Needs root (or CAP_NET_RAW). Nothing is asserted.

Run: sudo python bench/bench_live.py [--rates 10000,20000,50000,100000] [--seconds 3] [--payload 64] [--senders 1]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_sniffer.capture import open_capture_file  # noqa: E402
from tui_sniffer.capture.live import LiveCapture  # noqa: E402
from tui_sniffer.capture.live_settings import LiveCaptureSettings  # noqa: E402
from tui_sniffer.session import open_growing_capture  # noqa: E402


def send_udp(port: int, rate: float, seconds: float, payload: int, sent: multiprocessing.Value) -> None:
    """Send datagrams to 127.0.0.1:`port` at `rate` per second for `seconds`, catching up in bursts."""
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data, target = b"x" * payload, ("127.0.0.1", port)
    count, start = 0, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        due = min(int(elapsed * rate), count + 2000)
        while count < due:
            sender.sendto(data, target)
            count += 1
        if count >= int(elapsed * rate):
            time.sleep(0.0005)
    sent.value = count


def start_tcpdump(port: int, output: str) -> subprocess.Popen | None:
    """`tcpdump -w` on lo with the same filter and a ring as large as ours (64 MiB), once it listens."""
    if shutil.which("tcpdump") is None:
        return None
    process = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-B", "65536", "-w", output, f"udp port {port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    if "listening on" not in line:
        raise SystemExit(f"tcpdump did not start: {line}{process.stderr.read()}")
    return process


def stop_tcpdump(process: subprocess.Popen | None) -> tuple[int | None, int | None]:
    """Stop tcpdump and read its own report: packets captured and dropped by the kernel."""
    if process is None:
        return None, None
    process.send_signal(signal.SIGINT)
    report = process.stderr.read()
    process.wait()
    captured = re.search(r"(\d+) packets? captured", report)
    dropped = re.search(r"(\d+) packets? dropped by kernel", report)
    return (int(captured.group(1)) if captured else None, int(dropped.group(1)) if dropped else None)


def packets_in(path: str) -> int:
    """How many records the pcapng really holds."""
    with open_capture_file(path) as capture_file:
        return sum(len(batch) for batch in capture_file.scan())


def thread_cpu_seconds(thread_id: int) -> float:
    """CPU time (user + system) of one thread of this process, from /proc."""
    fields = Path(f"/proc/self/task/{thread_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def follow(live: LiveCapture, indexed: list[int]) -> None:
    """Index the growing file as the TUI's follower does, so the capture shares the interpreter with it."""
    capture = open_growing_capture(live.output_path)
    while not live.finished.is_set():
        live.written.wait(0.1)
        live.written.clear()
        capture.index_all()
    capture.finish_growing()
    capture.index_all()
    indexed.append(capture.indexed_count)
    capture.close()


def measure(rate: int, seconds: float, payload: int, senders: int, directory: str) -> dict[str, float | int | None]:
    """One rate: both captures running, the sender sending, then both stopped and counted."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a bound port: no ICMP unreachable storm
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    ours_path, theirs_path = os.path.join(directory, f"ours-{rate}.pcapng"), os.path.join(directory, f"tcpdump-{rate}.pcap")
    live = LiveCapture(LiveCaptureSettings(["lo"], f"udp port {port}", output_path=ours_path))
    thread = live.start_in_thread()
    indexed: list[int] = []
    follower = threading.Thread(target=follow, args=(live, indexed), daemon=True)  # what the TUI does meanwhile
    follower.start()
    tcpdump = start_tcpdump(port, theirs_path)
    counts = [multiprocessing.Value("q", 0) for _ in range(senders)]
    processes = [multiprocessing.Process(target=send_udp, args=(port, rate / senders, seconds, payload, count))
                 for count in counts]
    started = time.monotonic()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    send_seconds = time.monotonic() - started
    sent = sum(count.value for count in counts)
    time.sleep(1.2)  # tcpdump hands over a partly filled block only after 1 s (its -B ring, to_ms 1000)
    cpu = thread_cpu_seconds(thread.native_id)
    live.request_stop()
    live.finished.wait()
    follower.join()
    their_captured, their_dropped = stop_tcpdump(tcpdump)
    receiver.close()
    statistics = live.statistics()
    return {
        "rate": rate, "sent": sent, "sent_rate": sent / send_seconds,
        "captured": statistics.captured, "kernel_dropped": statistics.kernel_dropped,
        "own_dropped": statistics.own_dropped, "in_file": packets_in(ours_path), "cpu": cpu / send_seconds,
        "indexed": indexed[0],
        "tcpdump_captured": their_captured, "tcpdump_dropped": their_dropped,
    }


def send_burst(port: int, packets: int, payload: int) -> None:
    """Send `packets` datagrams to 127.0.0.1:`port` as fast as possible."""
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data, target = b"x" * payload, ("127.0.0.1", port)
    for _ in range(packets):
        sender.sendto(data, target)


def reader_ceiling(packets: int, payload: int, directory: str) -> tuple[float, int]:
    """Packets per second our capture writes when its ring already holds `packets` (no sender competing),
    and how many the kernel dropped meanwhile (the ring holds about 300,000 small packets)."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    live = LiveCapture(LiveCaptureSettings(["lo"], f"udp port {port}",
                                           output_path=os.path.join(directory, "ceiling.pcapng")))
    sender = multiprocessing.Process(target=send_burst, args=(port, packets, payload))
    sender.start()  # nobody reads yet: the kernel fills the ring
    sender.join()
    started = time.monotonic()
    live.start_in_thread()
    deadline = started + 30
    while live.statistics().captured < packets and time.monotonic() < deadline:
        time.sleep(0.001)
    elapsed = time.monotonic() - started
    live.request_stop()
    live.finished.wait()
    receiver.close()
    statistics = live.statistics()
    return statistics.captured / elapsed, statistics.kernel_dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10000,20000,50000,100000", help="packets per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each rate is sent")
    parser.add_argument("--payload", type=int, default=64, help="UDP payload bytes (frames are 42 bytes more)")
    parser.add_argument("--senders", type=int, default=1, help="sending processes sharing the rate (one Python "
                        "sender tops out near 80,000 datagrams/s)")
    options = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("capturing needs root or CAP_NET_RAW: run with sudo")
    print(f"UDP on lo, {options.payload}-byte payloads, {options.seconds:g} s per rate, {options.senders} "
          f"sender(s); both captures run at once "
          f"on the same traffic ({os.cpu_count()} CPUs){'' if shutil.which('tcpdump') else '; tcpdump not installed'}")
    header = (f"{'target/s':>9} {'sent':>8} {'sent/s':>8} | {'ours':>8} {'k.drop':>7} {'own':>4} {'in file':>8} "
              f"{'indexed':>8} {'cpu':>5} | {'tcpdump':>8} {'k.drop':>7}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="bench-live-") as directory:
        for rate in (int(text) for text in options.rates.split(",")):
            row = measure(rate, options.seconds, options.payload, options.senders, directory)
            tcpdump = (f"{row['tcpdump_captured']:>8} {row['tcpdump_dropped']:>7}"
                       if row["tcpdump_captured"] is not None else f"{'–':>8} {'–':>7}")
            print(f"{rate:>9} {row['sent']:>8} {row['sent_rate']:>8.0f} | {row['captured']:>8} "
                  f"{row['kernel_dropped']:>7} {row['own_dropped']:>4} {row['in_file']:>8} {row['indexed']:>8} "
                  f"{row['cpu']:>5.0%} | "
                  f"{tcpdump}", flush=True)
        ceiling, dropped = reader_ceiling(150_000, options.payload, directory)
    print(f"Reader ceiling: {ceiling:,.0f} packets/s written from a ring already holding 150,000 packets "
          f"(no sender competing; {dropped} kernel drops)")
    print("ours = tui-sniffer's LiveCapture (TPACKET_V3 ring, 64 MiB, written to pcapng) while a second thread "
          "indexes the growing file as the TUI does (indexed); cpu = the capture thread's CPU time per second of "
          "sending; k.drop = packets the kernel dropped for a full ring")


if __name__ == "__main__":
    main()
