"""The checked filter: names resolved to registry fields, literals converted, every value typed.

The semantic check turns the syntax tree into these nodes; the per-packet evaluator and the
vectorized column evaluator both read them, so the two can never disagree about what a filter means.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from tui_sniffer.dissect.fields import FieldDef, FieldType
from tui_sniffer.filter.values import SliceRange


@dataclass(frozen=True, slots=True, eq=False)
class FieldValues:
    """Every occurrence of a field in a packet, optionally only those in some protocol layers."""

    definition: FieldDef
    layers: tuple[SliceRange, ...] | None = None
    whole_tvb: bool = False
    """For protocols under `contains`/`matches`: search from the protocol's start to the data's end."""

    @property
    def ftype(self) -> FieldType:
        return self.definition.ftype


@dataclass(frozen=True, slots=True, eq=False)
class Constant:
    """Literal values already converted to the type they are compared with."""

    values: tuple[object, ...]
    ftype: FieldType


@dataclass(frozen=True, slots=True, eq=False)
class SliceOf:
    """Bytes cut out of each value of `target`."""

    target: Value
    ranges: tuple[SliceRange, ...]
    ftype: FieldType = FieldType.BYTES


@dataclass(frozen=True, slots=True, eq=False)
class AsBytes:
    """Each value of `target` as its bytes (a field compared with a slice)."""

    target: Value
    ftype: FieldType = FieldType.BYTES


@dataclass(frozen=True, slots=True, eq=False)
class FunctionCall:
    """A display-filter function applied to its (checked) arguments."""

    name: str
    arguments: tuple[Value, ...]
    ftype: FieldType


@dataclass(frozen=True, slots=True, eq=False)
class ArithmeticOf:
    """`+ - * / % &` over every pair of left and right values."""

    operator: str
    left: Value
    right: Value
    ftype: FieldType


@dataclass(frozen=True, slots=True, eq=False)
class Negation:
    """Unary minus (unsigned values wrap, as in Wireshark's storage)."""

    operand: Value
    ftype: FieldType


@dataclass(frozen=True, slots=True, eq=False)
class ReferenceValues:
    """`${field}`: the field in the packet selected in the GUI; like tshark, we have none (no values)."""

    definition: FieldDef

    @property
    def ftype(self) -> FieldType:
        return self.definition.ftype


Value = Union[FieldValues, Constant, SliceOf, AsBytes, FunctionCall, ArithmeticOf, Negation,
              ReferenceValues]


@dataclass(frozen=True, slots=True, eq=False)
class Exists:
    """A field or protocol occurs (in the given layers)."""

    field: FieldValues


@dataclass(frozen=True, slots=True, eq=False)
class Compare:
    """`left relation right` over value pairs, true when any/all pairs satisfy it (absent: false)."""

    relation: str
    left: Value
    right: Value
    quantifier: str
    ftype: FieldType


@dataclass(frozen=True, slots=True, eq=False)
class Membership:
    """`left in {…}`: for each element (a value or an inclusive range), any/all left values match it."""

    left: Value
    elements: tuple[tuple[Value, Value | None], ...]
    quantifier: str
    ftype: FieldType


@dataclass(frozen=True, slots=True, eq=False)
class Contains:
    """`left contains right` for strings and byte strings."""

    left: Value
    right: Value
    quantifier: str


@dataclass(frozen=True, slots=True, eq=False)
class Matches:
    """`left matches "regex"` (case-insensitive unless the pattern says otherwise)."""

    left: Value
    pattern: re.Pattern
    quantifier: str


@dataclass(frozen=True, slots=True, eq=False)
class Truthy:
    """An arithmetic expression or slice used as a test: true when some value is non-zero."""

    value: Value


@dataclass(frozen=True, slots=True, eq=False)
class Negated:
    """Logical not."""

    operand: Test


@dataclass(frozen=True, slots=True, eq=False)
class Both:
    """Logical and."""

    left: Test
    right: Test


@dataclass(frozen=True, slots=True, eq=False)
class Either:
    """Logical or."""

    left: Test
    right: Test


Test = Union[Exists, Compare, Membership, Contains, Matches, Truthy, Negated, Both, Either]


def referenced_fields(node: Test | Value) -> list[str]:
    """Every field or protocol name a checked filter reads, in first-use order."""
    names: list[str] = []

    def visit(item: object) -> None:
        if isinstance(item, FieldValues):
            if item.definition.name not in names:
                names.append(item.definition.name)
            return
        for attribute in getattr(item, "__slots__", ()):
            child = getattr(item, attribute)
            if isinstance(child, tuple):
                for element in child:
                    for part in (element if isinstance(element, tuple) else (element,)):
                        visit(part)
            else:
                visit(child)

    visit(node)
    return names
