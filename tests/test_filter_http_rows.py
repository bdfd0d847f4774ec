"""HTTP filters decided from where messages are shown (filter/http_rows.py) give exactly what dissecting
every frame gives on crafted conversations (messages split, pipelined, after a TLS record inside a
segment, overlapping and repeated segments, keep-alives, a response until FIN), with and without TCP
reassembly (test_filter_fast_path runs them on every fixture), and plain HTTP needs no dissection."""
from __future__ import annotations

from pathlib import Path

import pytest

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES
from tests.tcp_craft import conversation, split, tls_record
from tests.test_filter_fast_path import HTTP_FILTERS, _assert_fast_equals_dissection
from tui_sniffer.filter.http_rows import line_values


_REQUEST = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
_PIPELINED = b"GET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n"
_UNTIL_CLOSE = b"HTTP/1.0 404 Not Found\r\n\r\nbody until close"
_AFTER_HELLO = b"hello\n" + b"GET /o HTTP/1.1\r\n\r\n"


def _conversations(folder: Path) -> list[Path]:
    """Crafted streams where where HTTP shows depends on reassembly, pairing and the TCP analysis."""
    return [
        conversation(folder / "split_pipelined_until_close.pcap", [
            *(("c", piece) for piece in split(_REQUEST, 20)), *(("s", piece) for piece in split(_RESPONSE, 30, 45)),
            ("c", _PIPELINED), ("s", _RESPONSE + _RESPONSE), ("c", b"hello continuation"),
            ("s", _UNTIL_CLOSE), ("sfin", b"")], server_port=8000),
        conversation(folder / "request_after_tls_record.pcap", [
            ("c", tls_record(23, b"xxxx") + b"GET /t HTTP/1.1\r\n\r\n"), ("s", tls_record(23, b"yy"))],
            server_port=4433),
        conversation(folder / "tls_on_port_80.pcap", [
            ("c", tls_record(22, b"abc") + tls_record(22, b"de")), ("s", tls_record(23, b"f")), ("c", b"\x01")]),
        conversation(folder / "request_line_split.pcap", [
            ("c", b"GET /very-long-path"), ("c", b" HTTP/1.1\r\n\r\n"), ("s", _RESPONSE)], server_port=9000),
        conversation(folder / "repeated_and_overlapping.pcap", [
            ("c", _REQUEST), ("c", _REQUEST, 0), ("s", _RESPONSE), ("c", _REQUEST + _REQUEST[:5], 0),
            ("c", _REQUEST[-3:] + _PIPELINED, len(_REQUEST) - 3), ("s", _RESPONSE + _RESPONSE)], server_port=8000),
        conversation(folder / "request_after_overlap.pcap", [
            ("c", _AFTER_HELLO[:6]), ("c", _AFTER_HELLO[3:], 3), ("s", _RESPONSE)], server_port=7000),
        conversation(folder / "keep_alive_and_out_of_order.pcap", [
            ("c", _REQUEST[10:], 10), ("c", _REQUEST[:10], 0), ("s", _RESPONSE),
            ("c", _REQUEST[-1:], len(_REQUEST) - 1), ("s", b"x", len(_RESPONSE) - 1)], server_port=8000),
    ]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> list[Path]:
    return _conversations(tmp_path_factory.mktemp("http_rows"))


@pytest.mark.parametrize("reassemble", [True, False], ids=["reassembled", "per-segment"])
def test_http_filters_on_crafted_conversations_match_dissection(crafted, reassemble):
    for path in crafted:
        _assert_fast_equals_dissection(path, HTTP_FILTERS, reassemble)


def test_crafted_conversations_show_http_where_the_reasoning_needs_it(crafted):
    """The cases above really exercise what they are for (messages inside segments, continuations)."""
    with tui_sniffer.open_capture(str(crafted[0])) as capture:
        assert len(capture.filter("http.request")) == 2  # the split request; the pipelined pair in one frame
        assert capture.filter("count(http.request) == 2") and capture.filter('http.response.code == 404')
        assert capture.filter('http && !http.request && !http.response')  # the continuation
    with tui_sniffer.open_capture(str(crafted[1])) as capture:
        assert capture.filter('http.request.uri == "/t"')
    with tui_sniffer.open_capture(str(crafted[5])) as capture:
        assert capture.filter('http.request.uri == "/o"')
    with tui_sniffer.open_capture(str(crafted[3])) as capture:
        assert capture.filter("http.request") == []


@pytest.mark.parametrize("reassemble", [True, False], ids=["reassembled", "per-segment"])
@pytest.mark.parametrize("text", ["http", 'http.request.method == "GET"', "http.response.code == 200"])
def test_plain_http_needs_no_dissection(text, reassemble):
    dissected = []
    path = FIXTURE_CAPTURES[0].parent / "http_keepalive.pcapng"
    with tui_sniffer.open_capture(str(path), reassemble=reassemble) as capture:
        capture.dissect = lambda number, previous=None: dissected.append(number)  # type: ignore[method-assign]
        assert capture.filter(text)
    assert dissected == []


@pytest.mark.parametrize("head, expected", [
    (b"GET /x?y=1 HTTP/1.1\r\nHost: h\r\n", {"http.request": 1, "http.request.method": "GET",
                                            "http.request.uri": "/x?y=1", "http.request.version": "HTTP/1.1"}),
    (b"HTTP/1.0 302 Moved\r\n", {"http.response": 1, "http.response.version": "HTTP/1.0", "http.response.code": 302,
                                 "http.response.code.desc": "Found", "http.response.phrase": "Moved"}),
    (b"HTTP/1.1 299\r\n", {"http.response": 1, "http.response.version": "HTTP/1.1", "http.response.code": 299,
                           "http.response.code.desc": "", "http.response.phrase": ""}),
    (b"GET /x HTTP/1.1", None), (b"GETX / HTTP/1.1\r\n", None), (b"\x16\x03\x01\x00\x05", None),
])
def test_first_line_values(head, expected):
    assert line_values(head) == expected
