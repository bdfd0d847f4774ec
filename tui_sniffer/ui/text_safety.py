"""Make packet-derived text inert before it reaches the terminal: no escapes, no markup, no surrogates."""
from __future__ import annotations

from rich.text import Text

from tui_sniffer.export.terminal_text import printable

__all__ = ["ascii_cell", "printable", "safe_text"]


def safe_text(text: str, style: str = "") -> Text:
    """A rich `Text` of `text` (never parsed as markup) with unsafe characters spelled out."""
    return Text(printable(text), style=style, no_wrap=True, overflow="ellipsis")


def ascii_cell(byte: int) -> str:
    """One byte as the hex dump's ASCII column shows it: printable ASCII, else a middle dot."""
    return chr(byte) if 0x20 <= byte < 0x7F else "·"
