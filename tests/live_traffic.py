"""Real traffic for live-capture tests: a TCP echo server, http.server with curl, UDP, DNS, ping, and
a running capture that a test can wait on until the packets it expects have arrived (no fixed sleeps)."""
from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tui_sniffer.capture.live import LiveCapture
from tui_sniffer.capture.live_settings import LiveCaptureSettings
from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.session import Capture, open_growing_capture

WAIT_SECONDS = 20.0
"""The longest a test waits for expected packets before failing (they normally come in milliseconds)."""

needs_root = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="live capture needs root or CAP_NET_RAW on Linux; CI runs the tests as root")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing on 127.0.0.1 uses now, so parallel test runs never see each other's traffic."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll `condition` (each poll waits on real progress, e.g. a socket) until true, or fail saying `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


async def until(pilot, condition: Callable[[], bool], what: str) -> None:
    """Let a Pilot-driven app handle messages until `condition()` holds (a live capture posts every 100 ms)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.05)


class EchoServer:
    """A TCP echo server on 127.0.0.1 in a thread: every byte received is sent back."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(65536):
                    connection.sendall(data)

    def exchange(self, *messages: bytes) -> list[bytes]:
        """Connect, send each message and read its echo, then close (handshake, data, FIN both ways)."""
        replies = []
        with socket.create_connection(("127.0.0.1", self.port)) as client:
            for message in messages:
                client.sendall(message)
                reply = b""
                while len(reply) < len(message):
                    reply += client.recv(65536)
                replies.append(reply)
            client.shutdown(socket.SHUT_WR)
            client.recv(1)
        return replies

    def close(self) -> None:
        self.listener.close()


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    """A running echo server, closed afterwards."""
    server = EchoServer()
    try:
        yield server
    finally:
        server.close()


@contextmanager
def http_server(directory: Path) -> Iterator[int]:
    """`python -m http.server` serving `directory` on a free port of 127.0.0.1; yields the port."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _accepts(port), "http.server to listen")
        yield port
    finally:
        server.terminate()
        server.wait()


def _accepts(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def http_get(port: int, path: str) -> bytes:
    """Fetch a URL with curl (a real client) or, without curl, urllib."""
    url = f"http://127.0.0.1:{port}{path}"
    if shutil.which("curl"):
        return subprocess.run(["curl", "-s", "--max-time", "10", url], check=True, capture_output=True).stdout
    from urllib.request import urlopen

    with urlopen(url, timeout=10) as response:
        return response.read()


def udp_exchange(payload: bytes) -> int:
    """Send one datagram to a local UDP socket and read it there; returns the port used."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        port = receiver.getsockname()[1]
        sender.sendto(payload, ("127.0.0.1", port))
        assert receiver.recv(65536) == payload
    return port


def ping(address: str = "127.0.0.1", count: int = 2) -> None:
    """Real ICMP echo requests (the `ping` tool)."""
    if shutil.which("ping") is None:
        pytest.skip("ping is not installed")
    subprocess.run(["ping", "-c", str(count), "-i", "0.2", "-W", "5", address], check=True, capture_output=True)


@contextmanager
def dns_server(answers: dict[str, str]) -> Iterator[str]:
    """dnsmasq answering A queries for `answers` on port 53 of a random 127/8 address; yields the address.

    DNS must be on port 53 to be dissected as DNS, and a fresh loopback address keeps parallel runs apart."""
    dnsmasq = shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq")
    if not dnsmasq or shutil.which("dig") is None:
        pytest.skip("dnsmasq and dig (Debian packages dnsmasq-base, bind9-dnsutils) are not installed")
    address = f"127.{random.randrange(1, 255)}.{random.randrange(1, 255)}.{random.randrange(1, 255)}"
    command = [dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
               "--port=53", f"--listen-address={address}", "--bind-interfaces", "--user=root"]
    command += [f"--address=/{name}/{answer}" for name, answer in answers.items()]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield address
    finally:
        server.terminate()
        server.wait()


def dns_query(address: str, name: str) -> str:
    """Ask the server at `address` for `name`'s A record with dig, retrying while dnsmasq starts; the answer."""
    answers: list[str] = []

    def answered() -> bool:
        result = subprocess.run(["dig", f"@{address}", name, "A", "+short", "+tries=1", "+time=1"],
                                capture_output=True, text=True)
        answers.append(result.stdout.strip())
        return bool(answers[-1])

    wait_until(answered, f"dnsmasq to answer {name}")
    return answers[-1]


class RunningCapture:
    """A LiveCapture in its thread plus a Capture following its spool, dissecting packets as they come."""

    def __init__(self, settings: LiveCaptureSettings) -> None:
        self.live = LiveCapture(settings)
        self.capture: Capture = open_growing_capture(self.live.output_path)
        self.packets: list[DissectedPacket] = []
        self.live.start_in_thread()

    def refresh(self) -> list[DissectedPacket]:
        """Index and dissect what the capture wrote since the last look."""
        self.live.written.wait(0.05)
        self.live.written.clear()
        self.capture.index_all()
        while len(self.packets) < self.capture.indexed_count:
            self.packets.append(self.capture.dissect(len(self.packets) + 1))
        return self.packets

    def wait_for(self, condition: Callable[[list[DissectedPacket]], bool], what: str) -> list[DissectedPacket]:
        """Wait until the packets captured so far satisfy `condition`."""
        wait_until(lambda: condition(self.refresh()), what)
        return self.packets

    def stop(self) -> list[DissectedPacket]:
        """Stop, index everything written and return every packet."""
        self.live.request_stop()
        assert self.live.finished.wait(WAIT_SECONDS)
        self.capture.finish_growing()
        self.refresh()
        return self.packets

    def close(self) -> None:
        self.live.request_stop()
        self.live.finished.wait(WAIT_SECONDS)
        self.capture.close()
        self.live.discard()


@contextmanager
def running_capture(settings: LiveCaptureSettings) -> Iterator[RunningCapture]:
    """A capture running for the duration of the block, its spool deleted afterwards."""
    run = RunningCapture(settings)
    try:
        yield run
    finally:
        run.close()


def infos(packets: list[DissectedPacket]) -> list[str]:
    """The Info column of every packet."""
    return [packet.summary.info for packet in packets]
