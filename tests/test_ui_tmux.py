"""A real-terminal smoke test: run the TUI in tmux at 120×40, press keys, read the screen as a person would."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "http_get_post.pcap"
TYPING_GAP_SECONDS = 0.03

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed, so there is no real terminal to drive")


def tmux(session: str, *arguments: str) -> list[str]:
    """A tmux command on the session's own server (its socket is named after it), so other users of
    tmux on the machine neither see nor disturb it."""
    return ["tmux", "-L", session, *arguments]


def screen(session: str) -> str:
    return subprocess.run(tmux(session, "capture-pane", "-p", "-t", session), capture_output=True,
                          text=True, check=True).stdout


def wait_for(session: str, text: str, timeout: float = 15.0) -> str:
    """Poll the pane until `text` appears (a real terminal has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen(session)
        if text in shown:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; screen was:\n{screen(session)}")


def wait_until_gone(session: str, text: str, timeout: float) -> str:
    """Poll the pane until `text` is no longer on it (or `timeout` passes); the last screen read."""
    deadline = time.monotonic() + timeout
    shown = screen(session)
    while text in shown and time.monotonic() < deadline:
        time.sleep(0.1)
        shown = screen(session)
    return shown


def start(tmp_path: Path, width: int, height: int) -> str:
    """Run the TUI on the fixture in a new tmux session of `width`×`height`; the session's name."""
    session = f"tui-sniffer-test-{uuid.uuid4().hex[:8]}"
    environment = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    command = f"{sys.executable} -m tui_sniffer.ui {FIXTURE}; sleep 5"
    subprocess.run(tmux(session, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command),
                   check=True, env=environment, cwd=Path(__file__).resolve().parent.parent)
    return session


def keys(session: str, *names: str) -> None:
    """Press keys (tmux key names) in the session, one by one."""
    for name in names:
        subprocess.run(tmux(session, "send-keys", "-t", session, name), check=True)
        time.sleep(TYPING_GAP_SECONDS)


def type_text(session: str, text: str) -> None:
    """Type `text` a character at a time, as a person would (a burst, like a paste, reaches the app
    in one read, and keys in one read all go to the widget focused before the first is handled)."""
    for character in text:
        subprocess.run(tmux(session, "send-keys", "-t", session, "-l", character), check=True)
        time.sleep(TYPING_GAP_SECONDS)


def test_tui_in_a_real_terminal(tmp_path: Path) -> None:
    session = start(tmp_path, 120, 40)
    try:
        shown = wait_for(session, "Packets: 24 · Displayed: 24 (100.0%)")
        assert "No. Time" in shown and "Protocol Length Info" in shown
        assert "GET /index.html HTTP/1.1" in shown
        keys(session, "j", "j", "j", "Tab", "j", "j", "Enter")
        shown = wait_for(session, "Version: 4")
        assert "Frame 4: 154 bytes on wire" in shown
        assert "ip — Internet Protocol Version 4" in shown
        assert "0040  5c fb 47 45 54 20 2f 69" in shown and "GET /index.htm" in shown
        keys(session, "?")
        wait_for(session, "Show every key binding")
        keys(session, "Escape")
        wait_until_gone(session, "Show every key binding", 5)
        keys(session, "q")
        shown = wait_until_gone(session, "Packets: 24", 10)
        assert "Traceback" not in shown
        assert "Packets: 24" not in shown
    finally:
        subprocess.run(tmux(session, "kill-server"), check=False)


def test_filtering_at_80_by_24(tmp_path: Path) -> None:
    session = start(tmp_path, 80, 24)
    try:
        wait_for(session, "Displayed: 24 (100.0%)")
        keys(session, "/")
        type_text(session, "http.request.me")
        shown = wait_for(session, "Request Method")
        assert "http.request.method" in shown
        keys(session, "Tab")
        wait_for(session, "http.request.method")
        type_text(session, ' == "GET"')
        keys(session, "Enter")
        shown = wait_for(session, "Displayed: 1 (4.2%)")
        assert "  4 0.000491" in shown and "GET /index.html" in shown and "HTTP/1.1 200 OK" not in shown
        keys(session, "Tab", "j", "j")
        shown = wait_for(session, "ip — Internet Protocol Version 4")
        status = shown.rstrip().splitlines()[-1]
        assert len(status) <= 80 and status.rstrip().endswith("ip — Internet Protocol Version 4")
        keys(session, "/")
        type_text(session, "udp")
        keys(session, "Enter")
        wait_for(session, "No packets match the display filter: udp")
        keys(session, "q")
        shown = wait_until_gone(session, "Displayed:", 10)
        assert "Traceback" not in shown and "Displayed:" not in shown
    finally:
        subprocess.run(tmux(session, "kill-server"), check=False)
