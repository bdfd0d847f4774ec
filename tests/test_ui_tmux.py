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

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed, so there is no real terminal to drive")


def screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
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


def test_tui_in_a_real_terminal(tmp_path: Path) -> None:
    session = f"tui-sniffer-test-{uuid.uuid4().hex[:8]}"
    environment = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    command = f"{sys.executable} -m tui_sniffer.ui {FIXTURE}; sleep 5"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command],
                   check=True, env=environment, cwd=Path(__file__).resolve().parent.parent)
    try:
        shown = wait_for(session, "Packets: 24 · Displayed: 24 (100.0%)")
        assert "No. Time" in shown and "Protocol Length Info" in shown
        assert "GET /index.html HTTP/1.1" in shown
        subprocess.run(["tmux", "send-keys", "-t", session, "j", "j", "j", "Tab", "j", "j", "Enter"], check=True)
        shown = wait_for(session, "Version: 4")
        assert "Frame 4: 154 bytes on wire" in shown
        assert "ip — Internet Protocol Version 4" in shown
        assert "0040  5c fb 47 45 54 20 2f 69" in shown and "GET /index.htm" in shown
        subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
        wait_for(session, "Show every key binding")
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        deadline = time.monotonic() + 5
        while "Show every key binding" in screen(session) and time.monotonic() < deadline:
            time.sleep(0.1)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while "Packets: 24" in screen(session) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "Traceback" not in screen(session)
        assert "Packets: 24" not in screen(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
