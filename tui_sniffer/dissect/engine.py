"""Dissection of one frame: scapy parses the layers, our protocol modules turn them into a Wireshark tree.

Each protocol module registers a handler for a scapy layer class (or for a payload it recognises by
content); the engine walks the layer chain, hands each layer and its frame offset to its handler and
collects the columns the top-most protocol sets.
"""
from __future__ import annotations

import struct
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from scapy.packet import NoPayload, Packet, Padding, Raw

from tui_sniffer.dissect.fields import FieldDef
from tui_sniffer.dissect.frame import FrameInfo
from tui_sniffer.dissect.tree import ColumnTexts, DissectedPacket, TreeNode

LayerHandler = Callable[["Dissection", Packet, int], int | None]
"""Dissects one scapy layer at a frame offset; returns the offset of its payload, or None to stop."""

PayloadHandler = Callable[["Dissection", int, int], bool]
"""Tries to dissect the bytes [offset, end) as an application protocol; True if it claimed them."""

_LAYER_HANDLERS: dict[type[Packet], LayerHandler] = {}
_PAYLOAD_HANDLERS: list[tuple[str, PayloadHandler]] = []


def handles(*layer_classes: type[Packet]) -> Callable[[LayerHandler], LayerHandler]:
    """Register a function as the dissector of the given scapy layer classes."""
    def decorate(handler: LayerHandler) -> LayerHandler:
        for layer_class in layer_classes:
            _LAYER_HANDLERS[layer_class] = handler
        return handler
    return decorate


def handles_payload(name: str) -> Callable[[PayloadHandler], PayloadHandler]:
    """Register a content-sniffing dissector for TCP/UDP payloads (HTTP, TLS, DNS…)."""
    def decorate(handler: PayloadHandler) -> PayloadHandler:
        _PAYLOAD_HANDLERS.append((name, handler))
        return handler
    return decorate


class MalformedError(Exception):
    """Raised by a handler when its bytes do not hold what the header claims."""


@dataclass
class Dissection:
    """The state of one frame's dissection: its bytes, its tree so far and its column texts."""

    frame: FrameInfo
    data: bytes
    layers: list[TreeNode] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    protocol_column: str = ""
    info: str = ""
    source: str = ""
    destination: str = ""
    network_source: str = ""
    network_destination: str = ""
    payload_end: int = 0
    transport: str = ""
    source_port: int = 0
    destination_port: int = 0
    malformed: bool = False
    link_node: TreeNode | None = None
    """The link layer's node, which padding past the network layer's length is added to."""
    data_sources: list[tuple[str, bytes]] = field(default_factory=list)
    current_source: int = 0
    """Which entry of `data_sources` `data` holds now: 0 is the frame, later ones reassembled or decoded bytes."""

    def __post_init__(self) -> None:
        self.payload_end = len(self.data)
        self.data_sources.append(("Frame", self.data))

    def add_layer(self, definition: FieldDef, label: str, offset: int, length: int,
                  protocol_name: str | None = None) -> TreeNode:
        """Append a protocol's top node and record it in `frame.protocols`."""
        node = TreeNode(label, definition, None, offset, length, source=self.current_source)
        self.layers.append(node)
        self.protocols.append(protocol_name or definition.name)
        return node

    @contextmanager
    def reading_source(self, name: str, data: bytes) -> Iterator[int]:
        """Within the block, `data` and new layers are a new byte source (`Reassembled TCP`…); yields its index."""
        saved = self.data, self.payload_end, self.current_source
        self.data_sources.append((name, data))
        self.data, self.payload_end, self.current_source = data, len(data), len(self.data_sources) - 1
        try:
            yield self.current_source
        finally:
            self.data, self.payload_end, self.current_source = saved

    def set_columns(self, protocol: str, info: str) -> None:
        """Make this layer the one the Protocol and Info columns describe."""
        self.protocol_column = protocol
        self.info = info

    def set_addresses(self, source: str, destination: str, *, network: bool) -> None:
        """Set the Source/Destination columns; network addresses win over link addresses."""
        if network:
            self.network_source, self.network_destination = source, destination
        self.source, self.destination = source, destination

    def dissect_payload(self, offset: int, end: int) -> None:
        """Hand a transport payload to the first application dissector that claims it, else Data."""
        if offset >= end:
            return
        for _, handler in _PAYLOAD_HANDLERS:
            if handler(self, offset, end):
                return
        from tui_sniffer.dissect.protocols.data import add_data

        add_data(self, offset, end)

    def mark_malformed(self, protocol_name: str, offset: int | None = None) -> None:
        """Add Wireshark's `[Malformed Packet]` line and flag the frame."""
        from tui_sniffer.dissect.protocols.data import add_malformed

        add_malformed(self, protocol_name, len(self.data) if offset is None else offset)


_PARSE_ERRORS = (struct.error, IndexError, ValueError, TypeError, AttributeError)
"""What scapy or a handler raises on bytes too short or too odd for a header."""


def walk_from_bytes(dissection: Dissection, layer_class: type[Packet], data: bytes, offset: int,
                    protocol_name: str) -> None:
    """Parse `data` (at `offset` in the frame) as `layer_class` and dissect the chain it starts.

    Scapy raises while parsing a first header that the bytes cannot hold (a 10-byte Ethernet
    frame); such a frame is `[Malformed Packet: Ethernet]`, as in tshark, not a crash.
    """
    try:
        layer = layer_class(data)
    except _PARSE_ERRORS:
        dissection.set_columns(protocol_name, "")
        dissection.mark_malformed(protocol_name, offset)
        return
    try:
        walk_layers(dissection, layer, offset)
    finally:
        _unlink_layers(layer)


def _unlink_layers(layer: Packet) -> None:
    """Drop each layer's reference to the one below, so a parsed chain is freed as soon as it is
    dropped instead of waiting for the cyclic garbage collector (whose full passes over thousands of
    parsed packets stalled the packet list for ~50 ms)."""
    while not isinstance(layer, NoPayload):
        layer.underlayer = None
        layer = layer.payload


def walk_layers(dissection: Dissection, layer: Packet, offset: int) -> None:
    """Dissect a scapy layer chain that starts at `offset` in the frame."""
    while not isinstance(layer, NoPayload):
        if isinstance(layer, Padding):
            return
        handler = _LAYER_HANDLERS.get(type(layer))
        if handler is None or isinstance(layer, Raw):
            dissection.dissect_payload(offset, dissection.payload_end)
            return
        try:
            next_offset = handler(dissection, layer, offset)
        except (MalformedError, *_PARSE_ERRORS):
            dissection.mark_malformed(layer.name.split()[0], offset)
            return
        if next_offset is None:
            return
        layer = layer.payload
        offset = next_offset


def dissect_frame(frame: FrameInfo, data: bytes) -> DissectedPacket:
    """Dissect one frame into its Wireshark-shaped tree and column texts."""
    from tui_sniffer.dissect.protocols import frame as frame_protocol, link

    dissection = Dissection(frame, data)
    frame_protocol.add_frame_layer(dissection)
    link.dissect_link_layer(dissection)
    frame_protocol.finish_frame_layer(dissection)
    summary = ColumnTexts(
        number=frame.number,
        time=frame.since_first,
        source=dissection.source,
        destination=dissection.destination,
        protocol=dissection.protocol_column,
        length=frame.captured_length,
        info=dissection.info,
    )
    return DissectedPacket(frame.number, data, dissection.layers, summary,
                           dissection.data_sources, dissection.malformed)
