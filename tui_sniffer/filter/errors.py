"""Filter errors as values: Wireshark's message plus the character span it points at."""
from __future__ import annotations


class FilterError(Exception):
    """A display filter that does not compile; `start`/`end` locate the culprit in the filter text.

    `start` is None when Wireshark gives no position (e.g. "Unexpected end of filter expression.").
    """

    def __init__(self, message: str, start: int | None = None, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end if end is not None else start

    @property
    def has_position(self) -> bool:
        """Whether the error points at a place in the filter text."""
        return self.start is not None

    def __repr__(self) -> str:
        return f"FilterError({self.message!r}, {self.start!r}, {self.end!r})"


def format_error(text: str, error: FilterError) -> str:
    """The error as tshark prints it: the message, then the filter and a caret line under the span."""
    if not error.has_position:
        return error.message
    start = error.start or 0
    width = max((error.end or start) - start, 1)
    caret_line = " " * start + "^" + "~" * (width - 1)
    return f"{error.message}\n    {text}\n    {caret_line}"
