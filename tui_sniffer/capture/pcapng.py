"""A walker over pcapng blocks: sections, interfaces and the three kinds of packet block."""
from __future__ import annotations

from array import array

import numpy as np

from tui_sniffer.capture.pcapng_blocks import (
    ENHANCED_PACKET_BLOCK,
    INTERFACE_DESCRIPTION_BLOCK,
    LITTLE_ENDIAN,
    ByteOrder,
    OBSOLETE_PACKET_BLOCK,
    SECTION_HEADER_BLOCK,
    SIMPLE_PACKET_BLOCK,
    PcapngCatalog,
    comments_in,
    parse_interface,
    parse_section_header,
    section_byte_order,
)
from tui_sniffer.capture.records import MAX_CAPTURED_LENGTH, CaptureError, RecordBatch
from tui_sniffer.capture.walk import WalkStep

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
MAX_BLOCK_LENGTH = MAX_CAPTURED_LENGTH + 1024 * 1024
"""A block longer than the longest packet plus generous options is corrupt, not big."""
BLOCK_HEAD_LENGTH = 12
"""Block type, leading length and trailing length: the smallest possible block."""
PACKET_HEAD_LENGTH = 28
"""Bytes before packet data in enhanced and obsolete packet blocks."""


class PcapngColumns:
    """The per-record columns one walk appends to, turned into a `RecordBatch` at the end."""

    def __init__(self) -> None:
        self.data_positions = array("q")
        self.captured_lengths = array("I")
        self.wire_lengths = array("I")
        self.interface_ids = array("H")
        self.timestamps_high = array("I")
        self.timestamps_low = array("I")
        self.untimed_rows: list[int] = []
        """Rows from simple packet blocks, which carry no timestamp and so get 0."""

    def to_batch(self, chunk: bytes, chunk_offset: int, catalog: PcapngCatalog) -> RecordBatch | None:
        """Convert to numpy, scaling each interface's ticks to nanoseconds and looking up link types."""
        if not self.data_positions:
            return None
        positions = np.frombuffer(self.data_positions, dtype=np.int64)
        interface_ids = np.frombuffer(self.interface_ids, dtype=np.uint16)
        ticks = np.frombuffer(self.timestamps_high, dtype=np.uint32).astype(np.int64) << 32
        ticks |= np.frombuffer(self.timestamps_low, dtype=np.uint32)
        timestamps = self._scale_ticks(ticks, interface_ids, catalog)
        if self.untimed_rows:
            timestamps[self.untimed_rows] = 0
        link_type_by_interface = np.array([i.link_type for i in catalog.interfaces], dtype=np.uint16)
        return RecordBatch(
            buffer=chunk,
            data_positions=positions,
            file_offsets=positions + chunk_offset,
            captured_lengths=np.frombuffer(self.captured_lengths, dtype=np.uint32),
            wire_lengths=np.frombuffer(self.wire_lengths, dtype=np.uint32),
            timestamps_ns=timestamps,
            interface_ids=interface_ids,
            link_types=link_type_by_interface[interface_ids],
        )

    @staticmethod
    def _scale_ticks(ticks: np.ndarray, interface_ids: np.ndarray, catalog: PcapngCatalog) -> np.ndarray:
        """Ticks to nanoseconds: vectorized for decimal resolutions, exact integer math for the odd ones."""
        scales = catalog.timestamp_scales
        multipliers = np.array([s.multiplier for s in scales], dtype=np.int64)
        offsets = np.array([s.offset_ns for s in scales], dtype=np.int64)
        timestamps = ticks * multipliers[interface_ids] + offsets[interface_ids]
        for interface_id, scale in enumerate(scales):
            if scale.divisor != 1:
                rows = np.flatnonzero(interface_ids == interface_id)
                timestamps[rows] = [
                    int(tick) * scale.multiplier // scale.divisor + scale.offset_ns for tick in ticks[rows]
                ]
        return timestamps


class PcapngWalker:
    """Walks pcapng blocks chunk by chunk, tracking the section's byte order and interface numbering."""

    def __init__(self, catalog: PcapngCatalog) -> None:
        self.start_offset = 0
        self._catalog = catalog
        self._order = LITTLE_ENDIAN
        self._sections_started = 0
        self._interfaces_described = 0
        self._section_first_interface = 0
        self._records_walked = 0

    def walk(self, chunk: bytes, position: int, max_records: int, chunk_offset: int) -> WalkStep:
        """Walk whole blocks from `position`, stopping at a partial block, a corrupt one or `max_records`."""
        columns = PcapngColumns()
        add_position = columns.data_positions.append
        add_captured = columns.captured_lengths.append
        add_wire = columns.wire_lengths.append
        add_interface = columns.interface_ids.append
        add_high = columns.timestamps_high.append
        add_low = columns.timestamps_low.append
        order = self._order
        unpack_head, unpack_u32 = order.head.unpack_from, order.u32.unpack_from
        unpack_enhanced = order.enhanced.unpack_from
        first_interface = self._section_first_interface
        section_interfaces = self._interfaces_described - first_interface
        chunk_end = len(chunk)
        rows = 0
        needed_bytes = 0
        error = None
        try:
            while rows < max_records:
                if position + BLOCK_HEAD_LENGTH > chunk_end:
                    needed_bytes = BLOCK_HEAD_LENGTH
                    break
                block_type, block_length = unpack_head(chunk, position)
                if block_type == SECTION_HEADER_BLOCK:
                    order = section_byte_order(chunk, position, chunk_offset + position)
                    block_length = order.u32.unpack_from(chunk, position + 4)[0]
                if block_length & 3 or block_length < BLOCK_HEAD_LENGTH or block_length > MAX_BLOCK_LENGTH:
                    raise self._bogus(f"a bogus block length of {block_length}", chunk_offset + position)
                block_end = position + block_length
                if block_end > chunk_end:
                    needed_bytes = block_length
                    break
                if order.u32.unpack_from(chunk, block_end - 4)[0] != block_length:
                    raise self._bogus("a trailing length that differs from its leading one", chunk_offset + position)
                if block_type == ENHANCED_PACKET_BLOCK:
                    _, _, local_interface, high, low, captured, wire = unpack_enhanced(chunk, position)
                    if captured > block_length - PACKET_HEAD_LENGTH - 4:
                        raise self._bogus(f"a captured length of {captured} that overruns it", chunk_offset + position)
                    if local_interface >= section_interfaces:
                        raise self._bogus(f"an undeclared interface {local_interface}", chunk_offset + position)
                    options_start = position + PACKET_HEAD_LENGTH + ((captured + 3) & ~3)
                    if options_start < block_end - 4:
                        self._keep_comments(chunk, options_start, block_end - 4, chunk_offset + position)
                    add_position(position + PACKET_HEAD_LENGTH)
                    add_captured(captured)
                    add_wire(wire)
                    add_interface(first_interface + local_interface)
                    add_high(high)
                    add_low(low)
                elif block_type == SIMPLE_PACKET_BLOCK:
                    if section_interfaces == 0:
                        raise self._bogus("no interface declared before it", chunk_offset + position)
                    wire = unpack_u32(chunk, position + 8)[0]
                    snaplen = self._catalog.interfaces[first_interface].snaplen or wire
                    columns.untimed_rows.append(rows)
                    add_position(position + 12)
                    add_captured(min(wire, snaplen, block_length - 16))
                    add_wire(wire)
                    add_interface(first_interface)
                    add_high(0)
                    add_low(0)
                elif block_type == OBSOLETE_PACKET_BLOCK:
                    self._walk_obsolete_packet(chunk, position, block_end, chunk_offset, columns)
                elif block_type == INTERFACE_DESCRIPTION_BLOCK:
                    self._describe_interface(chunk, position, block_end, chunk_offset + position)
                    section_interfaces += 1
                    position = block_end
                    continue
                elif block_type == SECTION_HEADER_BLOCK:
                    self._start_section(chunk, position, block_end, order, chunk_offset + position)
                    unpack_head, unpack_u32 = order.head.unpack_from, order.u32.unpack_from
                    unpack_enhanced = order.enhanced.unpack_from
                    first_interface, section_interfaces = self._interfaces_described, 0
                    position = block_end
                    continue
                else:
                    position = block_end
                    continue
                rows += 1
                self._records_walked += 1
                position = block_end
        except CaptureError as corrupt_block:
            error = corrupt_block
        return WalkStep(columns.to_batch(chunk, chunk_offset, self._catalog), position, needed_bytes, error)

    @staticmethod
    def _bogus(problem: str, block_offset: int) -> CaptureError:
        """The error for a block whose own numbers cannot be right."""
        return CaptureError(f"pcapng block at byte offset {block_offset} has {problem}", block_offset)

    def _keep_comments(self, chunk: bytes, start: int, end: int, block_offset: int) -> None:
        """Remember the opt_comments of the record being walked, keyed by its 0-based record index."""
        comments = comments_in(chunk, start, end, self._order, block_offset)
        if comments:
            self._catalog.packet_comments[self._records_walked] = comments

    def _walk_obsolete_packet(
        self, chunk: bytes, position: int, block_end: int, chunk_offset: int, columns: PcapngColumns
    ) -> None:
        """Append a record from an obsolete packet block (type 2), which has a 16-bit interface id."""
        block_offset = chunk_offset + position
        block_length = block_end - position
        _, _, local_interface, _drops, high, low, captured, wire = self._order.obsolete.unpack_from(chunk, position)
        if captured > block_length - PACKET_HEAD_LENGTH - 4:
            raise self._bogus(f"a captured length of {captured} that overruns it", block_offset)
        if local_interface >= self._interfaces_described - self._section_first_interface:
            raise self._bogus(f"an undeclared interface {local_interface}", block_offset)
        options_start = position + PACKET_HEAD_LENGTH + ((captured + 3) & ~3)
        if options_start < block_end - 4:
            self._keep_comments(chunk, options_start, block_end - 4, block_offset)
        columns.data_positions.append(position + PACKET_HEAD_LENGTH)
        columns.captured_lengths.append(captured)
        columns.wire_lengths.append(wire)
        columns.interface_ids.append(self._section_first_interface + local_interface)
        columns.timestamps_high.append(high)
        columns.timestamps_low.append(low)

    def _describe_interface(self, chunk: bytes, position: int, block_end: int, block_offset: int) -> None:
        """Number an interface globally across sections, adding it to the catalog the first time it is seen."""
        interface, scale = parse_interface(chunk, position, block_end, self._order, block_offset)
        if self._interfaces_described == len(self._catalog.interfaces):
            self._catalog.interfaces.append(interface)
            self._catalog.timestamp_scales.append(scale)
        self._interfaces_described += 1

    def _start_section(
        self, chunk: bytes, position: int, block_end: int, order: ByteOrder, block_offset: int
    ) -> None:
        """Begin a section: its byte order applies from here, and its interfaces number after the previous ones."""
        comments = parse_section_header(chunk, position, block_end, order, block_offset)
        self._order = order
        self._section_first_interface = self._interfaces_described
        if self._sections_started == self._catalog.sections_seen:
            self._catalog.section_comments.extend(comments)
            self._catalog.sections_seen += 1
        self._sections_started += 1
