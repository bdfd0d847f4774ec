"""Vectorized evaluation over a column store: decided packets must agree with dissection.

The in-memory ColumnSource here is built from the five hand-built packets the way the real store
would keep them (IPv4 as uint32, IPv6 as 16 bytes, MACs as 48-bit ints, counts of occurrences).
"""
from __future__ import annotations

import ipaddress
import time

import numpy as np
import pytest

from tests.test_filter_evaluate import EXPECTED_MATCHES
from tests.test_filter_support import PACKETS, compile_test_filter, resolve
from tui_sniffer.dissect.fields import FieldType
from tui_sniffer.filter import ALIAS_COLUMNS, ColumnVerdict, evaluate_columns

COLUMN_FIELDS = ["frame.number", "frame.len", "frame.time_relative", "eth.src", "eth.dst", "eth.type",
                 "ip.src", "ip.dst", "ip.proto", "ip.ttl", "ipv6.src", "ipv6.dst", "tcp.srcport",
                 "tcp.dstport", "tcp.flags", "udp.srcport", "udp.dstport"]
PRESENCE_FIELDS = ["frame", "eth", "ip", "ipv6", "tcp", "udp", "icmp", "arp"]


class PacketColumns:
    """A ColumnSource holding the test packets' column fields, as the store would."""

    def __init__(self, packets, column_fields=COLUMN_FIELDS, presence_fields=PRESENCE_FIELDS,
                 extra_occurrences: dict[str, dict[int, int]] | None = None) -> None:
        self.size = len(packets)
        self.columns: dict[str, np.ndarray] = {}
        self.counts: dict[str, np.ndarray] = {}
        for name in column_fields:
            definition = resolve(name)
            values = [packet.values(name) for packet in packets]
            self.columns[name] = _column(definition.ftype, [found[0] if found else None for found in values])
            self.counts[name] = np.array([min(len(found), 2) for found in values])
        for name in presence_fields:
            self.counts[name] = np.array([min(len(packet.nodes(name)), 2) for packet in packets])
        for name, per_row in (extra_occurrences or {}).items():
            for row, count in per_row.items():
                self.counts[name][row] = count

    def __len__(self) -> int:
        return self.size

    def column(self, field_name: str):
        return self.columns.get(field_name)

    def occurrences(self, field_name: str):
        return self.counts.get(field_name)


def _column(ftype: FieldType, values: list) -> np.ndarray:
    if ftype is FieldType.IPV4:
        return np.array([int(ipaddress.IPv4Address(value)) if value else 0 for value in values], np.uint32)
    if ftype is FieldType.IPV6:
        return np.array([list(ipaddress.IPv6Address(value).packed) if value else [0] * 16
                         for value in values], np.uint8)
    if ftype is FieldType.ETHER:
        return np.array([int(value.replace(":", ""), 16) if value else 0 for value in values], np.uint64)
    if ftype is FieldType.RELATIVE_TIME:
        return np.array([value or 0.0 for value in values], np.float64)
    return np.array([value or 0 for value in values], np.uint32)


def frames(mask: np.ndarray) -> list[int]:
    return [int(row) + 1 for row in np.flatnonzero(mask)]


def final_matches(text: str, verdict: ColumnVerdict) -> list[int]:
    """What the store would show: the sure matches plus the undecided ones that pass dissection."""
    compiled = compile_test_filter(text)
    undecided = [packet.number for packet in PACKETS if verdict.maybe[packet.number - 1]
                 and compiled.matches(packet)]
    return sorted(frames(verdict.surely) + undecided)


@pytest.mark.parametrize("text, expected", EXPECTED_MATCHES)
def test_column_verdicts_never_contradict_dissection(text, expected):
    verdict = evaluate_columns(compile_test_filter(text), PacketColumns(PACKETS), resolve=resolve)
    assert not (verdict.surely & verdict.maybe).any()
    assert set(frames(verdict.surely)) <= set(expected)
    assert final_matches(text, verdict) == expected


@pytest.mark.parametrize("text, expected", [
    ("tcp", [1, 3]),
    ("!tcp", [2, 4, 5]),
    ("tcp.port == 80", [1]),
    ("tcp.port != 80", [3]),
    ("tcp.port !== 80", [1, 3]),
    ("all tcp.port > 1000", []),
    ("tcp.port in {80, 443, 8000..8080}", [1, 3]),
    ("tcp.port in {100..200}", []),
    ("tcp.port not in {80}", [2, 3, 4, 5]),
    ("ip.src == 10.0.0.0/8 and tcp.flags.syn == 1", [1]),
    ("tcp.flags.syn == 1 and tcp.flags.ack == 1", [3]),
    ("tcp.flags & 0x12 == 0x12", [3]),
    ("tcp.flags & 0x02", [1, 3]),
    ("ip.addr != 127.0.0.1", [2, 4]),
    ("ip.addr === 10.0.0.2", [2]),
    ("ip.src == ip.dst", [2]),
    ("ip.src > 9.0.0.0/8", [1, 2, 4]),
    ("ip.proto == UDP or ipv6", [2, 3]),
    ("ipv6.src == fe80::/64", [3]),
    ("ipv6.addr == 2001:db8::2", [3]),
    ("ipv6.addr > ::1", [3]),
    ("eth.addr == 00:00:83:11:22:33", [1]),
    ("eth.dst == ff:ff:ff:ff:ff:ff and not arp", [1, 3]),
    ("eth.type == IPv4", [1, 2, 4]),
    ("frame.len > 70", [1, 3]),
    ("frame.number % 2 == 1 or frame.number == 2", [1, 2, 3, 5]),
    ("frame.number & 1", [1, 3, 5]),
    ("frame.time_relative > 0.0009", [4, 5]),
    ("tcp.srcport + tcp.dstport == 1314", [1]),
    ("udp.port == 40001", [2]),
    ("", [1, 2, 3, 4, 5]),
])
def test_column_fields_decide_every_packet(text, expected):
    verdict = evaluate_columns(compile_test_filter(text), PacketColumns(PACKETS), resolve=resolve)
    assert frames(verdict.maybe) == []
    assert frames(verdict.surely) == expected


@pytest.mark.parametrize("text, surely_not, maybe", [
    ('http.host contains "Example"', [], [1, 2, 3, 4, 5]),
    ('tcp and http.host contains "Example"', [2, 4, 5], [1, 3]),
    ('frame contains "GET"', [], [1, 2, 3, 4, 5]),
    ("tcp.port == 80 and len(tcp.payload) > 3", [2, 3, 4, 5], [1]),
    ('tcp.port == 80 or http.request.method == "GET"', [], [2, 3, 4, 5]),
    ("eth.src[0:3] == 00:00:83 and ip", [3, 5], [1, 2, 4]),
    ("ip.addr#2 == 10.0.0.1", [3, 5], [1, 2, 4]),
])
def test_other_fields_leave_packets_to_dissection(text, surely_not, maybe):
    verdict = evaluate_columns(compile_test_filter(text), PacketColumns(PACKETS), resolve=resolve)
    assert frames(verdict.maybe) == maybe
    assert frames(~verdict.surely & ~verdict.maybe) == surely_not


def test_packets_with_repeated_fields_go_to_dissection():
    """An ICMP error quoting an IP header has two `ip.src`: the column holds only one of them."""
    columns = PacketColumns(PACKETS, extra_occurrences={"ip.src": {3: 2}, "ip": {3: 2}})
    verdict = evaluate_columns(compile_test_filter("ip.addr == 10.0.0.1"), columns, resolve=resolve)
    assert frames(verdict.surely) == [1]
    assert frames(verdict.maybe) == [4]


def test_packets_the_store_cannot_judge_go_to_dissection():
    """-1 occurrences: e.g. an IP fragment, which Wireshark may reassemble into a TCP segment."""
    columns = PacketColumns(PACKETS, extra_occurrences={"tcp": {1: -1}, "tcp.srcport": {1: -1}})
    for text in ["tcp", "tcp.port == 40001", "!tcp"]:
        verdict = evaluate_columns(compile_test_filter(text), columns, resolve=resolve)
        assert frames(verdict.maybe) == [2]


def test_bit_fields_are_cut_from_their_parent_column():
    assert "tcp.flags.syn" not in COLUMN_FIELDS
    verdict = evaluate_columns(compile_test_filter("tcp.flags.syn == 1 and tcp.flags.ack == 0"),
                               PacketColumns(PACKETS), resolve=resolve)
    assert (frames(verdict.surely), frames(verdict.maybe)) == ([1], [])


def test_a_store_without_a_field_leaves_it_undecided():
    columns = PacketColumns(PACKETS, column_fields=["frame.number"], presence_fields=["frame"])
    verdict = evaluate_columns(compile_test_filter("tcp.port == 80 and frame.number < 3"), columns,
                               resolve=resolve)
    assert (frames(verdict.surely), frames(verdict.maybe)) == ([], [1, 2])


def test_alias_columns_name_source_and_destination():
    assert ALIAS_COLUMNS["ip.addr"] == ("ip.src", "ip.dst")
    assert ALIAS_COLUMNS["tcp.port"] == ("tcp.srcport", "tcp.dstport")
    assert set(ALIAS_COLUMNS) == {"ip.addr", "ipv6.addr", "eth.addr", "tcp.port", "udp.port"}


def test_a_million_packets_filter_in_well_under_a_second():
    size = 1_000_000
    rng = np.random.default_rng(7)

    class Big:
        def __len__(self):
            return size

        def column(self, name):
            return columns.get(name)

        def occurrences(self, name):
            return counts.get(name)

    columns = {"tcp.srcport": rng.integers(1, 65535, size).astype(np.uint16),
               "tcp.dstport": rng.integers(1, 65535, size).astype(np.uint16),
               "ip.src": rng.integers(0, 2**32, size).astype(np.uint32),
               "ip.dst": rng.integers(0, 2**32, size).astype(np.uint32),
               "tcp.flags": rng.integers(0, 0x1FF, size).astype(np.uint16),
               "frame.len": rng.integers(60, 1514, size).astype(np.uint32)}
    ones = np.ones(size, np.int8)
    counts = {"tcp.srcport": ones, "ip.src": ones, "tcp.flags": ones, "frame.len": ones, "tcp": ones}
    for text in ["tcp.port == 80", "ip.src == 10.0.0.0/8 and tcp.flags.syn == 1", "frame.len > 1000"]:
        compiled = compile_test_filter(text)
        started = time.perf_counter()
        verdict = evaluate_columns(compiled, Big(), resolve=resolve)
        assert time.perf_counter() - started < 1.0
        assert not verdict.maybe.any()
