"""IPv4 and IPv6 fragment reassembly: which fragments make a datagram, and which frame completes it.

Worked out when a fragment is dissected, never at index time: the index's columns narrow the
candidates (same addresses, flagged as possible fragments, near in the file), their plain
dissections give each one's identification, offset and payload, and the datagram is whole once
its fragments cover it from 0 to the end of the last one (More Fragments clear). As in Wireshark,
it is reassembled in the frame that brings its last missing fragment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from tui_sniffer.dissect.frame import ReassembledPdu
from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.store.index import PacketIndex
from tui_sniffer.store.summary import DOUBT_TRANSPORT

_SEARCH_ROWS = 5000
"""How far before and after a fragment (in packets) its siblings are looked for."""
_IPV6_FRAGMENT_HEADER = 44


@dataclass(frozen=True, slots=True)
class _Fragment:
    """One fragment: its datagram's key, where its bytes go, and the bytes."""

    key: tuple
    row: int
    offset: int
    more: bool
    payload: bytes


class IpReassembly:
    """`ip.reassembled_in` / the reassembled datagram for each IPv4 or IPv6 fragment asked about."""

    def __init__(self, index: PacketIndex, plain_dissection: Callable[[int], DissectedPacket]) -> None:
        self._index = index
        self._plain = plain_dissection
        self._datagrams: dict[tuple, dict[str, object]] = {}

    def annotations(self, row: int) -> dict[str, object]:
        """`ip.reassembled_in` (`ipv6.reassembled.in`) for a fragment another frame completes;
        `ip.reassembled` (`ipv6.reassembled`) with the datagram for the frame that completes it."""
        if not self._may_be_fragment(row):
            return {}
        fragment = _fragment(self._plain(row), row)
        if fragment is None:
            return {}
        facts = self._datagrams.get(fragment.key)
        if facts is None or row not in facts["rows"] or \
                ("completing" not in facts and facts["indexed"] != self._index.count):
            facts = self._datagrams[fragment.key] = self._reassemble(fragment)
        completing = facts.get("completing")
        if completing is None:
            return {}
        is_ipv4 = fragment.key[0] == 4
        if row == completing:
            return {"ip.reassembled" if is_ipv4 else "ipv6.reassembled": facts["datagram"]}
        return {"ip.reassembled_in" if is_ipv4 else "ipv6.reassembled.in": completing + 1}

    def _may_be_fragment(self, row: int) -> bool:
        """What the index columns say about a row being a fragment (first ones have a doubtful transport)."""
        index = self._index
        version = int(index.column("ip_version")[row])
        if version == 6:
            return int(index.column("ip_proto")[row]) == _IPV6_FRAGMENT_HEADER
        return version == 4 and (bool(index.column("is_fragment")[row])
                                 or bool(int(index.column("layer_doubt")[row]) & DOUBT_TRANSPORT))

    def _reassemble(self, fragment: _Fragment) -> dict[str, object]:
        """Find the datagram's other fragments and, if they cover it, its bytes and completing row."""
        fragments = {fragment.row: fragment}
        for row in self._candidate_rows(fragment.row).tolist():
            if row not in fragments:
                other = _fragment(self._plain(row), row)
                if other is not None and other.key == fragment.key:
                    fragments[row] = other
        ordered = sorted(fragments.values(), key=lambda item: (item.offset, item.row))
        last = next((item for item in ordered if not item.more), None)
        facts: dict[str, object] = {"rows": set(fragments), "indexed": self._index.count}
        if last is None:
            return facts
        total = last.offset + len(last.payload)
        used, covered = [], 0
        for item in ordered:
            if item.offset > covered:
                return facts
            if item.offset + len(item.payload) > covered:
                used.append(item)
                covered = item.offset + len(item.payload)
        if covered < total:
            return facts
        data = bytearray(total)
        for item in used:
            data[item.offset:item.offset + len(item.payload)] = item.payload
        facts["completing"] = max(item.row for item in used)
        facts["datagram"] = ReassembledPdu(bytes(data), [(item.row + 1, len(item.payload)) for item in used])
        return facts

    def _candidate_rows(self, row: int) -> np.ndarray:
        """Rows near `row` with the same addresses that may be fragments."""
        index = self._index
        window = slice(max(row - _SEARCH_ROWS, 0), min(row + _SEARCH_ROWS + 1, index.count))
        version = int(index.column("ip_version")[row])
        if version == 6:
            same = (index.column("ip_proto")[window] == _IPV6_FRAGMENT_HEADER) & \
                (index.column("ip6_src_id")[window] == index.column("ip6_src_id")[row]) & \
                (index.column("ip6_dst_id")[window] == index.column("ip6_dst_id")[row])
        else:
            same = (index.column("ip4_src")[window] == index.column("ip4_src")[row]) & \
                (index.column("ip4_dst")[window] == index.column("ip4_dst")[row]) & \
                (index.column("is_fragment")[window] | (index.column("layer_doubt")[window] & DOUBT_TRANSPORT != 0))
        return np.nonzero(same & (index.column("ip_version")[window] == version))[0] + window.start


def _fragment(packet: DissectedPacket, row: int) -> _Fragment | None:
    """The fragment a plainly dissected packet carries (IPv4 with MF or an offset, or an IPv6 fragment header)."""
    layers = packet.nodes("ip")
    if layers:
        ip = layers[0]
        offset, more = _first(packet, "ip.frag_offset"), _first(packet, "ip.flags.mf")
        if not offset and not more:
            return None
        header, total = _first(packet, "ip.hdr_len"), _first(packet, "ip.len")
        key = (4, _first(packet, "ip.src"), _first(packet, "ip.dst"), _first(packet, "ip.proto"),
               _first(packet, "ip.id"))
        payload = packet.data[ip.offset + header:ip.offset + total]
        return _Fragment(key, row, offset, bool(more), payload)
    headers = packet.nodes("ipv6.fraghdr")
    if not headers:
        return None
    ipv6, header = packet.nodes("ipv6")[0], headers[0]
    key = (6, _first(packet, "ipv6.src"), _first(packet, "ipv6.dst"), _first(packet, "ipv6.fraghdr.ident"))
    end = ipv6.offset + 40 + _first(packet, "ipv6.plen")
    payload = packet.data[header.offset + 8:end]
    return _Fragment(key, row, _first(packet, "ipv6.fraghdr.offset") * 8, bool(_first(packet, "ipv6.fraghdr.more")),
                     payload)


def _first(packet: DissectedPacket, name: str):
    """The first value of a field (0 when absent)."""
    values = packet.values(name)
    return values[0] if values else 0
