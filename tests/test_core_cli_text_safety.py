"""Payload text in headless output: tshark's `-T fields` escapes when piped, nothing raw on a terminal."""
from __future__ import annotations

import os
import pty
import subprocess
import sys

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from tests.conftest import TSHARK, needs_tshark

CLI = [sys.executable, "-m", "tui_sniffer.cli"]
HOSTILE_USER_AGENT = b"a\x0bb\x0cc\x08d\x07e\x1b[31mf\"g\th\\i"


def hostile_http_capture(directory) -> str:
    """A one-packet pcap whose HTTP User-Agent carries control characters and an ANSI colour escape."""
    request = (b"GET /x HTTP/1.1\r\nUser-Agent: " + HOSTILE_USER_AGENT + b"\r\nHost: h\r\n\r\n")
    packet = (Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
              / TCP(sport=40000, dport=80, flags="PA", seq=1, ack=1) / Raw(request))
    path = str(directory / "hostile.pcap")
    wrpcap(path, [packet])
    return path


@needs_tshark
def test_fields_output_escapes_like_tshark_when_piped(tmp_path):
    path = hostile_http_capture(tmp_path)
    arguments = ["-n", "-r", path, "-T", "fields", "-e", "http.user_agent", "-e", "http.request.line",
                 "-E", "quote=d"]
    ours = subprocess.run([*CLI, *arguments], capture_output=True, check=True).stdout
    theirs = subprocess.run([TSHARK, *arguments], capture_output=True, check=True).stdout
    assert ours == theirs
    assert b"\\r\\n" in ours and b"\\t" in ours


def run_on_terminal(arguments: list[str]) -> bytes:
    """What the CLI writes when its standard output is a pseudo-terminal."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([*CLI, *arguments], stdout=terminal, stderr=subprocess.DEVNULL)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(controller)
    return output


def test_no_escape_sequence_reaches_a_terminal(tmp_path):
    path = hostile_http_capture(tmp_path)
    for arguments in (["-V"], ["-T", "fields", "-e", "http.user_agent"], []):
        screen = run_on_terminal(["-n", "-r", path, *arguments])
        assert b"User-Agent" in screen or b"GET /x" in screen or b"a\\x0bb" in screen
        assert b"\x1b" not in screen and b"\x07" not in screen and b"\x08" not in screen
    assert b"e\\x1b[31mf" in run_on_terminal(["-n", "-r", path, "-V"])
