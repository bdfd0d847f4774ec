"""Make packet-derived text inert before it reaches the terminal: no escapes, no markup, no surrogates."""
from __future__ import annotations

import re

from rich.text import Text

# C0/C1 controls, DEL, zero-width and bidi controls, line/paragraph separators, BOM, and the lone
# surrogates that `surrogateescape` decoding of invalid UTF-8 leaves behind.
_UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _escape_character(match: re.Match[str]) -> str:
    """The visible `\\xNN` / `\\uNNNN` spelling of one unsafe character."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control or invisible character spelled out, so it cannot drive the terminal."""
    return _UNSAFE_CHARACTERS.sub(_escape_character, text)


def safe_text(text: str, style: str = "") -> Text:
    """A rich `Text` of `text` (never parsed as markup) with unsafe characters spelled out."""
    return Text(printable(text), style=style, no_wrap=True, overflow="ellipsis")


def ascii_cell(byte: int) -> str:
    """One byte as the hex dump's ASCII column shows it: printable ASCII, else a middle dot."""
    return chr(byte) if 0x20 <= byte < 0x7F else "·"
