"""The display-filter syntax tree: what the parser builds and the semantic check reads.

Every node knows its span in the filter text so that errors found later can point at it. Words stay
unresolved here: whether `tcp` is a protocol or `TCP` a value name is the semantic check's business.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class Word:
    """An unquoted word: a field or protocol name, a value name, a number or an address."""

    text: str
    start: int
    end: int
    is_literal: bool = False
    """True for tokens that can never be a field name (addresses, byte strings, CIDR blocks)."""


@dataclass(frozen=True, slots=True)
class DottedField:
    """`.name`: a word that must be a field or protocol name."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class String:
    """A double-quoted string; `value` holds the bytes its escapes stand for."""

    value: bytes
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class CharConst:
    """A C character constant such as `'a'`, which stands for its byte value."""

    value: int
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Range:
    """One slice or layer range, as written between the brackets (`0:3`, `2-4`, `-1`, `:4`)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Layer:
    """`field#2` or `field#[1-2]`: only the occurrences inside the given protocol layers."""

    target: Node
    ranges: tuple[Range, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Reference:
    """`${field}`: the field's value in the packet selected in the GUI (none in tshark)."""

    target: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Slice:
    """`value[0:3]`: bytes of a field, protocol or string."""

    target: Node
    ranges: tuple[Range, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Call:
    """A function call such as `len(http.host)`."""

    name: str
    arguments: tuple[Node, ...]
    start: int
    end: int
    name_end: int


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """`a + b`, `a - b`, `a * b`, `a / b`, `a % b` and bitwise `a & b`."""

    operator: str
    left: Node
    right: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SetElement:
    """One member of a membership set: a value, or an inclusive range `low..high` when `high` is set."""

    low: Node
    high: Node | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """A relation: `==` `!=` `===` `!==` `>` `>=` `<` `<=` `contains` `matches` or `in`.

    `operator` is the canonical spelling (`==`, `contains`, `in`…); `quantifier` is "any", "all"
    or None for the operator's own rule; for `in`, `right` is a tuple of SetElement.
    """

    operator: str
    left: Node
    right: Node | tuple[SetElement, ...]
    start: int
    end: int
    operator_start: int
    operator_end: int
    quantifier: str | None = None


@dataclass(frozen=True, slots=True)
class Not:
    """Logical negation."""

    operand: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Logical:
    """`and` / `or` of two tests."""

    operator: str
    left: Node
    right: Node
    start: int
    end: int


Node = Union[Word, DottedField, String, CharConst, Layer, Reference, Slice, Call, Negate, Arithmetic,
             Comparison, Not, Logical]
