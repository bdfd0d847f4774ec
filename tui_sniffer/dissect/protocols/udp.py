"""UDP: ports, length, checksum, `[Stream index]` and the payload handed to DNS and friends."""
from __future__ import annotations

from scapy.layers.inet import UDP

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.names import CHECKSUM_STATUS_NAMES

UDP_PROTOCOL = protocol("udp", "User Datagram Protocol")
SRCPORT = register("udp.srcport", "Source Port", FieldType.UINT16)
DSTPORT = register("udp.dstport", "Destination Port", FieldType.UINT16)
PORT = register("udp.port", "Source or Destination Port", FieldType.UINT16)
LENGTH = register("udp.length", "Length", FieldType.UINT16)
CHECKSUM = register("udp.checksum", "Checksum", FieldType.UINT16, Base.HEX)
CHECKSUM_STATUS = register("udp.checksum.status", "Checksum Status", FieldType.UINT8,
                           value_names=CHECKSUM_STATUS_NAMES)
STREAM = register("udp.stream", "Stream index", FieldType.UINT32)
TIME_RELATIVE = register("udp.time_relative", "Time since first frame", FieldType.RELATIVE_TIME,
                         description="Time relative to first frame in this UDP stream")
TIME_DELTA = register("udp.time_delta", "Time since previous frame", FieldType.RELATIVE_TIME,
                      description="Time delta from previous frame in this UDP stream")
PAYLOAD = register("udp.payload", "Payload", FieldType.BYTES)


@handles(UDP)
def dissect_udp(dissection: Dissection, layer: UDP, offset: int) -> int | None:
    """UDP header; the payload goes to content/port-based application dissectors, else Data."""
    available = dissection.payload_end - offset
    if available < 8:
        dissection.add_layer(UDP_PROTOCOL, "User Datagram Protocol", offset, max(available, 0))
        raise MalformedError("UDP header cut short")
    source_port, destination_port = layer.sport, layer.dport
    node = dissection.add_layer(UDP_PROTOCOL, f"User Datagram Protocol, Src Port: {source_port}, "
                                              f"Dst Port: {destination_port}", offset, 8)
    node.add(SRCPORT, source_port, offset, 2)
    node.add(DSTPORT, destination_port, offset + 2, 2)
    node.add(PORT, source_port, offset, 2, hidden=True)
    node.add(PORT, destination_port, offset + 2, 2, hidden=True)
    node.add(LENGTH, layer.len, offset + 4, 2)
    node.add(CHECKSUM, layer.chksum, offset + 6, 2, label=f"Checksum: 0x{layer.chksum:04x} [unverified]")
    node.add_generated(CHECKSUM_STATUS, 2, label="Checksum Status: Unverified")
    stream = dissection.frame.annotations.get("udp.stream")
    if isinstance(stream, int):
        node.add_generated(STREAM, stream)
    times = [(definition, dissection.frame.annotations.get(definition.name)) for definition in (TIME_RELATIVE,
                                                                                            TIME_DELTA)]
    if all(isinstance(value, float) for _, value in times):
        timestamps = node.add_text("Timestamps", generated=True)
        for definition, value in times:
            timestamps.add_generated(definition, value)
    end = min(offset + layer.len, dissection.payload_end) if layer.len >= 8 else dissection.payload_end
    payload_length = end - offset - 8
    dissection.transport = "udp"
    dissection.source_port, dissection.destination_port = source_port, destination_port
    dissection.set_columns("UDP", f"{source_port} \u2192 {destination_port} Len={payload_length}")
    if payload_length > 0:
        node.length = end - offset
        node.add(PAYLOAD, dissection.data[offset + 8:end], offset + 8, payload_length,
                 label=f"UDP payload ({payload_length} byte{'s' if payload_length != 1 else ''})")
        dissection.dissect_payload(offset + 8, end)
    if layer.len < 8 or offset + layer.len > len(dissection.data):
        raise MalformedError(f"Bogus UDP length {layer.len}")
    return None
