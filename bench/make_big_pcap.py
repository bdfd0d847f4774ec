"""Write a big pcap by repeating the Ethernet fixtures' packets, each copy its own conversations.

Usage: python bench/make_big_pcap.py OUT.pcap [PACKETS]   (default 1,000,000)
Every repetition shifts the IPv4 addresses (127.x.y.1 style) so streams stay distinct, and time
moves forward, so the file looks like a long capture of many short lab sessions.
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

from tui_sniffer.capture import open_capture_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TEMPLATES = ["http_get_post.pcap", "dns_udp.pcap", "tcp_chat_5050.pcap", "ping.pcap", "tls13.pcap",
             "http_keepalive.pcap", "demo.pcap", "tcp_refused.pcap", "http_large.pcap"]


def template_frames() -> list[tuple[bytes, int]]:
    """(frame, microseconds since the first) of every Ethernet packet in the template fixtures."""
    frames: list[tuple[bytes, int]] = []
    offset_us = 0
    for name in TEMPLATES:
        with open_capture_file(str(FIXTURES / name)) as capture:
            records = [record for record in capture.iter_records() if record.link_type == 1]
        first = records[0].timestamp_ns
        for record in records:
            frames.append((record.data, offset_us + (record.timestamp_ns - first) // 1000))
        offset_us = frames[-1][1] + 1000
    return frames


def shifted(frame: bytes, repetition: int) -> bytes:
    """The frame with its IPv4 addresses' middle bytes set from the repetition number."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    high, low = (repetition >> 8) & 0xFF, repetition & 0xFF
    data = bytearray(frame)
    data[27:29] = bytes((high, low))
    data[31:33] = bytes((high, low))
    return bytes(data)


OUT = Path(__file__).resolve().parent / "out"


def benchmark_file(packets: int) -> Path:
    """The benchmarks' shared file of `packets` packets under bench/out/, written on first use."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"big_{packets}.pcap"
    if not path.exists():
        write_big_pcap(path, packets)
    return path


def main() -> None:
    write_big_pcap(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)


def write_big_pcap(output: Path, wanted: int) -> None:
    """Write `wanted` packets of repeated, shifted fixture conversations to `output`."""
    frames = template_frames()
    period_us = frames[-1][1] + 10_000
    start_s = 1_700_000_000
    written = 0
    with output.open("wb") as sink:
        sink.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        repetition = 0
        while written < wanted:
            chunk = []
            for frame, at_us in frames[:wanted - written]:
                timestamp_us = repetition * period_us + at_us
                data = shifted(frame, repetition)
                chunk.append(struct.pack("<IIII", start_s + timestamp_us // 1_000_000,
                                         timestamp_us % 1_000_000, len(data), len(data)))
                chunk.append(data)
            written += len(chunk) // 2
            sink.write(b"".join(chunk))
            repetition += 1
    print(f"wrote {written} packets ({output.stat().st_size / 1e6:.1f} MB) to {output}")


if __name__ == "__main__":
    main()
