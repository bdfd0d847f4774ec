"""Testing a frame against a filter without dissecting all of it, where that cannot change the answer.

The per-packet evaluator only asks a packet for the values (or the count) of the fields the filter
names. A PartialPacket answers from what is known cheaply: values the index's columns hold exactly
for the row, values remembered from an earlier dissection (FieldCache), and application fields read
by running the real application dissectors on the transport payload alone (LightDissector), which
skips the link, IP and TCP/UDP layers and the cross-frame request/response pairing. Only fields
that owe nothing to those skipped parts are read that way (`is_light_field`); the rest are dissected.
DNS questions over UDP are read straight from the bytes with the dissector's own name reader.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

import numpy as np

from tui_sniffer.dissect.engine import Dissection, MalformedError
from tui_sniffer.dissect.fields import FieldDef, FieldType, lookup
from tui_sniffer.dissect.frame import FrameInfo
from tui_sniffer.dissect.protocols.dns import DNS_PORTS
from tui_sniffer.dissect.protocols.dns_records import read_name
from tui_sniffer.dissect.protocols.http import HEADERS
from tui_sniffer.dissect.protocols.tcp_reassembled import dissect_segment_payload
from tui_sniffer.dissect.tree import DissectedPacket, TreeNode
from tui_sniffer.filter import bound
from tui_sniffer.filter.columns import ColumnSource, field_columns
from tui_sniffer.filter.http_rows import HttpRows, ShownHttp
from tui_sniffer.store.summary import DOUBT_TRANSPORT, IP_PROTO_TCP, IP_PROTO_UDP

if TYPE_CHECKING:
    from tui_sniffer.analysis.reassembly import TcpReassembly

_SYN, _FIN = 0x02, 0x01
FRAME = "frame"
Derived = TypeVar("Derived")
_LARGEST_KEPT = 256
"""Longer string or byte values (payloads, bodies) are not remembered by the FieldCache."""
_DNS_MESSAGE_FIELDS = ("dns.id", "dns.length", "dns.flags", "dns.count.", "dns.qry.", "dns.resp.", "dns.a",
                       "dns.cname", "dns.ns", "dns.ptr.", "dns.mx.", "dns.soa.", "dns.srv.", "dns.txt", "dns.opt",
                       "dns.rr.")
"""What a DNS message itself holds (header, questions, records); not the links pairing adds across frames."""

_HTTP_MESSAGE_FIELDS = frozenset({"http.request", "http.response", "http.content_length_header",
                                  "http.content_length"} | {definition.name for definition in HEADERS.values()})


def is_light_field(name: str) -> bool:
    """Whether the application dissectors give this field from the payload alone (no pairing, no TCP analysis)."""
    if name in ("dns", "mdns", "llmnr") or name.startswith(_DNS_MESSAGE_FIELDS):
        return True
    return name in _HTTP_MESSAGE_FIELDS or name.startswith(("http.request.", "http.response."))


def reads_values_only(test: bound.Test) -> bool:
    """Whether a filter needs no more of a packet than field values and counts, and the frame's own bytes
    (no layers, no other protocol's bytes)."""
    def fine(item: object, counted: bool) -> bool:
        if isinstance(item, bound.FieldValues):
            return item.layers is None and (counted or item.definition.name == FRAME
                                            or item.ftype not in (FieldType.PROTOCOL, FieldType.NONE))
        if isinstance(item, bound.Exists):
            return fine(item.field, True)
        children = []
        for attribute in getattr(item, "__slots__", ()):
            child = getattr(item, attribute)
            for element in child if isinstance(child, tuple) else (child,):
                children.extend(element if isinstance(element, tuple) else (element,))
        return all(fine(child, False) for child in children)
    return fine(test, False)


class PartialPacket:
    """The values of the fields a filter reads, standing in for a dissected packet in `CompiledFilter.matches`.

    With `frame_bytes`, `frame` is there as the protocol spanning them all (`frame contains "GET"`).
    """

    def __init__(self, values: dict[str, list], frame_bytes: bytes | None = None) -> None:
        self._values = values
        self.data_sources = [("Frame", frame_bytes)] if frame_bytes is not None else []

    def values(self, field_name: str) -> list:
        return self._values[field_name]

    def nodes(self, field_name: str) -> list:
        """The frame as one node over its bytes; for other fields one placeholder per occurrence (counted only)."""
        if field_name == FRAME and self.data_sources:
            return [TreeNode("", None, None, 0, len(self.data_sources[0][1]))]
        return [None] * len(self._values[field_name])

    def node_bytes(self, node: TreeNode) -> bytes:
        """The bytes the frame node covers."""
        return self.data_sources[0][1][node.offset:node.offset + node.length]


class FieldCache:
    """Field values per row remembered from earlier work, valid while the index does not grow."""

    LIMIT = 2_000_000
    """Remembered values at most (then nothing more is added)."""

    def __init__(self) -> None:
        self._values: dict[str, dict[int, tuple]] = {}
        self._arrays: dict[str, object] = {}
        self._size = 0
        self._row_count = -1

    def follow(self, row_count: int) -> None:
        """Forget everything when rows were added (frames ahead can change what a frame shows)."""
        if row_count != self._row_count:
            self._values.clear()
            self._arrays.clear()
            self._size = 0
            self._row_count = row_count

    def get(self, field_name: str, row: int) -> tuple | None:
        known = self._values.get(field_name)
        return None if known is None else known.get(row)

    def put(self, field_name: str, row: int, values: list) -> None:
        """Remember a row's values of a field, unless they are large (payloads, bodies) or the cache is full."""
        if self._size < self.LIMIT and all(not isinstance(value, (str, bytes)) or len(value) <= _LARGEST_KEPT
                                           for value in values):
            self._values.setdefault(field_name, {})[row] = tuple(values)
            self._size += 1

    def derived(self, name: str, compute: Callable[[], Derived]) -> Derived:
        """A whole-index array worked out once per row count (e.g. which segments are in sequence)."""
        found = self._arrays.get(name)
        if found is None:
            found = self._arrays[name] = compute()
        return found  # type: ignore[return-value]

    def derived_in_steps(self, name: str, steps: Callable[[], Iterator[Derived | None]]) -> Iterator[Derived | None]:
        """`derived` for work done in steps: the steps' None items (pauses) until the result, which comes last."""
        found = self._arrays.get(name)
        if found is None:
            for found in steps():
                if found is None:
                    yield None
            self._arrays[name] = found
        yield found  # type: ignore[misc]


class ColumnRows:
    """A chunk's column values of the fields a filter reads, ready to hand out row by row."""

    def __init__(self, columns: ColumnSource, start: int, field_names: tuple[str, ...],
                 resolve: Callable[[str], FieldDef | None] = lookup) -> None:
        self.start = start
        self._fields: dict[str, tuple[list, np.ndarray]] = {}
        for name in field_names:
            definition = resolve(name)
            found = None if definition is None else field_columns(columns, definition, resolve)
            if found is not None:
                self._fields[name] = found

    def values(self, field_name: str, row: int) -> list | None:
        """The field's values in `row` if the columns know them exactly, else None."""
        found = self._fields.get(field_name)
        if found is None:
            return None
        arrays, occurrences = found
        count = int(occurrences[row - self.start])
        if count == 0:
            return []
        if count != 1:
            return None
        return [_python_value(array, row - self.start) for array in arrays]


def _python_value(array, position: int):
    """One column entry as the per-packet evaluator takes it (IPv6 as an int, numpy scalars as Python, text as is)."""
    if isinstance(array, tuple):
        high, low = array
        return (int(high[position]) << 64) | int(low[position])
    value = array[position]
    if isinstance(value, np.floating):
        return float(value)
    return value if isinstance(value, str) else int(value)


class LightDissector:
    """Runs the application dissectors on one frame's transport payload, as full dissection hands it over.

    With TCP reassembly (`reassembled`) the payload's division into messages comes from the frame's
    record info; without it a segment's payload goes to the application dissectors as it is, which
    tshark's TCP analysis prevents for retransmitted, out-of-order and keep-alive segments: only
    segments surely in sequence (`in_sequence`) are read this way.
    """

    def __init__(self, index, read_row: Callable[[int], bytes], record_info: Callable[[int], FrameInfo],
                 cache: FieldCache, *, reassembled: bool, framing: TcpReassembly | None = None) -> None:
        self.index = index
        self.read_row = read_row
        self.record_info = record_info
        self.cache = cache
        self.reassembled = reassembled
        self.framing = framing
        """TCP reassembly's framing of each stream direction, which says where HTTP messages are shown."""

    def in_sequence(self) -> np.ndarray:
        """Per row: a TCP segment surely dissected as it is, no retransmission, out-of-order or keep-alive."""
        return self.cache.derived("in_sequence", self._in_sequence)

    def shown_http(self, pause_seconds: float) -> Iterator[ShownHttp | None]:
        """Which rows show HTTP and their first lines, worked out once per index size: None after each
        `pause_seconds` of work, then the ShownHttp (nothing where reassembly's framing is not given)."""
        if self.reassembled and self.framing is None:
            return iter(())
        return self.cache.derived_in_steps("shown_http", lambda: HttpRows(
            self.index, self.read_row, self.record_info, self.in_sequence(),
            self.framing if self.reassembled else None).steps(pause_seconds))

    def transport(self, row: int) -> int | None:
        """IP_PROTO_TCP or IP_PROTO_UDP where the payload can be read without the lower layers, else None."""
        index = self.index
        if int(index.column("layer_doubt")[row]) & DOUBT_TRANSPORT or not int(index.column("ip_version")[row]):
            return None
        protocol = int(index.column("ip_proto")[row])
        if protocol == IP_PROTO_UDP:
            return protocol
        if protocol == IP_PROTO_TCP and (self.reassembled or self.in_sequence()[row]):
            return protocol
        return None

    def packet(self, row: int) -> DissectedPacket | None:
        """The application layers of frame `row + 1`, or None where the skipped layers could matter."""
        protocol = self.transport(row)
        if protocol is None:
            return None
        index = self.index
        if protocol == IP_PROTO_TCP and self.reassembled:
            info = self.record_info(row + 1)
            if info.tcp is None or (info.tcp.analysis is not None and info.tcp.analysis.flags):
                return None
        else:
            info = FrameInfo(number=row + 1, timestamp_ns=int(index.column("timestamp_ns")[row]),
                             captured_length=int(index.column("captured_length")[row]),
                             wire_length=int(index.column("wire_length")[row]),
                             link_type=int(index.column("link_type")[row]))
        data = self.read_row(row)
        start, end = self.payload_span(row)
        dissection = Dissection(info, data)
        dissection.transport = "tcp" if protocol == IP_PROTO_TCP else "udp"
        dissection.source_port = int(index.column("src_port")[row])
        dissection.destination_port = int(index.column("dst_port")[row])
        dissection.payload_end = end
        if protocol == IP_PROTO_TCP:
            dissect_segment_payload(dissection, TreeNode("", None, None, start, 0), start)
        elif start < end:
            dissection.dissect_payload(start, end)
        return DissectedPacket(row + 1, data, dissection.layers, None, dissection.data_sources)  # type: ignore[arg-type]

    def payload_span(self, row: int) -> tuple[int, int]:
        """Where the transport payload starts and ends in the frame."""
        start = int(self.index.column("payload_offset")[row])
        return start, start + int(self.index.column("payload_length")[row])

    def dns_questions(self, row: int) -> tuple[list[str], list[int]] | None:
        """The question names and types of a DNS/mDNS/LLMNR message over UDP, read as the dissector
        reads them (`read_name`), or None where that could go otherwise (not UDP, cut short, malformed)."""
        index = self.index
        ports = (int(index.column("src_port")[row]), int(index.column("dst_port")[row]))
        if self.transport(row) != IP_PROTO_UDP or not set(ports) & set(DNS_PORTS):
            return None
        start, end = self.payload_span(row)
        if end - start < 12:
            return None
        message = self.read_row(row)[:end]
        names, types = [], []
        position = start + 12
        try:
            for _ in range(struct.unpack_from(">H", message, start + 4)[0]):
                name, after_name, _ = read_name(message, start, position)
                record_type, _ = struct.unpack_from(">HH", message, after_name)
                names.append(name)
                types.append(record_type)
                position = after_name + 4
        except (MalformedError, struct.error, IndexError, ValueError):
            return None
        return names, types

    def _in_sequence(self) -> np.ndarray:
        """TCP segments carrying more than one byte exactly where their direction's data so far ends.

        tshark's sequence analysis calls no such segment a retransmission, out-of-order or keep-alive
        (those start before the data seen so far ends, or carry at most one byte).
        """
        index = self.index
        streams = index.column("tcp_stream")
        rows = np.flatnonzero(streams >= 0).astype(np.int32)
        keys = streams[rows] * np.int32(2) + index.column("flow_direction")[rows]
        order = np.argsort(keys, kind="stable")
        rows, keys = rows[order], keys[order]
        del order
        first = np.ones(len(rows), bool)
        first[1:] = keys[1:] != keys[:-1]
        del keys
        seq = index.column("tcp_seq")[rows].astype(np.int64)
        relative = seq - seq[np.maximum.accumulate(np.where(first, np.arange(len(rows), dtype=np.int32), 0))]
        del seq
        relative &= 0xFFFFFFFF
        flags, length = index.column("tcp_flags")[rows], index.column("payload_length")[rows]
        ends = relative + length
        ends += flags & _SYN != 0
        ends += flags & _FIN != 0
        group_offset = np.cumsum(first, dtype=np.int64) << 34
        ends += group_offset
        np.maximum.accumulate(ends, out=ends)
        ends -= group_offset
        del group_offset
        in_sequence = ~first & (length > 1)
        in_sequence[1:] &= relative[1:] == ends[:-1]
        mask = np.zeros(index.count, bool)
        mask[rows[in_sequence]] = True
        return mask
