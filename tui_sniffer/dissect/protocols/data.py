"""Data (bytes no dissector claimed) and the `[Malformed Packet]` marker."""
from __future__ import annotations

from tui_sniffer.dissect.engine import Dissection
from tui_sniffer.dissect.fields import FieldType, protocol, register
from tui_sniffer.dissect.tree import bytes_text

DATA = protocol("data", "Data")
DATA_DATA = register("data.data", "Data", FieldType.BYTES)
DATA_LEN = register("data.len", "Length", FieldType.UINT32)
MALFORMED = protocol("_ws.malformed", "Malformed Packet")


def add_data(dissection: Dissection, offset: int, end: int) -> None:
    """`Data (31 bytes)` with the bytes as hex and their length, as Wireshark's data dissector shows."""
    payload = dissection.data[offset:end]
    size = len(payload)
    node = dissection.add_layer(DATA, f"Data ({size} byte{'s' if size != 1 else ''})", offset, size)
    node.add(DATA_DATA, payload, offset, size, label=f"Data: {bytes_text(payload)}")
    node.add_generated(DATA_LEN, size)


def add_malformed(dissection: Dissection, protocol_name: str, offset: int) -> None:
    """`[Malformed Packet: TCP]` as the last top-level node, and the Info suffix tshark prints."""
    if dissection.malformed:
        return
    dissection.malformed = True
    length = max(len(dissection.data) - offset, 0)
    node = dissection.add_layer(MALFORMED, f"[Malformed Packet: {protocol_name}]", offset, length)
    node.add_text("[Expert Info (Error/Malformed): Malformed Packet (Exception occurred)]",
                  offset, length)
    if not dissection.protocol_column:
        dissection.protocol_column = protocol_name
    dissection.info = (dissection.info + " " if dissection.info else "") + "[Malformed Packet]"
