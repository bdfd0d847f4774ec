"""A TCP payload as reassembly divided it: `TCP segment data`, `[Reassembled PDU in frame: N]`, the
`[N Reassembled TCP Segments]` tree and the messages dissected from their own `Reassembled TCP` bytes."""
from __future__ import annotations

from dataclasses import dataclass

from tui_sniffer.dissect.engine import Dissection
from tui_sniffer.dissect.fields import FieldDef, FieldType, register
from tui_sniffer.dissect.frame import PayloadPiece, ReassembledPdu
from tui_sniffer.dissect.tree import TreeNode, bytes_text, cut_label

SEGMENT_DATA = register("tcp.segment_data", "TCP segment data", FieldType.BYTES,
                        description="A data segment used in reassembly")
REASSEMBLED_IN = register("tcp.reassembled_in", "Reassembled PDU in frame", FieldType.FRAMENUM,
                          description="The PDU that doesn't end in this segment is reassembled in this frame")
SEGMENTS = register("tcp.segments", "Reassembled TCP Segments", FieldType.NONE)
SEGMENT = register("tcp.segment", "TCP Segment", FieldType.FRAMENUM)
SEGMENT_COUNT = register("tcp.segment.count", "Segment count", FieldType.UINT32)
REASSEMBLED_LENGTH = register("tcp.reassembled.length", "Reassembled TCP length", FieldType.UINT32,
                              description="The total length of the reassembled payload")
REASSEMBLED_DATA = register("tcp.reassembled.data", "Reassembled TCP Data", FieldType.BYTES,
                            description="The reassembled payload")

PDU_SIZE = register("tcp.pdu.size", "PDU Size", FieldType.UINT32, description="The size of this PDU")

REASSEMBLED_SOURCE = "Reassembled TCP"
_LENGTH_PREFIXED = {"dns"}
"""Framed like Wireshark's tcp_dissect_pdus: a `[PDU Size]` line per message, one protocol entry per run."""
_ONE_ENTRY_PER_RUN = {"dns", "http"}
"""Protocols whose dissector takes every whole message of a segment in one call (listed once in frame.protocols)."""
_INFO_SEPARATORS = {"HTTP": "", "HTTP/JSON": "", "DNS": None, "MDNS": None, "LLMNR": None}
"""How a later message's Info joins the earlier one's in one frame: no space (HTTP), replacing it (DNS,
whose last message wins) or, for TLS and the rest, a comma."""
def _plural(count: int) -> str:
    return f"{count} byte{'s' if count != 1 else ''}"


def _is_whole(piece: PayloadPiece) -> bool:
    """Whether a piece holds messages that start and end in this segment."""
    return piece.pdu is None and piece.reassembled_in is None and not piece.unfinished and not piece.retransmitted


def dissect_segment_payload(dissection: Dissection, tcp_node: TreeNode, payload_start: int) -> None:
    """Dissect a segment's payload whole, or piece by piece as TCP reassembly divided it."""
    pieces = dissection.frame.tcp_payload
    if pieces is None:
        if payload_start < dissection.payload_end:
            dissection.dissect_payload(payload_start, dissection.payload_end)
        return
    _add_segment_lines(dissection, tcp_node, payload_start, pieces)
    tcp_info = dissection.info
    shown: tuple[str, str] | None = None
    run_protocol: str | None = None
    previous_whole_kind: str | None = None
    for piece in pieces:
        first_protocol = len(dissection.protocols)
        if piece.pdu is not None:
            _dissect_reassembled(dissection, piece.pdu)
        elif _is_whole(piece):
            dissection.dissect_payload(payload_start + piece.start, payload_start + piece.end)
        else:
            continue
        added = dissection.protocols[first_protocol:first_protocol + 1]
        continues_run = _is_whole(piece) and piece.kind in _ONE_ENTRY_PER_RUN and piece.kind == previous_whole_kind
        if continues_run and added == [run_protocol]:
            del dissection.protocols[first_protocol]
        elif added:
            run_protocol = added[0]
        previous_whole_kind = piece.kind if _is_whole(piece) else None
        if shown is not None:
            separator = _INFO_SEPARATORS.get(shown[0], ", ")
            if separator is not None:
                dissection.info = f"{shown[1]}{separator}{dissection.info}"
        shown = dissection.protocol_column, dissection.info
    if shown is None and not any(piece.retransmitted for piece in pieces):
        dissection.set_columns("TCP", f"{tcp_info} [TCP segment of a reassembled PDU]")


def _add_segment_lines(dissection: Dissection, tcp_node: TreeNode, payload_start: int,
                       pieces: list[PayloadPiece]) -> None:
    """`[PDU Size: N]` for length-prefixed messages shown here, then `TCP segment data (N bytes)` for
    every stretch that belongs to a reassembled message."""
    for piece in pieces:
        if piece.kind in _LENGTH_PREFIXED and (piece.pdu is not None or _is_whole(piece)):
            size = len(piece.pdu.data) if piece.pdu is not None else piece.end - piece.start
            tcp_node.add_generated(PDU_SIZE, size)
    for piece in pieces:
        if _is_whole(piece):
            continue
        if piece.reassembled_in is not None:
            tcp_node.add_generated(REASSEMBLED_IN, piece.reassembled_in)
        size = piece.end - piece.start
        if size:
            start = payload_start + piece.start
            again = "Retransmitted " if piece.retransmitted else ""
            tcp_node.add(SEGMENT_DATA, dissection.data[start:start + size], start, size,
                         label=f"{again}TCP segment data ({_plural(size)})")


@dataclass(frozen=True, slots=True)
class ReassemblyFields:
    """The fields of a `[N Reassembled … ]` tree: Wireshark gives TCP, IPv4 and IPv6 each their own."""

    title: str
    tree: FieldDef
    part: FieldDef
    count: FieldDef
    length: FieldDef
    data: FieldDef
    overlap: FieldDef


SEGMENT_OVERLAP = register("tcp.segment.overlap", "Segment overlap", FieldType.BOOLEAN,
                           description="Segment overlaps with other segments")
TCP_FIELDS = ReassemblyFields("Reassembled TCP Segments", SEGMENTS, SEGMENT, SEGMENT_COUNT, REASSEMBLED_LENGTH,
                              REASSEMBLED_DATA, SEGMENT_OVERLAP)


def reassembly_tree(pdu: ReassembledPdu, fields: ReassemblyFields, source: int) -> TreeNode:
    """`[3 Reassembled TCP Segments (519 bytes): #6(186), …]` with a line per part, over source `source`."""
    size = len(pdu.data)
    listed = ", ".join(f"#{frame}({count})" for frame, count in pdu.segments)
    tree = TreeNode(cut_label(f"{len(pdu.segments)} {fields.title} ({_plural(size)}): {listed}"), fields.tree, None,
                    0, size, generated=True, source=source)
    position = 0
    for number, (frame, count) in enumerate(pdu.segments):
        if pdu.offsets:
            position = pdu.offsets[number]
        where = f"payload: {position}-{position + count - 1} ({_plural(count)})" if count else "no data"
        label = f"Frame: {frame}, {where}" if count else f"Frame: {frame} ({where})"
        part = tree.add(fields.part, frame, position, count, label=label, generated=True)
        if pdu.overlaps and pdu.overlaps[number]:
            part.add_generated(fields.overlap, True, label=f"{fields.overlap.label}: True")
        position += count
    tree.add_generated(fields.count, len(pdu.segments))
    tree.add(fields.length, size, 0, size, generated=True)
    tree.add(fields.data, pdu.data, 0, size, generated=True, label=f"{fields.data.label}: {bytes_text(pdu.data)}")
    return tree


def _dissect_reassembled(dissection: Dissection, pdu: ReassembledPdu) -> None:
    """The `[N Reassembled TCP Segments]` tree and the message, both over the reassembled bytes."""
    with dissection.reading_source(REASSEMBLED_SOURCE, pdu.data) as source:
        dissection.layers.append(reassembly_tree(pdu, TCP_FIELDS, source))
        dissection.dissect_payload(0, len(pdu.data))
