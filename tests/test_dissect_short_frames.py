"""Frames too short for their first header are `[Malformed Packet]`, never a crash, on every link type."""
from __future__ import annotations

import struct

import pytest

from tui_sniffer import open_capture

GOOD_ETHERNET = bytes.fromhex("ffffffffffff0200000000010806") + bytes(28)


def pcap_file(path, link_type: int, frames: list[bytes]) -> str:
    """A classic pcap of `frames` with the given link type."""
    records = b"".join(struct.pack("<IIII", 1, index, len(frame), len(frame)) + frame
                       for index, frame in enumerate(frames))
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link_type) + records)
    return str(path)


@pytest.mark.parametrize(("link_type", "frame", "protocol"), [
    (1, bytes.fromhex("ffffffffffff02000000"), "Ethernet"),
    (113, bytes(5), "SLL"),
    (276, bytes(7), "SLL2"),
    (101, bytes.fromhex("450000"), "IPv4"),
    (101, bytes.fromhex("60000000000000000000"), "IPv6"),
    (0, bytes.fromhex("02000000" "4500"), "IPv4"),
    (0, bytes.fromhex("18000000" "6000"), "IPv6"),
])
def test_short_first_header_is_malformed_and_the_file_goes_on(tmp_path, link_type, frame, protocol):
    path = pcap_file(tmp_path / "short.pcap", link_type, [frame, frame])
    with open_capture(path) as capture:
        packets = list(capture)
    assert len(packets) == 2
    for packet in packets:
        assert packet.summary.info.endswith("[Malformed Packet]")
        assert packet.summary.protocol == protocol
        assert packet.tree[-1].label == f"[Malformed Packet: {protocol}]"


def test_good_frames_after_a_short_one_dissect_normally(tmp_path):
    path = pcap_file(tmp_path / "mixed.pcap", 1, [bytes(10), GOOD_ETHERNET])
    with open_capture(path) as capture:
        assert capture[1].summary.info == "[Malformed Packet]"
        assert capture[2].summary.protocol == "ARP"
