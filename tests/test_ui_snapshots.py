"""Snapshots (pytest-textual-snapshot, 120×40) of the main screen, an expanded tree with its bytes
highlighted, the help screen and the start screen.

Made deterministic: the config directory is a fresh temporary one (no recent files), the start
screen gets a fixed interface list, and nothing shown depends on the clock or the checkout's path.
Run `pytest tests/test_ui_snapshots.py --snapshot-update` after a deliberate change of the screen,
and look at the new SVGs in tests/__snapshots__/ before committing them.
"""
from __future__ import annotations

from tests.test_ui_app import FIXTURE, SIZE, loaded, private_config  # noqa: F401 (autouse fixture)
from tui_sniffer.capture.interfaces import NetworkInterface
from tui_sniffer.ui.app import SnifferApp


def test_main_screen(snap_compare) -> None:
    assert snap_compare(SnifferApp(str(FIXTURE)), terminal_size=SIZE, run_before=loaded)


def test_expanded_tree_with_a_highlighted_field(snap_compare) -> None:
    """The IPv4 layer expanded and its Source Address selected: its 4 bytes light up in the hex pane."""
    keys = ["j", "j", "j", "tab", "j", "j", "enter", *["j"] * 12]
    assert snap_compare(SnifferApp(str(FIXTURE)), press=keys, terminal_size=SIZE, run_before=loaded)


def test_help_screen(snap_compare) -> None:
    assert snap_compare(SnifferApp(str(FIXTURE)), press=["question_mark"], terminal_size=SIZE,
                        run_before=loaded)


def test_start_screen(snap_compare) -> None:
    """Interfaces no machine is likely to have, so neither their facts nor their packet rates vary."""
    interfaces = [NetworkInterface("enp3s0", 2, "e1000e", ["192.0.2.7", "fe80::1"], True, True),
                  NetworkInterface("wlp2s0", 3, "iwlwifi", [], True, False),
                  NetworkInterface("docker0", 4, "bridge", ["172.17.0.1"], False, False)]
    app = SnifferApp(None, list_interfaces=lambda: interfaces)
    assert snap_compare(app, terminal_size=SIZE)
