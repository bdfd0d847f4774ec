"""Make packet-derived text inert before it reaches a terminal: no escape sequences, no invisible tricks."""
from __future__ import annotations

import re

# C0/C1 controls, DEL, zero-width and bidi controls, line/paragraph separators, BOM, and the lone
# surrogates that `surrogateescape` decoding of invalid UTF-8 leaves behind.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff"
_UNSAFE_CHARACTERS = re.compile(f"[{_UNSAFE}]")
_UNSAFE_BUT_LAYOUT = re.compile(f"(?![\\t\\n])[{_UNSAFE}]")

_TSHARK_FIELD_ESCAPES = str.maketrans({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _escape_character(match: re.Match[str]) -> str:
    """The visible `\\xNN` / `\\uNNNN` spelling of one unsafe character."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control or invisible character spelled out, so it cannot drive the terminal."""
    return _UNSAFE_CHARACTERS.sub(_escape_character, text)


def printable_output(text: str) -> str:
    """Like `printable`, but tabs and newlines stay: for whole lines of command output."""
    return _UNSAFE_BUT_LAYOUT.sub(_escape_character, text)


def tshark_field_text(value: str) -> str:
    """A field value as `tshark -T fields` writes it: backspace, form feed, CR, LF and tab escaped."""
    return value.translate(_TSHARK_FIELD_ESCAPES)
