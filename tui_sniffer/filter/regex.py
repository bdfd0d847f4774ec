"""`matches` patterns: Wireshark's PCRE2 regexes (case-insensitive by default) on Python's `re`.

Leading option groups such as `(?-i)` are turned into compile flags, since Python only accepts
positive global flags at the start; PCRE's `\\z` becomes Python's `\\Z`. Compile errors use PCRE2's
wording for the common mistakes, so the filter bar shows what Wireshark would.
"""
from __future__ import annotations

import re

from tui_sniffer.filter.errors import FilterError

_OPTION_GROUP = re.compile(rb"\(\?([imsx]*)(?:-([imsx]*))?\)")
_FLAG_LETTERS = {ord("i"): re.IGNORECASE, ord("m"): re.MULTILINE, ord("s"): re.DOTALL,
                 ord("x"): re.VERBOSE}
_PCRE_WORDING = [
    ("missing ), unterminated subpattern", "missing closing parenthesis"),
    ("unbalanced parenthesis", "unmatched closing parenthesis"),
    ("nothing to repeat", "quantifier does not follow a repeatable item"),
    ("multiple repeat", "quantifier does not follow a repeatable item"),
    ("unterminated character set", "missing terminating ] for character class"),
    ("bad escape (end of pattern)", "\\ at end of pattern"),
    ("unknown extension", "unrecognized character after (? or (?-"),
    ("missing :, ) or = after (?", "unrecognized character after (? or (?-"),
]


def compile_pattern(source: bytes, *, text: bool) -> re.Pattern:
    """Compile a `matches` pattern for str subjects (`text`) or bytes subjects."""
    flags = re.IGNORECASE
    while True:
        option_group = _OPTION_GROUP.match(source)
        if option_group is None or not (option_group.group(1) or option_group.group(2)):
            break
        for letter in option_group.group(1):
            flags |= _FLAG_LETTERS[letter]
        for letter in option_group.group(2) or b"":
            flags &= ~_FLAG_LETTERS[letter]
        source = source[option_group.end():]
    source = _scope_inline_options(re.sub(rb"(?<!\\)((?:\\\\)*)\\z", rb"\1\\Z", source))
    try:
        if text:
            return re.compile(source.decode("utf-8", "surrogateescape"), flags)
        return re.compile(source, flags)
    except re.error as error:
        raise FilterError(f"Regex compilation error: {_pcre_message(error.msg)}.") from None


def _scope_inline_options(source: bytes) -> bytes:
    """Rewrite PCRE's mid-pattern `a(?-i)b` as Python's scoped `a(?-i:b)` (to the group's end)."""
    output = bytearray()
    open_scopes = [0]
    index, in_class = 0, False
    while index < len(source):
        character = source[index:index + 1]
        if character == b"\\":
            output += source[index:index + 2]
            index += 2
            continue
        if in_class:
            in_class = character != b"]"
        elif character == b"[":
            in_class = True
        elif character == b"(":
            option_group = _OPTION_GROUP.match(source, index)
            if option_group and (option_group.group(1) or option_group.group(2)):
                output += option_group.group()[:-1] + b":"
                open_scopes[-1] += 1
                index = option_group.end()
                continue
            open_scopes.append(0)
        elif character == b")" and len(open_scopes) > 1:
            output += b")" * open_scopes.pop()
        output += character
        index += 1
    return bytes(output + b")" * open_scopes[0])


def _pcre_message(python_message: str) -> str:
    for python_words, pcre_words in _PCRE_WORDING:
        if python_message.startswith(python_words):
            return pcre_words
    return python_message
