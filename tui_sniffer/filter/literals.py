"""Literal conversion: the text a user typed → a typed constant for the field it is compared with.

Wireshark types a literal by the other side of the relation, so `80` is a port number next to
`tcp.port`, a byte next to `frame` and an error next to `ip.src`. Each conversion fails with the
message tshark 4.0 prints, at the literal's span.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import ipaddress
import re
import time

from tui_sniffer.dissect.fields import FieldDef, FieldType
from tui_sniffer.filter.errors import FilterError
from tui_sniffer.filter.syntax import CharConst, String, Word
from tui_sniffer.filter.values import AddressBlock

TYPE_LABELS = {
    FieldType.PROTOCOL: "Protocol", FieldType.NONE: "Label", FieldType.BOOLEAN: "Boolean",
    FieldType.UINT8: "Unsigned integer (1 byte)", FieldType.UINT16: "Unsigned integer (2 bytes)",
    FieldType.UINT24: "Unsigned integer (3 bytes)", FieldType.UINT32: "Unsigned integer (4 bytes)",
    FieldType.UINT64: "Unsigned integer (8 bytes)", FieldType.INT32: "Signed integer (4 bytes)",
    FieldType.FRAMENUM: "Frame number", FieldType.FLOAT: "Floating point (double-precision)",
    FieldType.IPV4: "IPv4 address", FieldType.IPV6: "IPv6 address",
    FieldType.ETHER: "Ethernet or other MAC address", FieldType.STRING: "Character string",
    FieldType.BYTES: "Byte sequence", FieldType.ABSOLUTE_TIME: "Date and time",
    FieldType.RELATIVE_TIME: "Time offset",
}
"""Wireshark's human names for field types, as its error messages print them."""

INTEGER_LIMITS = {
    FieldType.UINT8: (0, 0xFF), FieldType.UINT16: (0, 0xFFFF), FieldType.UINT24: (0, 0xFFFFFF),
    FieldType.UINT32: (0, 0xFFFFFFFF), FieldType.UINT64: (0, 0xFFFFFFFFFFFFFFFF),
    FieldType.INT32: (-0x80000000, 0x7FFFFFFF), FieldType.FRAMENUM: (0, 0xFFFFFFFF),
}

_INTEGER = re.compile(r"0[bB](?P<binary>[01]+)|0[xX](?P<hex>[0-9A-Fa-f]+)|(?P<octal>0[0-7]*)"
                      r"|(?P<decimal>[1-9][0-9]*)")
_FLOAT = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT = re.compile(r"0[xX][0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?(?:[pP][+-]?[0-9]+)?")
_RELATIVE_TIME = re.compile(r"[0-9]+(?:\.[0-9]*)?")
_DOTTED_QUAD = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
                          r"(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])){3}")
_BYTE_GROUPS = re.compile(r"[0-9A-Fa-f]{1,2}(?:[:.-][0-9A-Fa-f]{1,2})+")
_DOTTED_QUADS = re.compile(r"[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4})+")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]+")
_SINGLE_BYTE_HEX = re.compile(r"0[xX][0-9A-Fa-f]{2}")
_LEGACY_TIME = re.compile(r"(?P<month>[A-Za-z]{3}) +(?P<day>\d{1,2}), *(?P<year>\d{4}) +"
                          r"(?P<hms>\d{1,2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d{1,9}))?"
                          r"(?P<utc> +UTC)?")
_ISO_TIME = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<hms>\d{2}:\d{2}(?::\d{2})?)"
                       r"(?:\.(?P<fraction>\d{1,9}))?)? *(?P<zone>Z|UTC|[+-]\d{2}:?\d{2})?")
_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
_BOOLEAN_WORDS = {"True": 1, "TRUE": 1, "False": 0, "FALSE": 0}
_DEFAULT_BOOLEAN_NAMES = {"true": 1, "false": 0, "set": 1, "not set": 0}


def convert_literal(node: Word | String | CharConst, ftype: FieldType, definition: FieldDef | None,
                    *, partial: bool = False) -> object:
    """The constant `node` stands for next to a value of type `ftype` (field `definition`, if any).

    `partial` allows a shorter byte string for address types, as `contains` needs.
    """
    if isinstance(node, String):
        return _from_string(node, ftype, definition)
    if isinstance(node, CharConst):
        return _from_charconst(node, ftype)
    return _from_text(node.text, node.start, node.end, ftype, definition, partial)


def _fail(message: str, start: int, end: int) -> FilterError:
    return FilterError(message, start, end)


def _from_text(text: str, start: int, end: int, ftype: FieldType, definition: FieldDef | None,
               partial: bool) -> object:
    """Convert an unquoted literal."""
    if ftype in INTEGER_LIMITS:
        return _integer(text, start, end, ftype, definition)
    if ftype is FieldType.BOOLEAN:
        number = parse_integer(text)
        if number is not None:
            return 1 if number else 0
        if text in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[text]
        return _boolean_name(text, start, end, definition)
    if ftype is FieldType.FLOAT:
        value = parse_float(text)
        if value is None:
            raise _fail(f'"{text}" is not a valid floating-point number.', start, end)
        return value
    if ftype is FieldType.RELATIVE_TIME or _is_epoch(ftype, definition):
        nanoseconds = parse_time_offset(text)
        if nanoseconds is None:
            raise _fail(f'"{text}" is not a valid time.', start, end)
        return nanoseconds
    if ftype is FieldType.ABSOLUTE_TIME:
        return _absolute_time(text, start, end)
    if ftype is FieldType.IPV4:
        return _ipv4(text, start, end)
    if ftype is FieldType.IPV6:
        return _ipv6(text, start, end)
    if ftype is FieldType.ETHER:
        return _ether(text, start, end, partial)
    if ftype is FieldType.STRING:
        return text
    if ftype is FieldType.PROTOCOL:
        parsed = parse_bytes(text)
        return parsed if parsed is not None else text.encode()
    parsed = parse_bytes(text)
    if parsed is None:
        raise _fail(f'"{text}" is not a valid byte string.', start, end)
    return parsed


def _is_epoch(ftype: FieldType, definition: FieldDef | None) -> bool:
    """Whether a literal stands for `frame.time_epoch`, which tshark 4.0 reads as a time offset (seconds since
    the epoch, `1700000000.123456000`), not as a date."""
    return ftype is FieldType.ABSOLUTE_TIME and definition is not None and definition.name == "frame.time_epoch"


def parse_time_offset(text: str) -> int | None:
    """Nanoseconds for `seconds[.fraction]`, as Wireshark reads a time offset: exact, no exponent, no digit
    past the nanoseconds other than 0; None if the text is not one."""
    if not _RELATIVE_TIME.fullmatch(text):
        return None
    seconds, _, fraction = text.partition(".")
    if fraction[9:].strip("0"):
        return None
    return int(seconds) * 1_000_000_000 + int(fraction[:9].ljust(9, "0"))


def _from_string(node: String, ftype: FieldType, definition: FieldDef | None) -> object:
    """Convert a double-quoted string."""
    decoded = node.value.decode("utf-8", "surrogateescape")
    if _is_epoch(ftype, definition):
        ftype = FieldType.RELATIVE_TIME
    if ftype is FieldType.STRING:
        return decoded
    if ftype in (FieldType.BYTES, FieldType.PROTOCOL):
        return node.value
    if ftype is FieldType.ABSOLUTE_TIME:
        return _absolute_time(decoded, node.start, node.end)
    if ftype is FieldType.BOOLEAN:
        return _boolean_name(decoded, node.start, node.end, definition)
    if ftype in INTEGER_LIMITS and definition is not None and definition.value_names:
        return _value_name(decoded, node.start, node.end, definition)
    raise _fail(f'{TYPE_LABELS[ftype]} cannot be converted from a string ("{decoded}").',
                node.start, node.end)


def _from_charconst(node: CharConst, ftype: FieldType) -> object:
    """Convert a character constant: a number, or one byte / character where bytes are wanted."""
    if ftype in INTEGER_LIMITS or ftype is FieldType.BOOLEAN:
        return node.value if ftype is not FieldType.BOOLEAN else int(bool(node.value))
    if ftype is FieldType.FLOAT:
        return float(node.value)
    if ftype in (FieldType.BYTES, FieldType.PROTOCOL):
        return bytes([node.value])
    if ftype is FieldType.STRING:
        return chr(node.value)
    raise _fail(f"Character constant {node.text} (0x{node.value:02x}) cannot be converted to "
                f"{TYPE_LABELS[ftype]}.", node.start, node.end)


def parse_integer(text: str) -> int | None:
    """A C integer literal (decimal, 0x hex, 0 octal, 0b binary), or None."""
    match = _INTEGER.fullmatch(text)
    if match is None:
        return None
    if match.group("binary"):
        return int(match.group("binary"), 2)
    if match.group("hex"):
        return int(match.group("hex"), 16)
    if match.group("octal"):
        return int(match.group("octal"), 8)
    return int(match.group("decimal"))


def parse_float(text: str) -> float | None:
    """A C floating-point literal (decimal or hex), or None."""
    if _FLOAT.fullmatch(text):
        return float(text)
    if _HEX_FLOAT.fullmatch(text):
        return float.fromhex(text) if ("p" in text.lower() or "." in text) else float(int(text, 16))
    return None


def parse_bytes(text: str) -> bytes | None:
    """A byte string: hex pairs with `:` `.` `-` separators or none (`4745`), or `0xNN`; or None."""
    if _BYTE_GROUPS.fullmatch(text):
        return bytes(int(group, 16) for group in re.split(r"[:.-]", text))
    if _DOTTED_QUADS.fullmatch(text):
        return bytes.fromhex(text.replace(".", ""))
    if _SINGLE_BYTE_HEX.fullmatch(text):
        return bytes([int(text[2:], 16)])
    if _HEX_RUN.fullmatch(text):
        pairs = [text[index:index + 2] for index in range(0, len(text), 2)]
        return bytes(int(pair, 16) for pair in pairs)
    return None


def _integer(text: str, start: int, end: int, ftype: FieldType, definition: FieldDef | None) -> int:
    number = parse_integer(text)
    if number is None:
        if definition is not None and definition.value_names:
            return _value_name(text, start, end, definition)
        raise _fail(f'"{text}" is not a valid number.', start, end)
    low, high = INTEGER_LIMITS[ftype]
    if number > 0xFFFFFFFFFFFFFFFF:
        raise _fail(f'"{text}" causes an integer overflow.', start, end)
    if number > high:
        raise _fail(f'"{text}" too big for this field, maximum {high}.', start, end)
    return number


def _value_name(text: str, start: int, end: int, definition: FieldDef) -> int:
    """The number whose value name is `text` (case-insensitive), as Wireshark's value strings allow."""
    wanted = text.casefold()
    for number, name in (definition.value_names or {}).items():
        if name.casefold() == wanted:
            return number
    raise _fail(f'"{text}" cannot be found among the possible values for {definition.name}.',
                start, end)


def _boolean_name(text: str, start: int, end: int, definition: FieldDef | None) -> int:
    """A boolean's true/false label (`Set`, `True`…), case-insensitive."""
    names = {name.casefold(): int(bool(number))
             for number, name in ((definition.value_names or {}) if definition else {}).items()}
    names = names or _DEFAULT_BOOLEAN_NAMES
    if text.casefold() in names:
        return names[text.casefold()]
    field_name = definition.name if definition else "this field"
    raise _fail(f'"{text}" cannot be found among the possible values for {field_name}.', start, end)


def _ipv4(text: str, start: int, end: int) -> int | AddressBlock:
    address, _, prefix_text = text.partition("/")
    if not _DOTTED_QUAD.fullmatch(address):
        raise _fail(f'"{address}" is not a valid hostname or IPv4 address.', start, end)
    number = int.from_bytes(bytes(int(part) for part in address.split(".")), "big")
    if not prefix_text:
        return number
    prefix = int(prefix_text)
    if prefix > 32:
        raise _fail(f"Netmask bits in a CIDR IPv4 address should be <= 32, not {prefix}", start, end)
    return AddressBlock.of(number, prefix, 32)


def _ipv6(text: str, start: int, end: int) -> int | AddressBlock:
    address, _, prefix_text = text.partition("/")
    try:
        number = int(ipaddress.IPv6Address(address))
    except ValueError:
        raise _fail(f'"{address}" is not a valid hostname or IPv6 address.', start, end) from None
    if not prefix_text:
        return number
    prefix = int(prefix_text)
    if prefix > 128:
        raise _fail(f"Prefix in a IPv6 address should be <= 128, not {prefix}", start, end)
    return AddressBlock.of(number, prefix, 128)


def _ether(text: str, start: int, end: int, partial: bool) -> bytes:
    parsed = parse_bytes(text)
    if parsed is None:
        raise _fail(f'"{text}" is not a valid Ethernet address.', start, end)
    if partial:
        return parsed
    if len(parsed) < 6:
        raise _fail(f'"{text}" contains too few bytes to be a valid Ethernet address.', start, end)
    if len(parsed) > 6:
        raise _fail(f'"{text}" contains too many bytes to be a valid Ethernet address.', start, end)
    return parsed


def _absolute_time(text: str, start: int, end: int) -> int:
    """Nanoseconds since the epoch for `Nov 12, 1999 08:55:44.123[ UTC]` or ISO 8601; local time default."""
    legacy = _LEGACY_TIME.fullmatch(text.strip())
    iso = None if legacy else _ISO_TIME.fullmatch(text.strip())
    try:
        if legacy and legacy.group("month").title() in _MONTHS:
            moment = _dt.datetime(int(legacy.group("year")), _MONTHS[legacy.group("month").title()],
                                  int(legacy.group("day")), *_hms(legacy.group("hms")))
            return _epoch(moment, legacy.group("fraction"), "UTC" if legacy.group("utc") else None)
        if iso:
            year, month, day = (int(part) for part in iso.group("date").split("-"))
            moment = _dt.datetime(year, month, day, *_hms(iso.group("hms") or "00:00"))
            return _epoch(moment, iso.group("fraction"), iso.group("zone"))
    except ValueError:
        pass
    raise _fail(f'"{text}" is not a valid absolute time. Example: "Nov 12, 1999 08:55:44.123" or '
                f'"2011-07-04 12:34:56"', start, end)


def _hms(text: str) -> tuple[int, ...]:
    parts = [int(part) for part in text.split(":")]
    return tuple(parts + [0] * (3 - len(parts)))


def _epoch(moment: _dt.datetime, fraction: str | None, zone: str | None) -> int:
    """Nanoseconds since the epoch, exactly (times compare to the nanosecond, as Wireshark's nstime)."""
    if zone in ("UTC", "Z"):
        seconds = calendar.timegm(moment.timetuple())
    elif zone:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
        seconds = calendar.timegm(moment.timetuple()) - offset
    else:
        seconds = int(time.mktime(moment.timetuple()))
    nanoseconds = int((fraction or "0").ljust(9, "0"))
    return seconds * 1_000_000_000 + nanoseconds
