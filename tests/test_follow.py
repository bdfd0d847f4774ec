"""Follow Stream: the headless output equals `tshark -q -z follow,…` on every stream of every fixture,
and the formatters and argument parser behave as tshark's do."""
from __future__ import annotations

import subprocess
import sys

import pytest

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES, FIXTURES, TSHARK, needs_tshark
from tui_sniffer.analysis.follow import (FollowChunk, c_array, follow_stream, hex_dump, parse_follow_request,
                                         tshark_report)

MODES = ("ascii", "hex", "raw", "yaml")
PCAPS = [path for path in FIXTURE_CAPTURES if path.suffix == ".pcap"]


def _requests(capture) -> list[tuple[str, str, int]]:
    """Every (protocol, mode, stream) worth following in a capture: TCP, UDP and HTTP over TCP."""
    capture.index_all()
    requests = []
    for protocol, column in (("tcp", "tcp_stream"), ("udp", "udp_stream"), ("http", "tcp_stream")):
        streams = capture.index.column(column)
        count = int(streams.max()) + 1 if len(streams) else 0
        requests += [(protocol, mode, stream) for stream in range(count) for mode in MODES]
    return requests


@needs_tshark
@pytest.mark.parametrize("path", PCAPS, ids=lambda path: path.name)
def test_every_stream_follows_exactly_as_tshark(path, capsys):
    capture = tui_sniffer.open_capture(str(path))
    requests = _requests(capture)
    if not requests:
        pytest.skip(f"{path.name} has no TCP or UDP streams")
    arguments = [argument for protocol, mode, stream in requests
                 for argument in ("-z", f"follow,{protocol},{mode},{stream}")]
    theirs = subprocess.run([TSHARK, "-n", "-r", str(path), "-q", *arguments], capture_output=True,
                            check=True).stdout.decode("latin-1")
    # tshark prints the reports of several -z options in the reverse order of the command line.
    ours = "".join(tshark_report(follow_stream(capture, protocol, stream), mode)
                   for protocol, mode, stream in reversed(requests))
    with capsys.disabled():
        print(f"\n{path.name}: {len(requests)} follow reports compared with tshark")
    assert ours == theirs


@needs_tshark
@pytest.mark.parametrize("argument", ["follow,tcp,ascii,0", "follow,http,hex,0", "follow,tcp,raw,0,2-3",
                                      "follow,udp,yaml,0"])
def test_command_line_prints_tsharks_follow_after_the_packets(argument):
    path = str(FIXTURES / "http_chunked_gzip.pcap" if "udp" not in argument else FIXTURES / "dns_udp.pcap")
    ours = subprocess.run([sys.executable, "-m", "tui_sniffer.cli", "-r", path, "-z", argument],
                          capture_output=True, check=True).stdout
    theirs = subprocess.run([TSHARK, "-n", "-2", "-r", path, "-z", argument], capture_output=True).stdout
    assert ours == theirs


def test_bad_follow_arguments_fail_with_tsharks_reason():
    result = subprocess.run([sys.executable, "-m", "tui_sniffer.cli", "-r", str(FIXTURES / "demo.pcap"), "-q",
                             "-z", "follow,tcp,utf-16,0"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == "tui-sniffer: follow - Invalid display mode.\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("follow,tcp,ascii,3", ("tcp", "ascii", 3, 1, None)),
    ("follow,udp,hex,0,2", ("udp", "hex", 0, 2, 2)),
    ("follow,http,yaml,1,2-5", ("http", "yaml", 1, 2, 5)),
])
def test_follow_arguments_parse(text, expected):
    request = parse_follow_request(text)
    assert (request.protocol, request.mode, request.stream, request.first_chunk, request.last_chunk) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("follow,tcp,bogus,0", "Invalid display mode."), ("follow,tcp,ascii,5,4-2", "Invalid range value."),
    ("follow,tcp,ascii,x", "Invalid stream index"), ("follow,sctp,ascii,0", "Invalid -z argument"),
])
def test_bad_follow_arguments_say_why(text, reason):
    with pytest.raises(ValueError, match=reason.replace(".", r"\.")):
        parse_follow_request(text)


def test_hex_dump_keeps_tsharks_column_layout_and_trims_one_trailing_space():
    dump = hex_dump(b"GET /index.html HTTP/1.1\r\n", 0x90, "\t")
    assert dump.splitlines() == [
        "\t00000090  47 45 54 20 2f 69 6e 64  65 78 2e 68 74 6d 6c 20  GET /ind ex.html",
        "\t000000A0  48 54 54 50 2f 31 2e 31  0d 0a                    HTTP/1.1 ..",
    ]
    assert hex_dump(b"12345678") == "00000000  31 32 33 34 35 36 37 38                           12345678\n"


def test_c_array_writes_eight_bytes_a_line():
    chunk = FollowChunk(frame=4, from_server=True, data=bytes(range(10)), timestamp_ns=0)
    assert c_array(chunk, 2) == ("char peer1_2[] = { /* Packet 4 */\n"
                                 "0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,\n0x08, 0x09 };\n")


def test_byte_counts_per_side_and_the_stream_filter():
    followed = follow_stream(tui_sniffer.open_capture(str(FIXTURES / "http_get_post.pcap")), "tcp", 0)
    assert followed.filter == "tcp.stream eq 0"
    assert (followed.byte_count(False), followed.byte_count(True)) == (88, 519)
    assert followed.byte_count() == 607
    assert [chunk.frame for chunk in followed.chunks] == [4, 6, 8]
    assert str(followed.client) == "127.0.0.1:48782" and str(followed.server) == "127.0.0.1:8000"


def test_http_follow_shows_the_decoded_body():
    followed = follow_stream(tui_sniffer.open_capture(str(FIXTURES / "http_chunked_gzip.pcap")), "http", 0)
    body = followed.chunks[-1].data
    assert body.startswith(b"<!DOCTYPE html>") and len(body) == 6930
    assert followed.chunks[-2].data.endswith(b"Transfer-Encoding: chunked\r\nVary: Accept-Encoding\r\n\r\n")


def test_a_stream_that_does_not_exist_has_no_endpoints():
    followed = follow_stream(tui_sniffer.open_capture(str(FIXTURES / "demo.pcap")), "tcp", 99)
    assert followed.chunks == [] and followed.client is None
    assert "Node 0: :0\nNode 1: :0\n" in tshark_report(followed, "ascii")
