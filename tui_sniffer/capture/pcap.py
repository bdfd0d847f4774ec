"""Classic libpcap files: the global header and a walker over the 16-byte record headers."""
from __future__ import annotations

import struct
from array import array

import numpy as np

from tui_sniffer.capture.records import (
    MAX_CAPTURED_LENGTH,
    CaptureError,
    InterfaceInfo,
    RecordBatch,
    TruncatedCaptureError,
)
from tui_sniffer.capture.walk import WalkStep

FILE_HEADER_LENGTH = 24
LINK_TYPE_MASK = 0x03FFFFFF
"""The link type lives in the low bits of the header's `network` field; the high bits carry FCS hints."""

# magic number -> (nanosecond timestamps, record header length)
_MAGICS = {
    0xA1B2C3D4: (False, 16),
    0xA1B23C4D: (True, 16),
    0xA1B2CD34: (False, 24),  # Alexey Kuznetzov's "modified pcap": 8 more bytes per record header
}


def is_pcap_magic(first_four: bytes) -> bool:
    """Whether a file starting with these bytes is a pcap file, in either byte order."""
    return len(first_four) == 4 and (
        struct.unpack("<I", first_four)[0] in _MAGICS or struct.unpack(">I", first_four)[0] in _MAGICS
    )


class PcapLayout:
    """What the pcap global header says: byte order, timestamp unit, record header size, the interface."""

    def __init__(self, header: bytes) -> None:
        if len(header) < FILE_HEADER_LENGTH:
            raise TruncatedCaptureError(0, "the pcap file header")
        byte_order = "<" if struct.unpack("<I", header[:4])[0] in _MAGICS else ">"
        magic, major, _minor, _zone, _sigfigs, snaplen, network = struct.unpack(
            byte_order + "IHHiIII", header[:FILE_HEADER_LENGTH]
        )
        if major != 2:
            raise CaptureError(f"unsupported pcap version {major} in the file header at byte offset 0", 0)
        self.byte_order = byte_order
        self.nanosecond, self.record_header_length = _MAGICS[magic]
        self.interface = InterfaceInfo(
            link_type=network & LINK_TYPE_MASK,
            snaplen=snaplen,
            timestamp_resolution_ns=1 if self.nanosecond else 1000,
        )


class PcapWalker:
    """Walks pcap record headers chunk by chunk: the hot loop only follows captured lengths."""

    def __init__(self, layout: PcapLayout) -> None:
        self.start_offset = FILE_HEADER_LENGTH
        self._layout = layout
        self._header = struct.Struct(layout.byte_order + "IIII")

    def walk(self, chunk: bytes, position: int, max_records: int, chunk_offset: int) -> WalkStep:
        """Walk whole records from `position`, stopping at a partial record, a bogus length or `max_records`."""
        header_length = self._layout.record_header_length
        unpack_header = self._header.unpack_from
        data_positions = array("q")
        captured_lengths = array("I")
        wire_lengths = array("I")
        seconds = array("q")
        fractions = array("q")
        add_position = data_positions.append
        add_captured = captured_lengths.append
        add_wire = wire_lengths.append
        add_seconds = seconds.append
        add_fraction = fractions.append
        chunk_end = len(chunk)
        needed_bytes = 0
        error = None
        for _ in range(max_records):
            data_start = position + header_length
            if data_start > chunk_end:
                needed_bytes = header_length
                break
            second, fraction, captured, wire = unpack_header(chunk, position)
            if captured > MAX_CAPTURED_LENGTH:
                error = CaptureError(
                    f"record header at byte offset {chunk_offset + position} claims a bogus captured "
                    f"length of {captured} bytes",
                    chunk_offset + position,
                )
                break
            if data_start + captured > chunk_end:
                needed_bytes = header_length + captured
                break
            add_position(data_start)
            add_captured(captured)
            add_wire(wire)
            add_seconds(second)
            add_fraction(fraction)
            position = data_start + captured
        batch = self._batch(chunk, chunk_offset, data_positions, captured_lengths, wire_lengths, seconds, fractions)
        return WalkStep(batch, position, needed_bytes, error)

    def _batch(
        self,
        chunk: bytes,
        chunk_offset: int,
        data_positions: array,
        captured_lengths: array,
        wire_lengths: array,
        seconds: array,
        fractions: array,
    ) -> RecordBatch | None:
        """Turn the walked columns into numpy arrays, converting timestamps to nanoseconds."""
        if not data_positions:
            return None
        positions = np.frombuffer(data_positions, dtype=np.int64)
        timestamps = np.frombuffer(seconds, dtype=np.int64) * 1_000_000_000
        timestamps += np.frombuffer(fractions, dtype=np.int64) * (1 if self._layout.nanosecond else 1000)
        count = len(positions)
        return RecordBatch(
            buffer=chunk,
            data_positions=positions,
            file_offsets=positions + chunk_offset,
            captured_lengths=np.frombuffer(captured_lengths, dtype=np.uint32),
            wire_lengths=np.frombuffer(wire_lengths, dtype=np.uint32),
            timestamps_ns=timestamps,
            interface_ids=np.zeros(count, dtype=np.uint16),
            link_types=np.full(count, self._layout.interface.link_type, dtype=np.uint16),
        )
