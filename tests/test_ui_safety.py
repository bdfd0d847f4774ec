"""Hostile payloads (terminal escapes, OSC, Rich markup, invalid UTF-8) show as inert text in every pane."""
from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from tui_sniffer.dissect.tree import ColumnTexts, DissectedPacket, TreeNode
from tui_sniffer.session import Capture
from tui_sniffer.ui.app import SnifferApp

HOSTILE = "\x1b[2J\x1b]52;c;cHduZWQ=\x07[bold red]red[/bold red] [link=http://evil.example]x[/link] \udcff"
PAYLOAD = b"\x1b[2J\x1b]0;pwned\x07[bold red]red[/bold red][link=http://evil.example]x[/link]\xff\xfe\xc3("


@pytest.fixture
def hostile_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One UDP packet with the hostile payload; its dissection also gets hostile labels and columns."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "hostile.pcap"
    wrpcap(str(path), [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / Raw(PAYLOAD)])
    real_dissect = Capture.dissect

    def hostile_dissect(self: Capture, number: int, previous_displayed: int | None = None) -> DissectedPacket:
        packet = real_dissect(self, number, previous_displayed)
        layer = TreeNode(HOSTILE, offset=42, length=len(PAYLOAD))
        layer.children.append(TreeNode("child " + HOSTILE, offset=42, length=4))
        summary = ColumnTexts(number, 0.0, HOSTILE, HOSTILE, "UDP\x1b[31m", len(packet.data), HOSTILE)
        return DissectedPacket(number, packet.data, packet.layers + [layer], summary,
                               packet.data_sources + [(HOSTILE, PAYLOAD)])

    monkeypatch.setattr(Capture, "dissect", hostile_dissect)
    return path


def assert_inert(text: str) -> None:
    """No control character, surrogate or C1 code reached the lines."""
    assert not any(character != "\n" and ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F
                   or 0xD800 <= ord(character) <= 0xDFFF for character in text), repr(text)


async def test_hostile_payload_is_inert_in_every_pane(hostile_capture: Path) -> None:
    async with SnifferApp(str(hostile_capture)).run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        app = pilot.app
        row = app.packet_list.render_line(1)
        assert_inert(row.text)
        assert "\\x1b[2J" in row.text and "[bold red]" in row.text
        assert all(segment.style is None or segment.style.link is None for segment in row)

        await pilot.press("e", "tab", "G")
        tree = app.detail_tree
        lines = [tree.render_line(y) for y in range(tree.size.height)]
        tree_text = "\n".join(line.text for line in lines)
        assert_inert(tree_text)
        assert "[link=http://evil.example]x[/link]" in tree_text and "\\udcff" in tree_text
        assert all(segment.style is None or not segment.style.link for line in lines for segment in line)

        hex_pane = app.hex_pane
        hex_text = "\n".join(hex_pane.render_line(y).text for y in range(hex_pane.size.height))
        assert_inert(hex_text)
        assert "·[2J·]" in hex_text and "0;pwned·[bold" in hex_text
        assert "Frame (" in hex_text and "\\x1b[2J" in hex_text

        await pilot.press("s")
        payload_text = "\n".join(hex_pane.render_line(y).text for y in range(hex_pane.size.height))
        assert_inert(payload_text)
        assert "1b 5b 32 4a" in payload_text

        status = str(app.query_one("#status-bar").render())
        assert_inert(status)
