"""TCP reassembly against tshark -2 (default reassembly) on crafted segment boundaries, the framers'
rules, its laziness, and the byte sources a reassembled message brings."""
from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR

import tui_sniffer
from tests.conftest import FIXTURES, TSHARK, needs_tshark
from tests.tcp_craft import conversation, split, tls_record
from tui_sniffer.analysis.pdu_framing import MessageEnd, find_message_end
from tui_sniffer.export.terminal_text import tshark_field_text

COMPARED = ["_ws.col.Protocol", "_ws.col.Info", "frame.protocols", "tcp.reassembled_in", "tcp.segment",
            "tcp.segment.count", "tcp.reassembled.length", "tcp.pdu.size", "tls.record.length",
            "http.response.code", "http.content_length", "http.file_data", "http.request_in", "http.response_in",
            "dns.id", "dns.qry.name", "dns.a", "dns.aaaa", "dns.response_to", "dns.response_in"]


def _tls_records_across_segments(path: Path) -> Path:
    """Record 1 spans segments 1-2, record 2 is whole in segment 2, record 3 spans segments 2-3."""
    records = tls_record(23, bytes(range(256)) * 2) + tls_record(23, b"\xaa" * 100) + tls_record(23, b"\xbb" * 700)
    return conversation(path, [("c", tls_record(23, b"\x01" * 50)), *(("s", part) for part in split(records, 300, 900)),
                               ("cfin", b""), ("sfin", b"")], server_port=443)


def _http_headers_across_segments(path: Path) -> Path:
    """A response whose headers end in the second segment; a second response follows in the last one."""
    first = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\n" + b"0123456789" * 3
    second = b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n"
    return conversation(path, [("c", b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), ("c", b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
                               *(("s", part) for part in split(first + second, 20, 70, 95)),
                               ("cfin", b""), ("sfin", b"")])


def _http_until_fin(path: Path) -> Path:
    """An HTTP/1.0 response without a length, ended by the server's FIN."""
    response = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>hi</html>\n" + b"x" * 50
    return conversation(path, [("c", b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"),
                               *(("s", part) for part in split(response, 40, 80)), ("sfin", b""), ("cfin", b"")])


def _http_chunked_gzip_across_segments(path: Path) -> Path:
    """Chunks that straddle segment boundaries, carrying a gzip body."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = compressor.compress(b"hello gzip world\n" * 40) + compressor.flush()
    chunks = b"".join(b"%x\r\n" % len(body[at:at + 40]) + body[at:at + 40] + b"\r\n" for at in range(0, len(body), 40))
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n" \
               b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    return conversation(path, [("c", b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n"),
                               *(("s", part) for part in split(response, 60, 100, 150)), ("cfin", b""), ("sfin", b"")])


def _http_never_finished(path: Path) -> Path:
    """A response promising more bytes than the capture holds."""
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 500\r\n\r\n" + b"x" * 100
    return conversation(path, [("c", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ("s", response[:80]), ("s", response[80:])])


def _dns_over_tcp_split(path: Path) -> Path:
    """Two queries in one segment; two responses cut inside the first length prefix and across segments."""
    prefixed = [struct.pack(">H", len(message)) + message for message in (
        bytes(DNS(id=1, rd=1, qd=DNSQR(qname="a.example.test"))),
        bytes(DNS(id=2, rd=1, qd=DNSQR(qname="b.example.test", qtype="AAAA"))),
        bytes(DNS(id=1, qr=1, rd=1, ra=1, qd=DNSQR(qname="a.example.test"),
                  an=DNSRR(rrname="a.example.test", rdata="10.0.0.9"))),
        bytes(DNS(id=2, qr=1, rd=1, ra=1, qd=DNSQR(qname="b.example.test", qtype="AAAA"),
                  an=DNSRR(rrname="b.example.test", type="AAAA", rdata="2001:db8::9"))))]
    answers = prefixed[2] + prefixed[3]
    return conversation(path, [("c", prefixed[0] + prefixed[1]),
                               *(("s", part) for part in split(answers, 1, 30, len(prefixed[2]) + 10)),
                               ("cfin", b""), ("sfin", b"")], server_port=53)


CASES = [_tls_records_across_segments, _http_headers_across_segments, _http_until_fin,
         _http_chunked_gzip_across_segments, _http_never_finished, _dns_over_tcp_split]


def _rows(path: Path) -> list[list[str]]:
    """tshark -2's values of the compared columns and fields, frame by frame."""
    command = [TSHARK, "-n", "-2", "-r", str(path), "-T", "fields", *[part for name in COMPARED for part in ("-e", name)],
               "-E", "occurrence=a", "-E", "aggregator=,"]
    output = subprocess.run(command, capture_output=True, check=True).stdout.decode("utf-8", "replace")
    return [line.split("\t") for line in output.rstrip("\n").split("\n")]


def _ours(packet) -> list[str]:
    """Our values of the compared columns and fields, escaped as tshark -T fields writes them."""
    return [tshark_field_text(",".join(packet.fields(name))) for name in COMPARED]


@needs_tshark
@pytest.mark.parametrize("build", CASES, ids=lambda build: build.__name__.strip("_"))
def test_crafted_segment_boundaries_reassemble_as_tshark(build, tmp_path):
    path = build(tmp_path / "case.pcap")
    expected = _rows(path)
    packets = list(tui_sniffer.open_capture(str(path)))
    assert len(packets) == len(expected)
    differences = [f"#{packet.number} {name}: ours={mine!r} tshark={theirs!r}"
                   for packet, row in zip(packets, expected)
                   for name, mine, theirs in zip(COMPARED, _ours(packet), row) if mine != theirs]
    assert not differences, "\n".join(differences)


_GET = b"GET / HTTP/1.1\r\nHost: x\r\n"
_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(("stream", "start", "expected"), [
    (_GET, 0, MessageEnd(retry_at=len(_GET) + 1)),
    (_GET + b"\r\n", 0, MessageEnd(len(_GET) + 2)),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 0, MessageEnd(len(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n") + 5)),
    (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0, MessageEnd(48)),
    (b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody", 0, MessageEnd(until_close=True)),
    (_CHUNKED + b"3\r\nabc\r\n0\r\n\r\n", 0, MessageEnd(len(_CHUNKED) + 13)),
    (_CHUNKED + b"3\r\nabc\r\n", 0, MessageEnd(retry_at=len(_CHUNKED) + 9, resume=len(_CHUNKED) + 8)),
    (b"xx\x17\x03\x03\x01\x00", 2, MessageEnd(263)),
    (b"\x17\x03", 0, MessageEnd(retry_at=5)),
])
def test_framers_find_where_messages_end(stream, start, expected):
    kind = "tls" if stream[start:start + 1] == b"\x17" else "http"
    assert find_message_end(kind, _Bytes(stream), start, None) == expected


def test_dns_over_tcp_length_prefix_frames_one_message():
    assert find_message_end("dns", _Bytes(b"\x00\x20" + bytes(10)), 0, None) == MessageEnd(34)
    assert find_message_end("dns", _Bytes(b"\x00"), 0, None) == MessageEnd(retry_at=2)


class _Bytes:
    """A stream whose bytes are all available."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.available = len(data)

    def read(self, start: int, end: int) -> bytes:
        return self.data[start:min(end, self.available)]


def test_only_the_asked_streams_are_framed():
    capture = tui_sniffer.open_capture(str(FIXTURES / "tcp_chat_5050.pcap"))
    capture.index_all()
    streams = capture.index.column("tcp_stream")
    row = int((streams == 1).nonzero()[0][-1])
    capture.dissect(row + 1)
    assert {key[0] for key in capture.framing._directions} == {1}


def test_a_reassembled_message_has_its_own_byte_source():
    packet = tui_sniffer.open_capture(str(FIXTURES / "http_large.pcap"))[30]
    assert [(name, len(data)) for name, data in packet.data_sources] == [("Frame", 757), ("Reassembled TCP", 24047)]
    segments = packet.nodes("tcp.segments")[0]
    assert segments.text.startswith("[18 Reassembled TCP Segments (24047 bytes): #6(188), #8(1448)")
    assert (segments.source, segments.offset, segments.length) == (1, 0, 24047)
    http = packet.nodes("http")[0]
    assert http.source == 1 and packet.node_bytes(http).startswith(b"HTTP/1.1 200 OK\r\n")
    assert packet.nodes("tcp.segment_data")[0].source == 0


def test_earlier_segments_point_to_the_frame_that_reassembles():
    capture = tui_sniffer.open_capture(str(FIXTURES / "http_large.pcap"))
    packet = capture[8]
    assert packet.fields("tcp.reassembled_in") == ["30"]
    assert packet.summary.info.endswith(" [TCP segment of a reassembled PDU]")
    assert packet.summary.protocol == "TCP"


def test_without_reassembly_every_segment_stands_alone():
    capture = tui_sniffer.open_capture(str(FIXTURES / "http_large.pcap"), reassemble=False)
    assert capture[6].summary.info == "HTTP/1.1 200 OK "
    assert capture[30].fields("tcp.segment") == []
    assert capture[6].fields("http.request_in") == ["4"]


def test_without_reassembly_a_tls_record_cut_by_the_segment_is_left_out():
    """tshark with tcp.desegment_tcp_streams off: the Certificate that goes on in the next segment is not
    shown, that next segment is an Ignored Unknown Record, and with the ServerHelloDone unseen the
    server's ChangeCipherSpec looks like an abbreviated (resumed) handshake."""
    capture = tui_sniffer.open_capture(str(FIXTURES / "tls12_chain.pcap"), reassemble=False)
    assert (capture[6].summary.protocol, capture[6].summary.info) == ("TLSv1.2", "Server Hello")
    assert capture[6].values("tls.record.content_type") == [22]
    assert (capture[7].summary.protocol, capture[7].summary.info) == ("TLSv1.2", "Ignored Unknown Record")
    assert capture[7].nodes("tls.ignored_unknown_record")
    assert capture[11].nodes("tls.resumed") and not capture[10].nodes("tls.resumed")
    assert not tui_sniffer.open_capture(str(FIXTURES / "tls12_chain.pcap"))[11].nodes("tls.resumed")


def test_a_resumed_tls_session_is_flagged_at_the_servers_change_cipher_spec():
    capture = tui_sniffer.open_capture(str(FIXTURES / "tls12_resume.pcap"))
    flagged = [packet.number for packet in capture if packet.nodes("tls.resumed")]
    assert len(flagged) == 1
    assert capture[flagged[0]].summary.info == "Server Hello, Change Cipher Spec, Encrypted Handshake Message"
