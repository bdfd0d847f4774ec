"""The headless live modes of the command line, run as a user would: `-D`, `-i` printing packets as they
arrive (with -f, -Y, -V, -T fields, -w), stop conditions, the ring buffer, and the errors for a bad
capture filter and for missing privilege."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import TSHARK, needs_tshark
from tests.live_traffic import WAIT_SECONDS, echo_server, free_port, needs_root
from tui_sniffer.capture.live import PRIVILEGE_FIX

REPOSITORY = Path(__file__).resolve().parent.parent


def run_cli(*arguments: str, check_rc: int | None = None) -> subprocess.CompletedProcess:
    """Run `tui-sniffer` (as `python -m tui_sniffer.cli`) to the end with a pipe as output."""
    result = subprocess.run([sys.executable, "-m", "tui_sniffer.cli", *arguments], capture_output=True,
                            text=True, timeout=WAIT_SECONDS, cwd=REPOSITORY)
    if check_rc is not None:
        assert result.returncode == check_rc, result.stderr
    return result


@contextmanager
def capturing(*arguments: str) -> Iterator[subprocess.Popen]:
    """Start a headless capture and yield once it says it is capturing (the sockets are bound by then)."""
    process = subprocess.Popen([sys.executable, "-m", "tui_sniffer.cli", *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPOSITORY)
    try:
        first_line = process.stderr.readline()
        assert first_line.startswith("Capturing on 'lo'"), first_line + process.stderr.read()
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(WAIT_SECONDS)


def finish(process: subprocess.Popen) -> tuple[list[str], str]:
    """The printed lines and the closing stderr text of a capture that stops by itself."""
    stdout, stderr = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, stderr
    return stdout.splitlines(), stderr


@contextmanager
def udp_stream(port: int) -> Iterator[None]:
    """Datagrams to 127.0.0.1:`port` every few milliseconds until the block ends."""
    stop = threading.Event()

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            while not stop.wait(0.005):
                sender.sendto(b"tick" * 40, ("127.0.0.1", port))

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield
    finally:
        stop.set()
        sender.join()


def test_list_interfaces_names_lo_as_loopback_with_its_addresses() -> None:
    lines = run_cli("-D", check_rc=0).stdout.splitlines()
    lo_line = next(line for line in lines if re.match(r"\d+\. lo ", line))
    assert "(Loopback)" in lo_line and "loopback" in lo_line and "127.0.0.1" in lo_line
    assert len(lines) == len(os.listdir("/sys/class/net"))


@needs_tshark
def test_list_interfaces_names_what_tshark_names() -> None:
    ours = {line.split()[1] for line in run_cli("-D", check_rc=0).stdout.splitlines()}
    theirs = {line.split()[1] for line in subprocess.run([TSHARK, "-D"], capture_output=True, text=True,
                                                         check=True).stdout.splitlines()}
    assert ours == theirs & set(os.listdir("/sys/class/net"))


@needs_root
def test_prints_the_handshake_as_it_arrives() -> None:
    with echo_server() as server, capturing("-i", "lo", "-f", f"tcp port {server.port}", "-c", "3") as process:
        server.exchange(b"ping")
        lines, stderr = finish(process)
    assert len(lines) == 3
    assert [re.search(r"\[(.*?)\]", line).group(1) for line in lines] == ["SYN", "SYN, ACK", "ACK"]
    assert all(f"{server.port}" in line for line in lines)
    assert lines[0].split()[:2] == ["1", "0.000000000"]
    assert "3 packets captured" in stderr


@needs_root
def test_display_filter_fields_and_tree_apply_to_live_packets(tmp_path: Path) -> None:
    with echo_server() as server, capturing("-i", "lo", "-f", f"tcp port {server.port}", "-c", "3",
                                            "-Y", "tcp.flags.syn == 1", "-T", "fields",
                                            "-e", "tcp.srcport", "-e", "tcp.flags.ack") as process:
        server.exchange(b"ping")
        lines, _ = finish(process)
    assert lines == [f"{lines[0].split()[0]}\t0", f"{server.port}\t1"]
    with echo_server() as server, capturing("-i", "lo", "-f", f"tcp port {server.port}", "-c", "1",
                                            "-V") as process:
        server.exchange(b"ping")
        lines, _ = finish(process)
    assert lines[0].startswith("Frame 1:") and "Interface name: lo" in "\n".join(lines)
    assert any(line.startswith("Transmission Control Protocol, Src Port:") for line in lines)


@needs_root
@needs_tshark
def test_write_file_reads_back_in_tshark_with_the_same_frames(tmp_path: Path) -> None:
    output = tmp_path / "live.pcapng"
    with echo_server() as server, capturing("-i", "lo", "-f", f"tcp port {server.port}", "-c", "6",
                                            "-w", str(output)) as process:
        server.exchange(b"one", b"two", b"three")
        lines, _ = finish(process)
    tshark_lines = subprocess.run([TSHARK, "-n", "-r", str(output)], capture_output=True, text=True,
                                  check=True).stdout.splitlines()
    assert len(tshark_lines) == len(lines) == 6
    assert run_cli("-r", str(output), check_rc=0).stdout.splitlines() == lines


@needs_root
def test_stop_after_packets_duration_and_filesize(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    with udp_stream(port), capturing("-i", "lo", "-f", f"udp port {port}", "-a", "packets:4", "-q") as process:
        _, stderr = finish(process)
    assert "4 packets captured" in stderr
    with capturing("-i", "lo", "-f", f"udp port {free_port(socket.SOCK_DGRAM)}", "-a", "duration:0.5") as process:
        lines, stderr = finish(process)
    assert lines == [] and "0 packets captured" in stderr
    output = tmp_path / "sized.pcapng"
    with udp_stream(port), capturing("-i", "lo", "-f", f"udp port {port}", "-a", "filesize:3",
                                     "-w", str(output), "-q") as process:
        finish(process)
    assert 3000 <= output.stat().st_size < 3000 + 2 * 250


@needs_root
def test_ring_buffer_keeps_the_newest_files(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    output = tmp_path / "ring.pcapng"
    with udp_stream(port), capturing("-i", "lo", "-f", f"udp port {port}", "-w", str(output), "-c", "7",
                                     "-b", "packets:2", "-b", "files:2") as process:
        _, stderr = finish(process)
    files = sorted(tmp_path.glob("ring_*.pcapng"))
    assert [re.match(r"ring_(\d{5})_\d{14}\.pcapng", path.name).group(1) for path in files] == ["00003", "00004"]
    counts = [len(run_cli("-r", str(path), check_rc=0).stdout.splitlines()) for path in files]
    assert counts == [2, 1] and "7 packets captured" in stderr
    with udp_stream(port), capturing("-i", "lo", "-f", f"udp port {port}", "-w", str(tmp_path / "n.pcap"),
                                     "-b", "packets:2", "-a", "files:3") as process:
        _, stderr = finish(process)
    assert len(list(tmp_path.glob("n_*.pcap"))) == 3 and "6 packets captured" in stderr


@needs_root
def test_bad_capture_filter_is_a_clear_error() -> None:
    result = run_cli("-i", "lo", "-f", "tcp prot 80", "-c", "1", check_rc=2)
    assert result.stderr == ("tui-sniffer: invalid capture filter 'tcp prot 80': can't parse filter expression: "
                             "syntax error\n")


@pytest.mark.parametrize("arguments, message", [
    (["-f", "tcp", "-r", "x.pcap"], "-f applies to live capture and needs -i"),
    (["-i", "lo", "-r", "x.pcap"], "cannot be combined with -r"),
    (["-i", "lo", "-b", "files:2", "-c", "1"], "needs a condition to switch files"),
    (["-i", "lo", "-b", "packets:2", "-c", "1"], "a ring buffer (-b) needs an output file"),
    (["-i", "lo", "-a", "size:2"], "invalid or unknown -a flag 'size:2'"),
])
def test_misused_live_options_are_refused(arguments: list[str], message: str) -> None:
    if os.geteuid() != 0 and "needs an output file" in message:
        pytest.skip("needs capture privilege to get past opening the socket")
    assert message in run_cli(*arguments, check_rc=2).stderr


def test_without_privilege_it_says_how_to_get_it() -> None:
    """Run the CLI as `nobody` (modules imported first: the interpreter may live where nobody can read)."""
    if os.geteuid() != 0:
        pytest.skip("dropping to nobody needs root")
    script = ("import os, sys\n"
              "import tui_sniffer.cli, tui_sniffer.cli_live, tui_sniffer.capture.live\n"
              "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
              "sys.exit(tui_sniffer.cli.main(sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", script, "-i", "lo", "-c", "1"], capture_output=True,
                            text=True, timeout=WAIT_SECONDS, cwd=REPOSITORY)
    assert result.returncode == 2
    assert result.stderr.startswith("tui-sniffer: you don't have permission to capture on lo (Operation not "
                                    "permitted). Capturing needs root or the CAP_NET_RAW capability")
    assert f"run with sudo, or allow this Python to capture with\n    {PRIVILEGE_FIX}\n" in result.stderr
    listing = subprocess.run([sys.executable, "-c", script, "-D"], capture_output=True, text=True,
                             timeout=WAIT_SECONDS, cwd=REPOSITORY)
    assert listing.returncode == 0 and " lo (Loopback)" in listing.stdout
