"""Build small TCP conversations with chosen segment boundaries, for reassembly cases no real capture has."""
from __future__ import annotations

import struct
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

CLIENT, SERVER = "10.0.0.2", "10.0.0.1"


def split(data: bytes, *cuts: int) -> list[bytes]:
    """`data` cut at the given offsets."""
    points = [0, *cuts, len(data)]
    return [data[start:end] for start, end in zip(points, points[1:])]


def conversation(path: Path, steps: list[tuple], server_port: int = 80) -> Path:
    """Write a handshake then `steps` ("c"/"s" with a payload, "cfin"/"sfin" without) as a pcap.

    A step may name the stream offset its payload starts at as a third item (to send bytes again, early
    or overlapping); otherwise it follows what that side sent so far.
    """
    client_port = 40000
    seq = {"c": 1000, "s": 5000}
    frames = [_segment("c", client_port, server_port, "S", seq["c"], 0),
              _segment("s", client_port, server_port, "SA", seq["s"], seq["c"] + 1)]
    seq["c"] += 1
    seq["s"] += 1
    first = dict(seq)
    frames.append(_segment("c", client_port, server_port, "A", seq["c"], seq["s"]))
    for step, payload, *offset in steps:
        side, other = step[0], "s" if step[0] == "c" else "c"
        flags = "FA" if step.endswith("fin") else "PA"
        at = first[side] + offset[0] if offset else seq[side]
        frames.append(_segment(side, client_port, server_port, flags, at, seq[other], payload))
        seq[side] = max(seq[side], at + len(payload) + (1 if flags == "FA" else 0))
    for number, frame in enumerate(frames):
        frame.time = 1_700_000_000 + number / 1000
    wrpcap(str(path), frames)
    return path


def _segment(side: str, client_port: int, server_port: int, flags: str, seq: int, ack: int,
             payload: bytes = b"") -> Ether:
    """One segment from the client ("c") or the server ("s")."""
    source, destination = (CLIENT, SERVER) if side == "c" else (SERVER, CLIENT)
    ports = (client_port, server_port) if side == "c" else (server_port, client_port)
    segment = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / IP(src=source, dst=destination) / \
        TCP(sport=ports[0], dport=ports[1], flags=flags, seq=seq, ack=ack if "A" in flags else 0)
    return segment / payload if payload else segment


def tls_record(content_type: int, body: bytes) -> bytes:
    """A TLS 1.2 record header and body."""
    return struct.pack(">BHH", content_type, 0x0303, len(body)) + body
