"""The protocol tree: nodes with Wireshark labels, field names, values and byte ranges."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from tui_sniffer.dissect.fields import FieldDef


@dataclass(slots=True, eq=False)
class TreeNode:
    """One line of the detail tree; `offset`/`length` locate its bytes in data source `source`."""

    _label: str | None
    definition: FieldDef | None = None
    value: object = None
    offset: int = 0
    length: int = 0
    children: list[TreeNode] = field(default_factory=list)
    generated: bool = False
    hidden: bool = False
    source: int = 0

    @property
    def label(self) -> str:
        """The line's text without brackets: the dissector's own, or `Label: shown value` from the
        registry, formatted when first read (packet list rows and filters never read it)."""
        if self._label is None:
            self._label = f"{self.definition.label}: {self.definition.show(self.value)}"
        return self._label

    @label.setter
    def label(self, text: str) -> None:
        self._label = text

    @property
    def field_name(self) -> str | None:
        """The Wireshark field name (`tcp.srcport`), or None for a text-only line."""
        return self.definition.name if self.definition else None

    @property
    def text(self) -> str:
        """The label as Wireshark prints it: generated fields are wrapped in brackets."""
        return f"[{self.label}]" if self.generated else self.label

    def add(self, definition: FieldDef, value: object, offset: int, length: int, *,
            label: str | None = None, generated: bool = False, hidden: bool = False,
            source: int | None = None) -> TreeNode:
        """Append a field node; its label defaults to `Label: shown value` from the registry.

        Its bytes are in this node's data source unless `source` names another (decoded bytes).
        """
        node = TreeNode(label, definition, value, offset, length, generated=generated,
                        hidden=hidden, source=self.source if source is None else source)
        self.children.append(node)
        return node

    def add_text(self, label: str, offset: int = 0, length: int = 0, *,
                 generated: bool = False, source: int | None = None) -> TreeNode:
        """Append a text-only line (no field), e.g. an option header or an expert note."""
        node = TreeNode(label, None, None, offset, length, generated=generated,
                        source=self.source if source is None else source)
        self.children.append(node)
        return node

    def add_generated(self, definition: FieldDef, value: object, *, label: str | None = None,
                      hidden: bool = False) -> TreeNode:
        """Append a generated field (`[Stream index: 0]`), which covers no bytes of its own."""
        return self.add(definition, value, 0, 0, label=label, generated=True, hidden=hidden)

    def add_expert(self, text: str, severity: str, group: str, definition: FieldDef | None = None) -> TreeNode:
        """Wireshark's `[Expert Info (Warning/Sequence): text]` block with its text, severity and group lines."""
        expert = self.add_text(f"Expert Info ({severity}/{group}): {text}", generated=True)
        if definition is None:
            expert.add_text(text, generated=True)
        else:
            expert.add(definition, None, self.offset, self.length, label=text, generated=True)
        expert.add_text(f"Severity level: {severity}", generated=True)
        expert.add_text(f"Group: {group}", generated=True)
        return expert

    def add_bits(self, definition: FieldDef, value: int, offset: int, length: int,
                 text: str, *, width_bits: int | None = None) -> TreeNode:
        """Append a bit field drawn like Wireshark: `.... 0101 = Header Length: 20 bytes (5)`."""
        register_value = int(value) * _lowest_bit(definition.bitmask)
        pattern = bit_pattern(register_value, definition.bitmask, width_bits or length * 8)
        label = f"{pattern} = {text}"
        return self.add(definition, value, offset, length, label=label)

    def walk(self) -> Iterator[TreeNode]:
        """This node and all below it, depth first, in tree order."""
        yield self
        for child in self.children:
            yield from child.walk()


_LABEL_BYTES = 239


def cut_label(text: str) -> str:
    """A label cut as Wireshark cuts one: 240 bytes of UTF-8 including the terminating NUL."""
    return text.encode()[:_LABEL_BYTES].decode("utf-8", "ignore")


_SHOWN_BYTES = 36


def bytes_text(value: bytes) -> str:
    """Bytes as Wireshark's labels show them: hex of the first 36, then an ellipsis."""
    return value[:_SHOWN_BYTES].hex() + ("\u2026" if len(value) > _SHOWN_BYTES else "")


def seconds_text(seconds: int) -> str:
    """`2 hours`, `1 day, 3 minutes`: a duration in Wireshark's words."""
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return ", ".join(parts) or "0 seconds"


def _lowest_bit(mask: int) -> int:
    """The value of the lowest set bit of `mask` (the shift a bit field's value needs)."""
    return mask & -mask if mask else 1


def bit_pattern(register_value: int, mask: int, width_bits: int) -> str:
    """Dots and digits for the bits of `mask` in a `width_bits` register, grouped by four."""
    characters = []
    for bit in range(width_bits - 1, -1, -1):
        if mask >> bit & 1:
            characters.append("1" if register_value >> bit & 1 else "0")
        else:
            characters.append(".")
        if bit % 4 == 0 and bit:
            characters.append(" ")
    return "".join(characters)


@dataclass(slots=True)
class ColumnTexts:
    """The packet-list columns of one packet, as tshark's default summary prints them."""

    number: int
    time: float
    source: str
    destination: str
    protocol: str
    length: int
    info: str


@dataclass(slots=True, eq=False)
class DissectedPacket:
    """One dissected frame: its tree, its bytes (and any reassembled sources) and its columns."""

    number: int
    data: bytes
    layers: list[TreeNode]
    summary: ColumnTexts
    data_sources: list[tuple[str, bytes]]
    malformed: bool = False
    _nodes_by_field: dict[str, list[TreeNode]] | None = None

    @property
    def tree(self) -> list[TreeNode]:
        """The top-level protocol nodes (Frame, Ethernet II, Internet Protocol…)."""
        return self.layers

    def walk(self) -> Iterator[TreeNode]:
        """Every node of every layer, in tree order."""
        for layer in self.layers:
            yield from layer.walk()

    def nodes(self, field_name: str) -> list[TreeNode]:
        """Every occurrence of a field (or protocol) in tree order, hidden ones included."""
        if self._nodes_by_field is None:
            index: dict[str, list[TreeNode]] = {}
            for node in self.walk():
                if node.definition is not None:
                    index.setdefault(node.definition.name, []).append(node)
            self._nodes_by_field = index
        return self._nodes_by_field.get(field_name, [])

    def values(self, field_name: str) -> list[object]:
        """The typed values of every occurrence of a field (what the display filter compares)."""
        return [node.value for node in self.nodes(field_name)]

    def fields(self, field_name: str) -> list[str]:
        """The values of a field as `tshark -T fields -e NAME` prints them, one per occurrence."""
        column = column_text(self.summary, field_name)
        if column is not None:
            return [column]
        return [node.definition.export(node.value) for node in self.nodes(field_name)
                if node.definition is not None]

    def node_bytes(self, node: TreeNode) -> bytes:
        """The bytes a node covers, from its own data source."""
        source_bytes = self.data_sources[node.source][1]
        return source_bytes[node.offset:node.offset + node.length]


COLUMN_FIELDS = {
    "_ws.col.No.": "number", "_ws.col.number": "number",
    "_ws.col.Time": "time", "_ws.col.cls_time": "time",
    "_ws.col.Source": "source", "_ws.col.def_src": "source",
    "_ws.col.Destination": "destination", "_ws.col.def_dst": "destination",
    "_ws.col.Protocol": "protocol", "_ws.col.protocol": "protocol",
    "_ws.col.Length": "length", "_ws.col.packet_length": "length",
    "_ws.col.Info": "info", "_ws.col.info": "info",
}


def column_text(summary: ColumnTexts, field_name: str) -> str | None:
    """tshark's column pseudo-fields (`_ws.col.Info`), or None for an ordinary field."""
    attribute = COLUMN_FIELDS.get(field_name)
    if attribute is None:
        return None
    value = getattr(summary, attribute)
    return f"{value:.9f}" if attribute == "time" else str(value)
