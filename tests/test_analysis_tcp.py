"""TCP sequence analysis: every analysis field and expert flag per frame, and the frames analysis
filters match, compared with tshark (two passes, as the GUI shows them) on every fixture; plus
tui-sniffer's own connection-state field through the handshake and the close."""
from __future__ import annotations

import subprocess
from functools import lru_cache

import numpy as np
import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES, FIXTURES, TSHARK, needs_tshark
from tests.test_filter_parity import tshark_matches, write_tshark_listeners
from tui_sniffer.analysis.tcp_analysis import TcpAnalysis
from tui_sniffer.analysis.tcp_columns import with_tcp_analysis
from tui_sniffer.analysis.tcp_state import STATE_NAMES, SideState, deliver
from tui_sniffer.capture import open_capture_file
from tui_sniffer.filter import compile_filter, evaluate_columns
from tui_sniffer.store.filter_columns import IndexColumns
from tui_sniffer.store.index import PacketIndex

VALUE_FIELDS = ["tcp.stream", "tcp.nxtseq", "tcp.completeness", "tcp.time_relative", "tcp.time_delta",
                "tcp.analysis.acks_frame", "tcp.analysis.ack_rtt", "tcp.analysis.initial_rtt",
                "tcp.analysis.bytes_in_flight", "tcp.analysis.push_bytes_sent",
                "tcp.analysis.duplicate_ack_num", "tcp.analysis.duplicate_ack_frame",
                "tcp.analysis.rto", "tcp.analysis.rto_frame", "tcp.options.sack.dsack_le"]
EXPERT_FIELDS = ["tcp.analysis", "tcp.analysis.flags", "tcp.analysis.retransmission",
                 "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
                 "tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
                 "tcp.analysis.duplicate_ack", "tcp.analysis.zero_window", "tcp.analysis.zero_window_probe",
                 "tcp.analysis.zero_window_probe_ack", "tcp.analysis.window_full", "tcp.analysis.window_update",
                 "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack", "tcp.analysis.reused_ports",
                 "tcp.connection.syn", "tcp.connection.synack", "tcp.connection.fin", "tcp.connection.rst",
                 "tcp.connection.fin_active", "tcp.connection.fin_passive", "tcp.options.sack.dsack"]
"""Fields that are there or not (FT_NONE): `-T fields` prints 1 per occurrence."""
FILTERS = ["tcp.analysis.retransmission", "tcp.analysis.duplicate_ack", "tcp.analysis.zero_window",
           "tcp.analysis.window_update", "tcp.analysis.flags", "tcp.analysis.fast_retransmission",
           "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack", "tcp.analysis.window_full",
           "tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "tcp.analysis.reused_ports",
           "tcp.analysis.flags && !tcp.analysis.window_update", "tcp.analysis.ack_rtt > 0.0001",
           "tcp.analysis.bytes_in_flight >= 10000", "tcp.analysis.duplicate_ack_num >= 2",
           "tcp.completeness == 31", "tcp.analysis.initial_rtt < 0.00004"]
FILTER_CAPTURES = ["lossy_transfer", "zero_window", "tcp_keepalive", "tcp_port_reuse", "tcp_reorder",
                   "http_get_post", "tcp_chat_5050", "tcp_refused", "demo"]
"""Captures the filters run on: the TCP-analysis cases and a few ordinary conversations."""
TCP_CAPTURES = [path for path in FIXTURE_CAPTURES if path.suffix == ".pcap"
                and path.stem not in {"ping", "dns_udp"}]
"""Each capture with TCP once (the .pcapng twins hold the same packets)."""


def _tshark(path, *arguments: str) -> list[str]:
    command = [TSHARK, "-n", "-2", "-r", str(path), *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()


@lru_cache(maxsize=None)
def _packets(path) -> list:
    """Every frame of a capture, dissected once for all tests."""
    return list(tui_sniffer.open_capture(str(path)))


def _compare_fields(path, packets, tally: dict[str, list[int]], differences: dict[str, list[str]]) -> None:
    """Count, per analysis field, the frames of one capture where ours equals tshark's (either has it)."""
    fields = list(tally)
    rows = _tshark(path, "-T", "fields", *[part for name in fields for part in ("-e", name)],
                   "-E", "occurrence=a", "-E", "aggregator=,")
    assert len(rows) == len(packets), path.name
    for packet, row in zip(packets, rows):
        for name, expected in zip(fields, row.split("\t")):
            ours = ",".join(packet.fields(name))
            if not (ours or expected):
                continue
            tally[name][1] += 1
            if ours == expected:
                tally[name][0] += 1
            else:
                differences.setdefault(name, []).append(f"{path.name}#{packet.number}: ours={ours!r} tshark={expected!r}")


@needs_tshark
def test_analysis_fields_agree_with_tshark(capsys):
    tally = {name: [0, 0] for name in VALUE_FIELDS + EXPERT_FIELDS}
    differences: dict[str, list[str]] = {}
    for path in FIXTURE_CAPTURES:
        _compare_fields(path, _packets(path), tally, differences)
    with capsys.disabled():
        print("\nTCP analysis agreement with tshark (frames where either side has the field):")
        for name, (matched, total) in tally.items():
            print(f"  {name:40} {matched:5}/{total:<5} {100.0 * matched / total if total else 100.0:6.1f}%")
    for name, (matched, total) in tally.items():
        assert total == 0 or matched / total >= 0.95, f"{name}: {differences[name][:5]}"


def _segment(sender: str, flags: str, seq: int, ack: int, window: int = 8192, data: bytes = b"",
             client_port: int = 40000) -> Ether:
    """One segment of a crafted conversation between 10.0.0.1:`client_port` (client) and 10.0.0.2:9999."""
    client = sender == "client"
    ip = IP(src="10.0.0.1", dst="10.0.0.2") if client else IP(src="10.0.0.2", dst="10.0.0.1")
    ports = (client_port, 9999) if client else (9999, client_port)
    return Ether() / ip / TCP(sport=ports[0], dport=ports[1], flags=flags, seq=seq, ack=ack, window=window) / data


@needs_tshark
def test_flags_no_real_capture_shows_agree_with_tshark(tmp_path):
    """What Linux never sends (a one-byte zero-window probe and its ACK), a spurious retransmission, an
    ACK of data the capture missed, a gap, an out-of-order segment, a late retransmission, a SYN sent
    twice, a one-byte keep-alive, and conversations that start after their SYN: crafted segments,
    analysed and listed as tshark -2 does."""
    conversation = [
        (0.0, _segment("client", "S", 1000, 0)), (0.001, _segment("server", "SA", 5000, 1001)),
        (0.002, _segment("client", "A", 1001, 5001)), (0.003, _segment("server", "PA", 5001, 1001, data=b"x" * 100)),
        (0.004, _segment("client", "A", 1001, 5101, window=0)),
        (0.2, _segment("server", "A", 5101, 1001, data=b"y")), (0.201, _segment("client", "A", 1001, 5101, window=0)),
        (0.5, _segment("client", "A", 1001, 5101)), (0.501, _segment("server", "A", 5101, 1001, data=b"z" * 100)),
        (0.502, _segment("client", "A", 1001, 5201)), (0.6, _segment("server", "A", 5101, 1001, data=b"z" * 100)),
        (0.601, _segment("client", "A", 1001, 5401)), (0.7, _segment("server", "A", 5601, 1001, data=b"w" * 100)),
        (0.7005, _segment("server", "A", 5401, 1001, data=b"v" * 100)),
        (1.7, _segment("server", "A", 5501, 1001, data=b"u" * 100)),
        (1.701, _segment("client", "FA", 1001, 5701)), (1.702, _segment("server", "FA", 5701, 1002)),
        (1.703, _segment("client", "A", 1002, 5702)),
        (2.0, _segment("client", "S", 7000, 0, client_port=40001)),
        (3.0, _segment("client", "S", 7000, 0, client_port=40001)),
        (3.001, _segment("server", "SA", 9000, 7001, client_port=40001)),
        (3.002, _segment("client", "A", 7001, 9001, client_port=40001)),
        (3.003, _segment("client", "PA", 7001, 9001, data=b"k" * 50, client_port=40001)),
        (3.004, _segment("server", "A", 9001, 7051, client_port=40001)),
        (5.0, _segment("client", "A", 7050, 9001, data=b"\0", client_port=40001)),
        (5.001, _segment("server", "A", 9001, 7051, client_port=40001)),
        (5.002, _segment("server", "R", 9001, 0, client_port=40001)),
        (6.0, _segment("server", "PA", 3000, 4000, data=b"m" * 80, client_port=40002)),
        (6.001, _segment("client", "A", 4000, 3080, client_port=40002)),
        (7.0, _segment("server", "SA", 2000, 6001, client_port=40003)),
        (7.001, _segment("client", "A", 6001, 2001, client_port=40003)),
        (8.0, _segment("client", "FA", 8000, 1000, client_port=40004)),
        (8.001, _segment("server", "RA", 1000, 8001, client_port=40004)),
    ]
    for moment, packet in conversation:
        packet.time = 1_700_000_000 + moment
    path = tmp_path / "crafted.pcap"
    wrpcap(str(path), [packet for _, packet in conversation])
    tally = {name: [0, 0] for name in VALUE_FIELDS + EXPERT_FIELDS}
    differences: dict[str, list[str]] = {}
    packets = list(tui_sniffer.open_capture(str(path), reassemble=False))
    _compare_fields(path, packets, tally, differences)
    assert not differences
    for shown in ("tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack",
                  "tcp.analysis.spurious_retransmission", "tcp.analysis.ack_lost_segment",
                  "tcp.analysis.lost_segment", "tcp.analysis.out_of_order", "tcp.analysis.rto",
                  "tcp.analysis.retransmission", "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack"):
        assert tally[shown][1] > 0, f"the crafted segments show no {shown}"
    columns = _tshark(path, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields", "-e", "_ws.col.Protocol",
                      "-e", "_ws.col.Info")
    assert [f"{packet.summary.protocol}\t{packet.summary.info}" for packet in packets] == columns


def _tshark_filter_matches(path, folder) -> list[list[int]]:
    """Per filter of FILTERS, the frames tshark -2 matches in one capture."""
    return tshark_matches(path, len(FILTERS), *write_tshark_listeners(FILTERS, folder))


@needs_tshark
@pytest.mark.parametrize("name", FILTER_CAPTURES)
def test_analysis_filters_match_the_frames_tshark_matches(name, tmp_path):
    path = FIXTURES / f"{name}.pcap"
    expected = _tshark_filter_matches(path, tmp_path)
    with tui_sniffer.open_capture(str(path)) as capture:
        ours = [capture.filter(text) for text in FILTERS]
        columns = with_tcp_analysis(IndexColumns(capture.index), capture.tcp_analysis, 0, capture.index.count)
        verdicts = [evaluate_columns(compile_filter(text), columns) for text in FILTERS]
    assert dict(zip(FILTERS, ours)) == dict(zip(FILTERS, expected))
    assert {text: (np.flatnonzero(verdict.surely) + 1).tolist() for text, verdict in zip(FILTERS, verdicts)
            if not verdict.maybe.any()} == dict(zip(FILTERS, expected)), "the analysis columns decide every frame"


def _states(path, stream: int) -> list[tuple[int, str, str]]:
    """(frame, client state, server state) for every segment of one stream."""
    return [(packet.number, *packet.values("tcp.tui_state.client"), *packet.values("tcp.tui_state.server"))
            for packet in _packets(path) if packet.values("tcp.stream") == [stream]]


@pytest.mark.parametrize("name, stream, expected", [
    ("tcp_chat_5050", 0, [("SYN_SENT", "SYN_RECV"), ("ESTABLISHED", "SYN_RECV"), ("ESTABLISHED", "ESTABLISHED")]),
    ("tcp_refused", 0, [("SYN_SENT", "SYN_RECV"), ("CLOSED", "CLOSED")]),
])
def test_connection_state_follows_the_handshake(name, stream, expected):
    states = _states(next(path for path in TCP_CAPTURES if path.stem == name), stream)
    assert [(client, server) for _, client, server in states[:len(expected)]] == expected


@pytest.mark.parametrize("name, expected_close", [
    ("tcp_chat_5050", [("FIN_WAIT1", "CLOSE_WAIT"), ("FIN_WAIT2", "CLOSE_WAIT"), ("TIME_WAIT", "LAST_ACK"),
                       ("TIME_WAIT", "CLOSED")]),
    ("http_get_post", [("FIN_WAIT1", "CLOSE_WAIT"), ("TIME_WAIT", "LAST_ACK"), ("TIME_WAIT", "CLOSED")]),
])
def test_connection_state_follows_the_close(name, expected_close):
    path = next(path for path in TCP_CAPTURES if path.stem == name)
    states = _states(path, 0)
    first_fin = next(index for index, (frame, _, _) in enumerate(states)
                     if _packets(path)[frame - 1].values("tcp.flags.fin") == [True])
    assert [(client, server) for _, client, server in states[first_fin:]] == expected_close


def _run(segments: list[tuple[int, int, int, int]]) -> list[tuple[str, str]]:
    """Feed (sender 0/1, flags, seq, ack) segments through the state machine; states after each."""
    sides = (SideState(), SideState())
    states = []
    for sender, flags, seq, ack in segments:
        deliver(sides[sender], sides[1 - sender], flags, seq, ack, 0)
        states.append((STATE_NAMES[sides[0].state()], STATE_NAMES[sides[1].state()]))
    return states


SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10


@pytest.mark.parametrize("segments, expected", [
    ([(0, SYN, 100, 0), (1, SYN | ACK, 500, 101), (0, ACK, 101, 501), (0, FIN | ACK, 101, 501),
      (1, FIN | ACK, 501, 101), (0, ACK, 102, 502), (1, ACK, 502, 102)],
     [("SYN_SENT", "SYN_RECV"), ("ESTABLISHED", "SYN_RECV"), ("ESTABLISHED", "ESTABLISHED"),
      ("FIN_WAIT1", "CLOSE_WAIT"), ("CLOSING", "CLOSING"), ("CLOSING", "TIME_WAIT"), ("TIME_WAIT", "TIME_WAIT")]),
    ([(0, SYN, 100, 0), (1, SYN, 500, 0), (1, SYN | ACK, 500, 101), (0, SYN | ACK, 100, 501)],
     [("SYN_SENT", "SYN_RECV"), ("SYN_RECV", "SYN_RECV"), ("ESTABLISHED", "SYN_RECV"),
      ("ESTABLISHED", "ESTABLISHED")]),
    ([(0, SYN, 100, 0), (1, SYN | ACK, 500, 101), (0, ACK, 101, 501), (1, RST, 501, 0)],
     [("SYN_SENT", "SYN_RECV"), ("ESTABLISHED", "SYN_RECV"), ("ESTABLISHED", "ESTABLISHED"),
      ("CLOSED", "CLOSED")]),
], ids=["simultaneous close", "simultaneous open", "reset"])
def test_state_machine_reads_what_each_side_had_received(segments, expected):
    assert _run(segments) == expected


@pytest.mark.parametrize("name", ["lossy_transfer", "zero_window", "tcp_chat_5050"])
def test_results_do_not_depend_on_how_the_streams_are_analysed(name):
    """One stream at a time on demand, every stream at once, or on from batch to batch as a live
    capture grows: the same segments get the same results."""
    capture = tui_sniffer.open_capture(str(FIXTURES / f"{name}.pcap"))
    capture.index_all()
    one_by_one = [capture.tcp_analysis.segment(row) for row in range(capture.index.count)]
    at_once = TcpAnalysis(capture.index, lambda row: capture.packet_bytes(row + 1), lambda: True)
    at_once.analyse_all()
    assert [at_once.segment(row) for row in range(capture.index.count)] == one_by_one

    with open_capture_file(str(FIXTURES / f"{name}.pcap")) as source:
        index = PacketIndex()
        growing = TcpAnalysis(index, lambda row: source.read_packet(int(index.column("file_offset")[row]),
                                                                    int(index.column("captured_length")[row])))
        seen = []
        for batch in source.scan(batch_records=7):
            rows = index.append_batch(batch)
            seen += [growing.segment(row) for row in rows]
        growing.analyse_all()
    assert seen[-1] == one_by_one[-1]
    assert [growing.segment(row) for row in range(index.count)] == one_by_one


@needs_tshark
@pytest.mark.parametrize("batch_records", [1, 9, 65536])
def test_reused_ports_start_a_new_stream_wherever_the_batches_end(batch_records):
    """A SYN with a new sequence number on ports in use starts the next tcp.stream, as in tshark,
    also when it comes in a later batch than the conversation it replaces."""
    path = FIXTURES / "tcp_port_reuse.pcap"
    with open_capture_file(str(path)) as source:
        index = PacketIndex()
        for batch in source.scan(batch_records=batch_records):
            index.append_batch(batch)
    expected = [int(line) for line in _tshark(path, "-T", "fields", "-e", "tcp.stream")]
    assert index.column("tcp_stream").tolist() == expected
    assert sorted(index.streams.restarted_tcp_streams) == [1, 2]


ANALYSIS_COLUMN_FIELDS = [name for name in VALUE_FIELDS + EXPERT_FIELDS
                          if name.startswith("tcp.analysis") or name in {
                              "tcp.time_relative", "tcp.time_delta", "tcp.completeness",
                              "tcp.connection.fin_active", "tcp.connection.fin_passive"}]


@pytest.mark.parametrize("name", ["lossy_transfer", "zero_window", "tcp_keepalive", "tcp_port_reuse",
                                  "tcp_reorder", "demo", "ipv6_loopback"])
def test_analysis_columns_say_what_dissection_shows(name):
    """Wherever the columns give a count it is the number of nodes the tree has, and a value column
    holds the tree's value wherever the field occurs once."""
    capture = tui_sniffer.open_capture(str(FIXTURES / f"{name}.pcap"))
    capture.index_all()
    columns = with_tcp_analysis(IndexColumns(capture.index), capture.tcp_analysis, 0, capture.index.count)
    packets = _packets(FIXTURES / f"{name}.pcap")
    for field_name in ANALYSIS_COLUMN_FIELDS:
        counts, values = columns.occurrences(field_name), columns.column(field_name)
        for packet, count in zip(packets, counts.tolist()):
            shown = packet.values(field_name)
            assert count in (-1, len(shown)), (field_name, packet.number)
            if count == 1 and values is not None:
                assert values[packet.number - 1] == pytest.approx(shown[0], abs=1e-9), (field_name, packet.number)
