"""Shared ground for the filter tests: a private field registry and five hand-built packets.

The registry mirrors the types tshark 4.0 gives these fields (checked below against
`tshark -G fields`), and stays off the global registry so protocol modules can evolve freely.
The packets are the ones `frames_pcap` writes, so every expectation can be replayed with tshark.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, raw, wrpcap

from tests.conftest import TSHARK, needs_tshark
from tui_sniffer.dissect.fields import Base, FieldDef, FieldType, Timestamp
from tui_sniffer.dissect.tree import ColumnTexts, DissectedPacket, TreeNode
from tui_sniffer.filter import CompiledFilter, compile_filter

_F = FieldType
_SPECS: list[tuple[str, FieldType, dict]] = [
    ("frame", _F.PROTOCOL, {}), ("frame.number", _F.UINT32, {}), ("frame.len", _F.UINT32, {}),
    ("frame.time", _F.ABSOLUTE_TIME, {}), ("frame.time_relative", _F.RELATIVE_TIME, {}),
    ("frame.marked", _F.BOOLEAN, {}),
    ("eth", _F.PROTOCOL, {}), ("eth.src", _F.ETHER, {}), ("eth.dst", _F.ETHER, {}),
    ("eth.addr", _F.ETHER, {}),
    ("eth.type", _F.UINT16, {"value_names": {0x0800: "IPv4", 0x86DD: "IPv6", 0x0806: "ARP"}}),
    ("ip", _F.PROTOCOL, {}), ("ip.src", _F.IPV4, {}), ("ip.dst", _F.IPV4, {}), ("ip.addr", _F.IPV4, {}),
    ("ip.ttl", _F.UINT8, {}), ("ip.len", _F.UINT16, {}),
    ("ip.proto", _F.UINT8, {"value_names": {1: "ICMP", 6: "TCP", 17: "UDP"}}),
    ("ip.flags", _F.UINT8, {"bitmask": 0xE0}), ("ip.flags.df", _F.BOOLEAN, {"bitmask": 0x40}),
    ("ipv6", _F.PROTOCOL, {}), ("ipv6.src", _F.IPV6, {}), ("ipv6.dst", _F.IPV6, {}),
    ("ipv6.addr", _F.IPV6, {}),
    ("tcp", _F.PROTOCOL, {}), ("tcp.srcport", _F.UINT16, {}), ("tcp.dstport", _F.UINT16, {}),
    ("tcp.port", _F.UINT16, {}), ("tcp.flags", _F.UINT16, {"bitmask": 0xFFF}),
    ("tcp.flags.syn", _F.BOOLEAN, {"bitmask": 0x002, "value_names": {1: "Set", 0: "Not set"}}),
    ("tcp.flags.ack", _F.BOOLEAN, {"bitmask": 0x010, "value_names": {1: "Set", 0: "Not set"}}),
    ("tcp.len", _F.UINT32, {}), ("tcp.payload", _F.BYTES, {}),
    ("udp", _F.PROTOCOL, {}), ("udp.srcport", _F.UINT16, {}), ("udp.dstport", _F.UINT16, {}),
    ("udp.port", _F.UINT16, {}), ("udp.payload", _F.BYTES, {}),
    ("icmp", _F.PROTOCOL, {}), ("arp", _F.PROTOCOL, {}),
    ("http", _F.PROTOCOL, {}), ("http.host", _F.STRING, {}), ("http.request.method", _F.STRING, {}),
    ("http.request", _F.BOOLEAN, {}),
] + [(f"_ws.ftypes.{name}", ftype, {}) for name, ftype in [
    ("none", _F.NONE), ("protocol", _F.PROTOCOL), ("boolean", _F.BOOLEAN), ("uint8", _F.UINT8),
    ("uint16", _F.UINT16), ("uint32", _F.UINT32), ("uint64", _F.UINT64), ("int32", _F.INT32),
    ("framenum", _F.FRAMENUM), ("double", _F.FLOAT), ("ipv4", _F.IPV4), ("ipv6", _F.IPV6),
    ("ether", _F.ETHER), ("string", _F.STRING), ("bytes", _F.BYTES), ("abs_time", _F.ABSOLUTE_TIME),
    ("rel_time", _F.RELATIVE_TIME)]]

TEST_FIELDS: dict[str, FieldDef] = {
    name: FieldDef(name, name, ftype, Base.DEC if ftype.is_integer else Base.NONE, **extra)
    for name, ftype, extra in _SPECS
}


def resolve(name: str) -> FieldDef | None:
    """The test registry's lookup, handed to compile_filter instead of the global one."""
    return TEST_FIELDS.get(name)


def compile_test_filter(text: str) -> CompiledFilter:
    """Compile against the test registry."""
    return compile_filter(text, resolve=resolve)


HTTP_REQUEST = b"GET / HTTP/1.1\r\nHost: Example.com\r\n\r\n"
FIRST_EPOCH_NS = 1_795_242_067_126_758_000
FRAME_OFFSETS_NS = [0, 536_000, 807_000, 982_000, 1_743_000]

SCAPY_FRAMES = [
    Ether(src="00:00:83:11:22:33", dst="ff:ff:ff:ff:ff:ff") / IP(src="10.0.0.1", dst="127.0.0.1")
    / TCP(sport=1234, dport=80, flags="S") / Raw(HTTP_REQUEST),
    Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / IP(src="10.0.0.2", dst="10.0.0.2")
    / UDP(sport=40000, dport=40001) / Raw(b"hello"),
    Ether(src="02:00:00:00:00:03", dst="ff:ff:ff:ff:ff:ff") / IPv6(src="fe80::1", dst="2001:db8::2")
    / TCP(sport=443, dport=5000, flags="SA"),
    Ether(src="02:00:00:00:00:04", dst="02:00:00:00:00:01") / IP(src="192.168.1.1", dst="10.0.0.1")
    / ICMP(),
    Ether(src="02:00:00:00:00:05", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="192.0.2.2", pdst="192.0.2.1"),
]
"""Frame 2 uses ports tshark dissects as plain data, so its tree is just eth/ip/udp."""


def _layer(node: TreeNode, name: str, value: object, offset: int = 0, length: int = 0) -> None:
    node.add(TEST_FIELDS[name], value, offset, length, label=name)


def build_packets() -> list[DissectedPacket]:
    """The five frames as Wireshark's tree would hold the fields the tests use."""
    packets = []
    for number, frame in enumerate(SCAPY_FRAMES, start=1):
        data = raw(frame)
        root = TreeNode("Frame", TEST_FIELDS["frame"], None, 0, len(data))
        layers = [root]
        timestamp = FIRST_EPOCH_NS + FRAME_OFFSETS_NS[number - 1]
        for name, value in [("frame.number", number), ("frame.len", len(data)),
                            ("frame.time", Timestamp(timestamp)),
                            ("frame.time_relative", FRAME_OFFSETS_NS[number - 1] / 1e9),
                            ("frame.marked", False)]:
            _layer(root, name, value)
        eth = TreeNode("Ethernet II", TEST_FIELDS["eth"], None, 0, 14)
        layers.append(eth)
        for name, value in [("eth.dst", frame.dst), ("eth.addr", frame.dst), ("eth.src", frame.src),
                            ("eth.addr", frame.src), ("eth.type", frame.type)]:
            _layer(eth, name, value)
        if IP in frame or IPv6 in frame:
            layers.extend(_network_layers(frame, data))
        elif ARP in frame:
            layers.append(TreeNode("ARP", TEST_FIELDS["arp"], None, 14, 28))
        packets.append(DissectedPacket(number, data, layers, ColumnTexts(number, 0.0, "", "", "", len(data), ""),
                                       [("Frame", data)]))
    return packets


def _network_layers(frame, data: bytes) -> list[TreeNode]:
    layers = []
    if IP in frame:
        ip = TreeNode("IPv4", TEST_FIELDS["ip"], None, 14, 20)
        for name, value in [("ip.len", frame[IP].len), ("ip.flags", frame[IP].flags.value),
                            ("ip.flags.df", int(frame[IP].flags.DF)), ("ip.ttl", frame[IP].ttl),
                            ("ip.proto", frame[IP].proto), ("ip.src", frame[IP].src),
                            ("ip.addr", frame[IP].src), ("ip.dst", frame[IP].dst),
                            ("ip.addr", frame[IP].dst)]:
            _layer(ip, name, value)
        layers.append(ip)
        transport_offset = 34
    else:
        ipv6 = TreeNode("IPv6", TEST_FIELDS["ipv6"], None, 14, 40)
        for name, value in [("ipv6.src", frame[IPv6].src), ("ipv6.addr", frame[IPv6].src),
                            ("ipv6.dst", frame[IPv6].dst), ("ipv6.addr", frame[IPv6].dst)]:
            _layer(ipv6, name, value)
        layers.append(ipv6)
        transport_offset = 54
    if TCP in frame:
        tcp = TreeNode("TCP", TEST_FIELDS["tcp"], None, transport_offset, 20)
        payload = bytes(frame[TCP].payload)
        for name, value in [("tcp.srcport", frame[TCP].sport), ("tcp.dstport", frame[TCP].dport),
                            ("tcp.port", frame[TCP].sport), ("tcp.port", frame[TCP].dport),
                            ("tcp.len", len(payload)), ("tcp.flags", frame[TCP].flags.value),
                            ("tcp.flags.ack", int(frame[TCP].flags.A)),
                            ("tcp.flags.syn", int(frame[TCP].flags.S))]:
            _layer(tcp, name, value)
        layers.append(tcp)
        if payload:
            _layer(tcp, "tcp.payload", payload, transport_offset + 20, len(payload))
            http = TreeNode("HTTP", TEST_FIELDS["http"], None, transport_offset + 20, len(payload))
            for name, value in [("http.request.method", "GET"), ("http.host", "Example.com"),
                                ("http.request", True)]:
                _layer(http, name, value)
            layers.append(http)
    elif UDP in frame:
        udp = TreeNode("UDP", TEST_FIELDS["udp"], None, transport_offset, 8)
        for name, value in [("udp.srcport", frame[UDP].sport), ("udp.dstport", frame[UDP].dport),
                            ("udp.port", frame[UDP].sport), ("udp.port", frame[UDP].dport),
                            ("udp.payload", bytes(frame[UDP].payload))]:
            _layer(udp, name, value)
        layers.append(udp)
    elif ICMP in frame:
        layers.append(TreeNode("ICMP", TEST_FIELDS["icmp"], None, transport_offset, len(data) - transport_offset))
    return layers


PACKETS = build_packets()


def matching_frames(text: str) -> list[int]:
    """Frame numbers of the hand-built packets a filter (test registry) matches."""
    compiled = compile_test_filter(text)
    return [packet.number for packet in PACKETS if compiled.matches(packet)]


def write_frames_pcap(path: Path) -> Path:
    """Write the five frames, with the same timestamps, for tshark to read."""
    for number, frame in enumerate(SCAPY_FRAMES):
        frame.time = (FIRST_EPOCH_NS + FRAME_OFFSETS_NS[number]) / 1e9
    wrpcap(str(path), SCAPY_FRAMES)
    return path


def tshark_frames(pcap: Path, text: str) -> list[int] | str:
    """tshark's matching frame numbers, or its first error line (without `tshark: `)."""
    result = subprocess.run([TSHARK, "-n", "-r", str(pcap), "-Y", text, "-T", "fields", "-e",
                             "frame.number"], capture_output=True, text=True)
    if result.returncode != 0:
        return next(line[len("tshark: "):] for line in result.stderr.splitlines()
                    if line.startswith("tshark: "))
    return [int(number) for number in result.stdout.split()]


@needs_tshark
@pytest.mark.parametrize("name, definition", sorted(TEST_FIELDS.items()))
def test_test_registry_types_match_tshark(name, definition, tshark_field_types):
    """The private registry must give each field the type tshark 4.0 gives it."""
    assert tshark_field_types.get(name) == definition.ftype.value


@pytest.fixture(scope="module")
def tshark_field_types() -> dict[str, str]:
    output = subprocess.run([TSHARK, "-G", "fields"], capture_output=True, text=True).stdout
    types = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if parts[0] == "F":
            types[parts[2]] = parts[3]
        elif parts[0] == "P":
            types[parts[2]] = "FT_PROTOCOL"
    return types
