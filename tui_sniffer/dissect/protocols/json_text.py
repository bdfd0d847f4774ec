"""JSON bodies as Wireshark's JSON dissector shows them: objects, members with keys and paths, values."""
from __future__ import annotations

import json
import re

from tui_sniffer.dissect.engine import Dissection
from tui_sniffer.dissect.fields import FieldType, protocol, register
from tui_sniffer.dissect.tree import TreeNode

JSON = protocol("json", "JavaScript Object Notation")
OBJECT = register("json.object", "Object", FieldType.NONE)
ARRAY = register("json.array", "Array", FieldType.NONE)
MEMBER = register("json.member", "Member", FieldType.STRING)
KEY = register("json.key", "Key", FieldType.STRING)
PATH = register("json.path", "Path", FieldType.STRING)
PATH_WITH_VALUE = register("json.path_with_value", "Path with value", FieldType.STRING)
MEMBER_WITH_VALUE = register("json.member_with_value", "Member with value", FieldType.STRING)
STRING_VALUE = register("json.value.string", "String value", FieldType.STRING)
NUMBER_VALUE = register("json.value.number", "Number value", FieldType.STRING)
TRUE_VALUE = register("json.value.true", "True value", FieldType.NONE)
FALSE_VALUE = register("json.value.false", "False value", FieldType.NONE)
NULL_VALUE = register("json.value.null", "Null value", FieldType.NONE)

_LITERALS = {b"true": TRUE_VALUE, b"false": FALSE_VALUE, b"null": NULL_VALUE}
_NUMBER = re.compile(rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\.)*"')
_SPACE = re.compile(rb"[ \t\r\n]*")


class _Malformed(Exception):
    """The body is not valid JSON."""


def add_json(dissection: Dissection, start: int, end: int, content_type: str) -> bool:
    """The `JavaScript Object Notation` layer over [start, end); False (layer left empty) if it is not JSON."""
    layer = dissection.add_layer(JSON, f"JavaScript Object Notation: {content_type}", start, end - start)
    parser = _Parser(dissection.data[:end])
    try:
        position = parser.value(layer, parser.skip(start), "", None)
        if parser.skip(position) != end:
            raise _Malformed("text after the value")
    except (_Malformed, IndexError, ValueError):
        layer.children.clear()
        return False
    return True


class _Parser:
    """A recursive-descent JSON reader that adds Wireshark's tree nodes as it goes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def skip(self, position: int) -> int:
        """The first non-blank position from `position`."""
        return _SPACE.match(self.data, position).end()

    def value(self, parent: TreeNode, position: int, path: str, key: str | None) -> int:
        """One value at `position` under `parent` (a member's key when it has one); returns its end."""
        first = self.data[position:position + 1]
        if first in (b"{", b"["):
            return self._container(parent, position, path)
        text, end, definition, shown = self._scalar(position)
        member = f"{key}:{shown}" if key is not None else f"[]:{shown}"
        parent.add(PATH_WITH_VALUE, f"{path}:{shown}", position, end - position, generated=True)
        parent.add(MEMBER_WITH_VALUE, member, position, end - position, generated=True)
        if definition in (TRUE_VALUE, FALSE_VALUE, NULL_VALUE):
            parent.add(definition, None, position, end - position, label=definition.label)
        else:
            parent.add(definition, text, position, end - position)
        return end

    def _scalar(self, position: int):
        """A string, number or literal: its value text, end, field and the text paths show."""
        data = self.data
        if data[position:position + 1] == b'"':
            match = _STRING.match(data, position)
            if match is None:
                raise _Malformed("bad string")
            text = json.loads(match.group().decode("utf-8"))
            return text, match.end(), STRING_VALUE, text
        for literal, definition in _LITERALS.items():
            if data.startswith(literal, position):
                return None, position + len(literal), definition, literal.decode()
        match = _NUMBER.match(data, position)
        if match is None or match.end() == position:
            raise _Malformed("unexpected character")
        text = match.group().decode()
        return text, match.end(), NUMBER_VALUE, text

    def _container(self, parent: TreeNode, position: int, path: str) -> int:
        """An object or array and everything in it."""
        is_object = self.data[position:position + 1] == b"{"
        closing = b"}" if is_object else b"]"
        node = parent.add(OBJECT if is_object else ARRAY, None, position, 0,
                          label="Object" if is_object else "Array")
        position = self.skip(position + 1)
        first = True
        while self.data[position:position + 1] != closing:
            if not first:
                if self.data[position:position + 1] != b",":
                    raise _Malformed("missing comma")
                position = self.skip(position + 1)
            first = False
            position = self.skip(self._member(node, position, path) if is_object
                                 else self.value(node, position, f"{path}/[]", None))
        node.length = position + 1 - node.offset
        return position + 1

    def _member(self, parent: TreeNode, position: int, path: str) -> int:
        """`Member: key` with its value, `Key` and `[Path]`; returns the end of its value."""
        match = _STRING.match(self.data, position)
        if match is None:
            raise _Malformed("member without a string key")
        key = json.loads(match.group().decode("utf-8"))
        colon = self.skip(match.end())
        if self.data[colon:colon + 1] != b":":
            raise _Malformed("missing colon")
        member_path = f"{path}/{key}"
        member = parent.add(MEMBER, key, position, 0, label=f"Member: {key}")
        end = self.value(member, self.skip(colon + 1), member_path, key)
        member.length = end - position
        member.add(KEY, key, position, match.end() - position)
        member.add(PATH, member_path, position, end - position, generated=True)
        return end
