"""The Frame layer: record metadata (times, lengths, interface) and the protocols found in the frame."""
from __future__ import annotations

from tui_sniffer.dissect.engine import Dissection
from tui_sniffer.dissect.fields import Base, FieldType, Timestamp, absolute_time_text, protocol, register
from tui_sniffer.dissect.linktypes import link_type_text, wiretap_encapsulation

FRAME = protocol("frame", "Frame")
INTERFACE_ID = register("frame.interface_id", "Interface id", FieldType.UINT32)
INTERFACE_NAME = register("frame.interface_name", "Interface name", FieldType.STRING)
ENCAPSULATION = register("frame.encap_type", "Encapsulation type", FieldType.INT32)
TIME = register("frame.time", "Arrival Time", FieldType.ABSOLUTE_TIME)
TIME_EPOCH = register("frame.time_epoch", "Epoch Time", FieldType.ABSOLUTE_TIME, Base.UNIX_TIME)
TIME_DELTA = register("frame.time_delta", "Time delta from previous captured frame",
                      FieldType.RELATIVE_TIME)
TIME_DELTA_DISPLAYED = register("frame.time_delta_displayed",
                                "Time delta from previous displayed frame", FieldType.RELATIVE_TIME)
TIME_RELATIVE = register("frame.time_relative", "Time since reference or first frame",
                         FieldType.RELATIVE_TIME)
NUMBER = register("frame.number", "Frame Number", FieldType.UINT32)
LENGTH = register("frame.len", "Frame Length", FieldType.UINT32)
CAPTURED_LENGTH = register("frame.cap_len", "Capture Length", FieldType.UINT32)
MARKED = register("frame.marked", "Frame is marked", FieldType.BOOLEAN)
IGNORED = register("frame.ignored", "Frame is ignored", FieldType.BOOLEAN)
PROTOCOLS = register("frame.protocols", "Protocols in frame", FieldType.STRING)
COMMENT = register("frame.comment", "Comment", FieldType.STRING)


def _bits(byte_count: int) -> str:
    """`N bytes (B bits)`, as the Frame lines print lengths."""
    return f"{byte_count} byte{'s' if byte_count != 1 else ''} ({byte_count * 8} bits)"


def add_frame_layer(dissection: Dissection) -> None:
    """Add the Frame node and its metadata fields (the protocols line is added at the end)."""
    frame = dissection.frame
    interface = f" on interface {frame.interface_name}, id {frame.interface_id}" \
        if frame.interface_name else ""
    label = (f"Frame {frame.number}: {frame.wire_length} bytes on wire ({frame.wire_length * 8} bits), "
             f"{frame.captured_length} bytes captured ({frame.captured_length * 8} bits){interface}")
    node = dissection.add_layer(FRAME, label, 0, len(dissection.data))
    if frame.interface_name:
        interface_node = node.add(INTERFACE_ID, frame.interface_id, 0, 0,
                                  label=f"Interface id: {frame.interface_id} ({frame.interface_name})")
        interface_node.add(INTERFACE_NAME, frame.interface_name, 0, 0)
    for comment in frame.comments:
        node.add(COMMENT, comment, 0, 0)
    node.add(ENCAPSULATION, wiretap_encapsulation(frame.link_type), 0, 0,
             label=f"Encapsulation type: {link_type_text(frame.link_type)}")
    seconds, nanoseconds = divmod(frame.timestamp_ns, 1_000_000_000)
    node.add(TIME, Timestamp(frame.timestamp_ns), 0, 0,
             label=f"Arrival Time: {absolute_time_text(seconds, nanoseconds)}")
    node.add(TIME_EPOCH, Timestamp(frame.timestamp_ns), 0, 0,
             label=f"Epoch Time: {seconds}.{nanoseconds:09d} seconds")
    node.add_generated(TIME_DELTA, frame.since_previous)
    node.add_generated(TIME_DELTA_DISPLAYED, frame.since_previous_displayed)
    node.add_generated(TIME_RELATIVE, frame.since_first)
    node.add(NUMBER, frame.number, 0, 0)
    node.add(LENGTH, frame.wire_length, 0, 0, label=f"Frame Length: {_bits(frame.wire_length)}")
    node.add(CAPTURED_LENGTH, frame.captured_length, 0, 0,
             label=f"Capture Length: {_bits(frame.captured_length)}")
    node.add_generated(MARKED, False, label="Frame is marked: False")
    node.add_generated(IGNORED, False, label="Frame is ignored: False")
    dissection.protocols.pop()  # `frame` itself is not listed in frame.protocols


def finish_frame_layer(dissection: Dissection) -> None:
    """Add `[Protocols in frame: eth:ethertype:ip:tcp]` once every layer is known."""
    protocols = ":".join(dissection.protocols)
    dissection.layers[0].add_generated(PROTOCOLS, protocols)
