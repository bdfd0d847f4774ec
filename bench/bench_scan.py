"""Time `CaptureFile.scan()` over a generated 1,000,000-packet pcap, next to capinfos and tshark on the same file.

Run: python bench/bench_scan.py [--packets N] [--chunk-mib M] [--keep DIR]
Prints figures only; nothing is asserted.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_sniffer.capture import open_capture_file  # noqa: E402

FRAME_LENGTHS = (60, 60, 66, 74, 90, 110, 128, 150, 200, 400)
"""Ten distinct frame sizes (60–600 bytes) averaging ~134 bytes, so a million packets make ~150 MB."""


def ipv4_checksum(header: bytes) -> int:
    """The ones'-complement header checksum, so tools see well-formed packets."""
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet_ipv4_frame(index: int, frame_length: int) -> bytes:
    """A realistic Ethernet/IPv4 frame: TCP for even indexes, UDP for odd ones, zero-padded to length."""
    ethernet = bytes.fromhex("001122334455") + bytes.fromhex("66778899aabb") + b"\x08\x00"
    if index % 2 == 0:
        transport = struct.pack("!HHIIBBHHH", 40000 + index, 443, 1000 * index, 77, 5 << 4, 0x18, 64240, 0, 0)
        protocol = 6
    else:
        transport = struct.pack("!HHHH", 53000 + index, 53, frame_length - 14 - 20, 0)
        protocol = 17
    payload = bytes(random.getrandbits(8) for _ in range(frame_length - 14 - 20 - len(transport)))
    total_length = 20 + len(transport) + len(payload)
    src, dst = bytes([10, 0, 0, 1 + index]), bytes([192, 168, 1, 100])
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total_length, index, 0x4000, 64, protocol, 0, src, dst)
    header = header[:10] + struct.pack("!H", ipv4_checksum(header)) + header[12:]
    return ethernet + header + transport + payload


def write_pcap(path: Path, packet_count: int) -> None:
    """Write a microsecond pcap of `packet_count` frames cycling through ten templates, in 10,000-record pieces."""
    random.seed(1)
    frames = [ethernet_ipv4_frame(index, length) for index, length in enumerate(FRAME_LENGTHS)]
    record_header = struct.Struct("<IIII")
    first_second = 1_700_000_000
    with open(path, "wb") as output:
        output.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        piece = bytearray()
        for number in range(packet_count):
            frame = frames[number % 10]
            micros = number * 37  # increasing timestamps, ~27,000 packets a second
            piece += record_header.pack(first_second + micros // 1_000_000, micros % 1_000_000, len(frame), len(frame))
            piece += frame
            if len(piece) > 4 * 1024 * 1024:
                output.write(piece)
                piece.clear()
        output.write(piece)


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_scan(path: Path, chunk_bytes: int) -> tuple[float, int]:
    """Seconds to scan every record of `path`, and how many there were."""
    started = time.perf_counter()
    with open_capture_file(str(path)) as capture:
        count = sum(len(batch) for batch in capture.scan(chunk_bytes=chunk_bytes))
    return time.perf_counter() - started, count


def time_random_reads(path: Path, reads: int) -> float:
    """Microseconds per `read_packet` at random offsets collected from a scan."""
    with open_capture_file(str(path)) as capture:
        located = [
            (int(offset), int(length))
            for batch in capture.scan()
            for offset, length in zip(batch.file_offsets[::97], batch.captured_lengths[::97])
        ]
        picks = random.sample(located, min(reads, len(located)))
        started = time.perf_counter()
        for offset, length in picks:
            capture.read_packet(offset, length)
        return (time.perf_counter() - started) / len(picks) * 1e6


def time_shell(command: str) -> tuple[float, str]:
    """Seconds a shell pipeline takes, and the last line it printed."""
    started = time.perf_counter()
    result = subprocess.run(command, shell=True, capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    return time.perf_counter() - started, lines[-1].strip() if lines else result.stderr.strip()[:80]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    arguments = parser.parse_args()
    directory = arguments.keep or Path(tempfile.mkdtemp(prefix="bench-scan-"))
    directory.mkdir(parents=True, exist_ok=True)
    pcap = directory / "bench.pcap"
    try:
        started = time.perf_counter()
        write_pcap(pcap, arguments.packets)
        size_mb = pcap.stat().st_size / 1e6
        print(f"generated {arguments.packets:,} packets, {size_mb:.1f} MB in {time.perf_counter() - started:.2f} s")
        print(f"peak RSS before scanning: {peak_rss_mib():.0f} MiB")
        time_scan(pcap, 1 << 20)  # warm the page cache so every contender reads from memory
        chunk_bytes = arguments.chunk_mib * 1024 * 1024
        for attempt in range(3):
            seconds, count = time_scan(pcap, chunk_bytes)
            print(
                f"scan() pcap   run {attempt + 1}: {count:,} records in {seconds:.3f} s = "
                f"{count / seconds / 1e6:.2f} M records/s, {size_mb / seconds:.0f} MB/s"
            )
        print(f"peak RSS after scanning: {peak_rss_mib():.0f} MiB (chunk {arguments.chunk_mib} MiB)")
        print(f"read_packet() at random offsets: {time_random_reads(pcap, 10_000):.1f} µs each")
        if shutil.which("editcap"):
            pcapng = directory / "bench.pcapng"
            subprocess.run(["editcap", "-F", "pcapng", str(pcap), str(pcapng)], check=True)
            seconds, count = time_scan(pcapng, chunk_bytes)
            print(f"scan() pcapng:      {count:,} records in {seconds:.3f} s = {count / seconds / 1e6:.2f} M records/s")
        for tool, command in (
            ("capinfos -c", f"capinfos -c -M {pcap}"),
            ("tshark frame.number", f"tshark -r {pcap} -T fields -e frame.number 2>/dev/null | tail -1"),
        ):
            if shutil.which(command.split()[0]):
                seconds, last_line = time_shell(command)
                print(f"{tool:20}: {seconds:.3f} s ({last_line})")
            else:
                print(f"{tool:20}: not installed")
    finally:
        if arguments.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
