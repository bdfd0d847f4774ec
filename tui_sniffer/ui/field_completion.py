"""Completing field names in a display filter from the field registry, the way Wireshark's bar does."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from tui_sniffer.dissect.fields import FieldDef

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True, slots=True)
class NameAtCursor:
    """The field-name-like word the cursor is in: `text[start:end]`, typed up to the cursor as `typed`."""

    start: int
    end: int
    typed: str


def name_at_cursor(text: str, cursor: int) -> NameAtCursor | None:
    """The word under the cursor if it could be a field name (not in a string, not a number)."""
    if text[:cursor].replace('\\"', "").count('"') % 2:
        return None
    start = cursor
    while start > 0 and text[start - 1] in _NAME_CHARACTERS:
        start -= 1
    end = cursor
    while end < len(text) and text[end] in _NAME_CHARACTERS:
        end += 1
    typed = text[start:cursor]
    if not typed or not (typed[0].isalpha() or typed[0] == "_"):
        return None
    if start > 0 and text[start - 1] in "[:$":  # a slice bound or a ${field} reference's sigil
        return None
    return NameAtCursor(start, end, typed)


def completions(typed: str, fields: Iterable[FieldDef]) -> list[FieldDef]:
    """Registered names that begin with `typed` (case-insensitively), protocols first, then by name."""
    prefix = typed.lower()
    found = [definition for definition in fields if definition.name.lower().startswith(prefix)]
    return sorted(found, key=lambda definition: (not definition.is_protocol, definition.name))


def completed(text: str, name: NameAtCursor, field_name: str) -> tuple[str, int]:
    """`text` with the word at the cursor replaced by `field_name`, and the cursor after it."""
    return text[:name.start] + field_name + text[name.end:], name.start + len(field_name)
