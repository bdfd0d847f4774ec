"""Wireshark's Apply as Filter: the filter that matches the selected tree line, and its combinations.

The value is written the way Wireshark writes it: protocols by name alone, integers in the field's
display base (`ip.id == 0x7565`, `tcp.srcport == 48782`), strings quoted, addresses plain, byte
strings colon-separated, booleans as 1/0, epoch times as seconds; a line with bytes but no value (a text line, an FT_NONE
field) matches its bytes as `frame[offset:length] == …`.
"""
from __future__ import annotations

from enum import Enum

from tui_sniffer.dissect.fields import Base, FieldDef, FieldType, display_value
from tui_sniffer.dissect.tree import DissectedPacket, TreeNode

_FRAME_SOURCE = 0


class ApplyChoice(Enum):
    """The entries of Wireshark's Apply as Filter menu, by label."""

    SELECTED = "Selected"
    NOT_SELECTED = "Not Selected"
    AND_SELECTED = "…and Selected"
    OR_SELECTED = "…or Selected"
    AND_NOT_SELECTED = "…and not Selected"
    OR_NOT_SELECTED = "…or not Selected"


def combined_filter(choice: ApplyChoice, current: str, selected: str) -> str:
    """The filter a choice makes of the bar's `current` text and the `selected` line's filter."""
    current = current.strip()
    negated = f"!({selected})"
    if choice is ApplyChoice.SELECTED:
        return selected
    if choice is ApplyChoice.NOT_SELECTED:
        return negated
    is_negated = choice in (ApplyChoice.AND_NOT_SELECTED, ApplyChoice.OR_NOT_SELECTED)
    if not current:
        return negated if is_negated else selected
    operator = "&&" if choice in (ApplyChoice.AND_SELECTED, ApplyChoice.AND_NOT_SELECTED) else "||"
    return f"({current}) {operator} {negated if is_negated else f'({selected})'}"


def selected_filter(node: TreeNode, packet: DissectedPacket) -> str | None:
    """The filter matching tree line `node` of `packet`, or None when there is nothing to match."""
    definition = node.definition
    if definition is not None and definition.ftype is not FieldType.NONE:
        if definition.is_protocol or node.value is None:
            return definition.name
        return f"{definition.name} == {filter_literal(definition, node.value)}"
    if node.length and node.source == _FRAME_SOURCE:
        data = packet.data[node.offset:node.offset + node.length]
        return f"frame[{node.offset}:{len(data)}] == {data.hex(':')}" if data else None
    return definition.name if definition is not None else None


def filter_literal(definition: FieldDef, value: object) -> str:
    """`value` written as a display filter literal for `definition`'s type."""
    ftype = definition.ftype
    if ftype is FieldType.BOOLEAN:
        return "1" if value else "0"
    if ftype.is_integer or ftype is FieldType.RELATIVE_TIME or definition.base is Base.UNIX_TIME:
        return definition.export(value)
    if ftype is FieldType.BYTES and isinstance(value, (bytes, bytearray)):
        return value.hex(":") if value else '""'
    if ftype in (FieldType.STRING, FieldType.ABSOLUTE_TIME):
        return quoted(display_value(ftype, value))
    return display_value(ftype, value)


def quoted(text: str) -> str:
    """`text` as a double-quoted filter string: quotes, backslashes and unprintables escaped."""
    escaped = []
    for character in text:
        if character in '"\\':
            escaped.append("\\" + character)
        elif character.isprintable():
            escaped.append(character)
        else:
            escaped.extend(f"\\x{byte:02x}" for byte in character.encode("utf-8", "surrogateescape"))
    return '"' + "".join(escaped) + '"'
