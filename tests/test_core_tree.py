"""Tree structure on every fixture: byte ranges nest, and link types dissect as Wireshark names them."""
from __future__ import annotations

import struct

import pytest

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES
from tui_sniffer.dissect.tree import TreeNode


def _outside_parent(parent: TreeNode, source_lengths: list[int]) -> list[str]:
    """Nodes whose byte range leaves their parent's (or their byte source), as readable complaints."""
    problems = []
    for child in parent.children:
        data_length = source_lengths[child.source]
        if child.length and not child.generated and child.source == parent.source:
            inside_parent = parent.length == 0 or (
                parent.offset <= child.offset and child.offset + child.length <= parent.offset + parent.length)
            if not inside_parent or child.offset + child.length > data_length:
                problems.append(f"{child.text!r} [{child.offset}+{child.length}] outside "
                                f"{parent.text!r} [{parent.offset}+{parent.length}]")
        problems.extend(_outside_parent(child, source_lengths))
    return problems


@pytest.mark.parametrize("path", FIXTURE_CAPTURES, ids=lambda path: path.name)
def test_every_node_lies_inside_its_parent(path):
    problems = []
    for packet in tui_sniffer.open_capture(str(path)):
        source_lengths = [len(data) for _, data in packet.data_sources]
        for layer in packet.tree:
            if layer.offset + layer.length > source_lengths[layer.source]:
                problems.append(f"#{packet.number} layer {layer.text!r} runs past its byte source")
            problems.extend(f"#{packet.number} {problem}" for problem in _outside_parent(layer, source_lengths))
    assert not problems, "\n".join(problems[:20])


def _single_packet_pcap(tmp_path, link_type: int, frame: bytes):
    """Open a one-packet pcap of the given link type."""
    path = tmp_path / f"link{link_type}.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link_type) +
                     struct.pack("<IIII", 1_700_000_000, 0, len(frame), len(frame)) + frame)
    return tui_sniffer.open_capture(str(path))


def _ip_packet_from_fixture() -> bytes:
    """The IPv4 part (no Ethernet header) of the first SYN of the chat fixture."""
    capture = tui_sniffer.open_capture(str(FIXTURE_CAPTURES[0].parent / "tcp_chat_5050.pcap"))
    return capture.packet_bytes(1)[14:]


@pytest.mark.parametrize("link_type", [101, 228])
def test_raw_ip_link_types_dissect_from_the_ip_header(tmp_path, link_type):
    packet = _single_packet_pcap(tmp_path, link_type, _ip_packet_from_fixture())[1]
    assert [layer.field_name for layer in packet.tree] == ["frame", "ip", "tcp"]
    assert packet.summary.protocol == "TCP" and "[SYN]" in packet.summary.info
    assert packet.nodes("ip")[0].offset == 0


def test_unknown_link_type_still_lists_the_packet_with_its_bytes(tmp_path):
    packet = _single_packet_pcap(tmp_path, 147, b"\x01\x02\x03\x04")[1]
    assert packet.summary.protocol == "LINKTYPE_147"
    assert packet.data == b"\x01\x02\x03\x04"
    assert packet.fields("data.data") == ["01020304"]
