"""Shared helpers for the application-protocol parity tests: read a capture, annotate it like tshark's single pass, compare."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scapy.utils import RawPcapNgReader, RawPcapReader

from tui_sniffer.dissect.engine import dissect_frame
from tui_sniffer.dissect.frame import FrameInfo
from tui_sniffer.dissect.tree import DissectedPacket

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TSHARK = shutil.which("tshark")


def read_frames(path: Path) -> list[tuple[FrameInfo, bytes]]:
    """Every record of a pcap as a FrameInfo and its bytes, with times relative to the first."""
    reader_class = RawPcapNgReader if path.suffix == ".pcapng" else RawPcapReader
    frames: list[tuple[FrameInfo, bytes]] = []
    with reader_class(str(path)) as reader:
        link_type = getattr(reader, "linktype", 1)
        first_ns = previous_ns = None
        for number, (data, meta) in enumerate(reader, start=1):
            resolution = 1_000_000_000 if getattr(meta, "tsresol", 1_000_000) == 1_000_000_000 else 1_000
            if hasattr(meta, "sec"):
                timestamp_ns = meta.sec * 1_000_000_000 + meta.usec * resolution
                wire_length = meta.wirelen
            else:
                timestamp_ns = ((meta.tshigh << 32) | meta.tslow) * (1_000_000_000 // meta.tsresol)
                wire_length = meta.wirelen
            first_ns = timestamp_ns if first_ns is None else first_ns
            info = FrameInfo(number, timestamp_ns, len(data), wire_length, link_type,
                             since_first=(timestamp_ns - first_ns) / 1e9,
                             since_previous=(timestamp_ns - (previous_ns or timestamp_ns)) / 1e9)
            previous_ns = timestamp_ns
            frames.append((info, data))
    return frames


def _conversation(packet: DissectedPacket) -> tuple | None:
    """A direction-free TCP/UDP conversation key (addresses and ports), or None."""
    for transport in ("tcp", "udp"):
        ports = packet.values(f"{transport}.srcport") + packet.values(f"{transport}.dstport")
        if len(ports) >= 2:
            addresses = (packet.values("ip.src") or packet.values("ipv6.src"))[:1] + \
                (packet.values("ip.dst") or packet.values("ipv6.dst"))[:1]
            ends = sorted(zip(addresses, ports[:1] + ports[-1:]))
            return (transport, *ends)
    return None


def annotate_like_tshark(frames: list[tuple[FrameInfo, bytes]]) -> list[DissectedPacket]:
    """Dissect twice: once plain, then with the cross-packet facts tshark's single pass knows.

    This stands in for the analysis package and documents the annotation keys it must fill:
    `icmp.resp_to`, `icmpv6.resp_to`, `dns.response_to`/`dns.time`, `http.conversation`, `tls.version`.
    """
    plain = [dissect_frame(info, data) for info, data in frames]
    echo_requests: dict[tuple, int] = {}
    dns_queries: dict[tuple, tuple[int, int]] = {}
    http_conversations: set[tuple] = set()
    tls_versions: dict[tuple, int] = {}
    for (info, _), packet in zip(frames, plain):
        annotations = info.annotations
        conversation = _conversation(packet)
        for prefix, request_type, reply_type in (("icmp", 8, 0), ("icmpv6", 128, 129)):
            types = packet.values(f"{prefix}.type")
            ident = packet.values(f"{prefix}.ident" if prefix == "icmp" else "icmpv6.echo.identifier")
            sequence = packet.values(f"{prefix}.seq" if prefix == "icmp" else "icmpv6.echo.sequence_number")
            if types[:1] == [request_type] and ident:
                echo_requests[(prefix, ident[0], sequence[0])] = info.number
            elif types[:1] == [reply_type] and ident and (prefix, ident[0], sequence[0]) in echo_requests:
                annotations[f"{prefix}.resp_to"] = echo_requests[(prefix, ident[0], sequence[0])]
        dns_ids = packet.values("dns.id")
        if dns_ids and conversation:
            key = (conversation, dns_ids[0])
            if packet.values("dns.flags.response") == [False]:
                dns_queries[key] = (info.number, info.timestamp_ns)
            elif key in dns_queries:
                annotations["dns.response_to"] = dns_queries[key][0]
                annotations["dns.time"] = (info.timestamp_ns - dns_queries[key][1]) / 1e9
        if conversation in http_conversations:
            annotations["http.conversation"] = True
        if packet.nodes("http") and conversation:
            http_conversations.add(conversation)
        if conversation in tls_versions:
            annotations["tls.version"] = tls_versions[conversation]
        negotiated = packet.values("tls.handshake.extensions.supported_version")
        if 2 in packet.values("tls.handshake.type") and negotiated and conversation:
            tls_versions[conversation] = negotiated[-1]
    return [dissect_frame(info, data) for info, data in frames]


@dataclass
class Agreement:
    """How many compared frames matched tshark, and the first differences for the failure message."""

    compared: int
    matched: int
    differences: list[str]

    @property
    def percent(self) -> float:
        """The share of compared frames that matched, in percent (100 when none were compared)."""
        return 100.0 * self.matched / self.compared if self.compared else 100.0


def tshark_rows(path: Path, fields: list[str]) -> list[list[str]]:
    """tshark's Protocol, Info and the given fields for every frame, reassembly off."""
    command = [TSHARK, "-n", "-r", str(path), "-o", "tcp.desegment_tcp_streams:FALSE",
               "-T", "fields", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info",
               *[argument for name in fields for argument in ("-e", name)],
               "-E", "occurrence=a", "-E", "aggregator=,"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in output.rstrip("\n").split("\n")]


def compare_with_tshark(path: Path, protocols: set[str], fields: list[str]) -> Agreement:
    """Compare Protocol, Info and fields with tshark on every frame either side calls one of `protocols`."""
    packets = annotate_like_tshark(read_frames(path))
    expected_rows = tshark_rows(path, fields)
    assert len(expected_rows) == len(packets), "frame count differs from tshark"
    compared = matched = 0
    differences: list[str] = []
    for packet, expected in zip(packets, expected_rows):
        ours = [packet.summary.protocol, packet.summary.info] + \
            [",".join(packet.fields(name)) for name in fields]
        if expected[0] not in protocols and ours[0] not in protocols:
            continue
        compared += 1
        if ours == expected:
            matched += 1
            continue
        for name, mine, theirs in zip(["protocol", "info", *fields], ours, expected):
            if mine != theirs:
                differences.append(f"{path.name}#{packet.number} {name}: ours={mine!r} tshark={theirs!r}")
    return Agreement(compared, matched, differences)
