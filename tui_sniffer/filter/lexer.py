"""The display-filter scanner: text → tokens with character spans, following Wireshark 4.0's scanner.

Words are split the way tshark splits them (so `tcp.srcport-1` is one word and `tcp.srcport -1` is
three tokens), which keeps the error messages and their carets where tshark puts them.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterator

from tui_sniffer.filter.errors import FilterError


class TokenKind(Enum):
    """What a token is; comparison and logic operators carry their canonical spelling."""

    LPAREN = "("
    RPAREN = ")"
    LBRACE = "{"
    RBRACE = "}"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    DOTDOT = ".."
    HASH = "#"
    DOLLAR = "$"
    RANGE = "range"            # the text between `[`/`,` and `,`/`]` of a slice or layer range
    LAYER_INDEX = "layer"      # the digits after `#`
    ANY_EQ = "=="
    ALL_NE = "!="
    ALL_EQ = "==="
    ANY_NE = "!=="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    CONTAINS = "contains"
    MATCHES = "matches"
    IN = "in"
    AND = "&&"
    OR = "||"
    NOT = "!"
    ANY = "any"
    ALL = "all"
    PLUS = "+"
    MINUS = "-"
    STAR = "*"
    SLASH = "/"
    PERCENT = "%"
    BITWISE_AND = "&"
    WORD = "word"              # a field name, a function name or an unquoted literal
    LITERAL = "literal"        # an address, byte string or CIDR block: never a field name
    DOTTED_FIELD = "field"     # `.tcp.port`: a name that must be a field
    STRING = "string"
    CHARCONST = "charconst"


COMPARISON_KINDS = frozenset({TokenKind.ANY_EQ, TokenKind.ALL_NE, TokenKind.ALL_EQ, TokenKind.ANY_NE,
                              TokenKind.GT, TokenKind.GE, TokenKind.LT, TokenKind.LE})


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its source text, its decoded value (strings, characters) and its span."""

    kind: TokenKind
    text: str
    start: int
    end: int
    value: object = None


_KEYWORDS = {
    "eq": TokenKind.ANY_EQ, "any_eq": TokenKind.ANY_EQ, "ne": TokenKind.ALL_NE,
    "all_ne": TokenKind.ALL_NE, "all_eq": TokenKind.ALL_EQ, "any_ne": TokenKind.ANY_NE,
    "gt": TokenKind.GT, "ge": TokenKind.GE, "lt": TokenKind.LT, "le": TokenKind.LE,
    "contains": TokenKind.CONTAINS, "matches": TokenKind.MATCHES, "in": TokenKind.IN,
    "and": TokenKind.AND, "or": TokenKind.OR, "not": TokenKind.NOT, "any": TokenKind.ANY,
    "all": TokenKind.ALL, "bitwise_and": TokenKind.BITWISE_AND,
}

_PUNCTUATION = sorted([
    ("===", TokenKind.ALL_EQ), ("!==", TokenKind.ANY_NE), ("==", TokenKind.ANY_EQ),
    ("!=", TokenKind.ALL_NE), ("~=", TokenKind.ANY_NE), (">=", TokenKind.GE), ("<=", TokenKind.LE),
    ("&&", TokenKind.AND), ("||", TokenKind.OR), ("..", TokenKind.DOTDOT), (">", TokenKind.GT), ("<", TokenKind.LT),
    ("!", TokenKind.NOT), ("~", TokenKind.MATCHES), ("&", TokenKind.BITWISE_AND),
    ("+", TokenKind.PLUS), ("-", TokenKind.MINUS), ("*", TokenKind.STAR), ("/", TokenKind.SLASH),
    ("%", TokenKind.PERCENT), ("(", TokenKind.LPAREN), (")", TokenKind.RPAREN),
    ("{", TokenKind.LBRACE), ("}", TokenKind.RBRACE), (",", TokenKind.COMMA), ("$", TokenKind.DOLLAR),
], key=lambda pair: -len(pair[0]))

_IDENTIFIER = r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*"
_WORD = re.compile(_IDENTIFIER)
_DOTTED = re.compile(r"\." + _IDENTIFIER)
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = re.compile(rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}(?![0-9])(?:/[0-9]{{1,2}})?")
_COLON_BYTES = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+")
_COLON_HEX = re.compile(r":[0-9A-Fa-f]+")
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]+")
_IPV6_PREFIX = re.compile(r"/[0-9]{1,3}")
_OCTAL_ESCAPE = re.compile(r"[0-7]{1,3}")
_HEX_ESCAPE = re.compile(r"[0-9A-Fa-f]{1,2}")
_UNICODE_ESCAPES = {"u": re.compile(r"[0-9A-Fa-f]{0,4}"), "U": re.compile(r"[0-9A-Fa-f]{0,8}")}
_WHITESPACE = " \t\n\r"
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"'}


def tokenize(text: str, resolve: Callable[[str], object] | None = None) -> Iterator[Token]:
    """Tokens of a filter, scanned on demand so errors surface in tshark's order.

    Raises FilterError where tshark's scanner fails; with `resolve`, a `.name` that is not a
    field fails here too, as in tshark.
    """
    return _Scanner(text, resolve).run()


class _Scanner:
    """A hand-written scanner with tshark's three modes: normal, slice ranges and layer numbers."""

    def __init__(self, text: str, resolve: Callable[[str], object] | None) -> None:
        self.text = text
        self.resolve = resolve
        self.position = 0
        self.tokens: list[Token] = []

    def run(self) -> Iterator[Token]:
        """Scan token by token (a slice's ranges come as one batch)."""
        while True:
            self._skip_whitespace()
            if self.position >= len(self.text):
                return
            self._scan_token()
            yield from self.tokens
            self.tokens.clear()

    def _skip_whitespace(self) -> None:
        while self.position < len(self.text) and self.text[self.position] in _WHITESPACE:
            self.position += 1

    def _emit(self, kind: TokenKind, end: int, value: object = None) -> None:
        self.tokens.append(Token(kind, self.text[self.position:end], self.position, end, value))
        self.position = end

    def _scan_token(self) -> None:
        text, start = self.text, self.position
        character = text[start]
        if character == "[":
            self._emit(TokenKind.LBRACKET, start + 1)
            self._scan_ranges()
        elif character == "#":
            self._emit(TokenKind.HASH, start + 1)
            self._scan_layer()
        elif character == '"' or (character in "rR" and text.startswith('"', start + 1)):
            self._scan_string()
        elif character == "'":
            self._scan_charconst()
        elif not self._scan_word():
            for spelling, kind in _PUNCTUATION:
                if text.startswith(spelling, start):
                    self._emit(kind, start + len(spelling))
                    return
            if not character.isascii() or not character.isprintable():
                raise FilterError("Non-printable ASCII characters may only appear inside double-quotes.",
                                  start, start + 1)
            raise FilterError(f'"{character}" was unexpected in this context.', start, start + 1)

    def _scan_word(self) -> bool:
        """Scan the longest word-like token at the cursor (tie: literal forms first); False if none."""
        text, start = self.text, self.position
        candidates: list[tuple[int, TokenKind]] = []
        for pattern in (_COLON_BYTES, _IPV4, _COLON_HEX):
            match = pattern.match(text, start)
            if match:
                candidates.append((match.end(), TokenKind.LITERAL))
        ipv6_end = _ipv6_end(text, start)
        if ipv6_end:
            candidates.append((ipv6_end, TokenKind.LITERAL))
        word = _WORD.match(text, start)
        if word:
            kind = _KEYWORDS.get(word.group(), TokenKind.WORD)
            candidates.append((word.end(), kind))
        dotted = _DOTTED.match(text, start)
        if dotted:
            candidates.append((dotted.end(), TokenKind.DOTTED_FIELD))
        if not candidates:
            return False
        longest = max(end for end, _ in candidates)
        kind = next(kind for end, kind in candidates if end == longest)
        if kind is TokenKind.DOTTED_FIELD and self.resolve is not None \
                and self.resolve(text[start + 1:longest]) is None:
            raise FilterError(f'"{text[start + 1:longest]}" is not a valid protocol or protocol field.',
                              start, longest)
        self._emit(kind, longest)
        return True

    def _scan_ranges(self) -> None:
        """After `[`: range texts separated by commas up to `]` (whitespace kept, stripped later)."""
        text = self.text
        while True:
            if self.position >= len(text):
                raise FilterError("The right bracket was missing from a slice.", len(text), len(text) + 1)
            character = text[self.position]
            if character == "]":
                self._emit(TokenKind.RBRACKET, self.position + 1)
                return
            if character == ",":
                self._emit(TokenKind.COMMA, self.position + 1)
                continue
            end = self.position
            while end < len(text) and text[end] not in "],":
                end += 1
            self._emit(TokenKind.RANGE, end)

    def _scan_layer(self) -> None:
        """After `#`: a layer number, or `[` and layer ranges."""
        text, start = self.text, self.position
        if start >= len(text):
            raise FilterError("Unexpected end of filter expression.")
        if text[start] == "[":
            self._emit(TokenKind.LBRACKET, start + 1)
            self._scan_ranges()
            return
        end = start
        while end < len(text) and text[end].isdigit():
            end += 1
        if end == start:
            raise FilterError(f'Expected digit or "[", not "{text[start]}"', start, start + 1)
        self._emit(TokenKind.LAYER_INDEX, end)

    def _scan_string(self) -> None:
        """A double-quoted string (`r"…"` raw); its value is the bytes it stands for."""
        text, start = self.text, self.position
        raw = text[start] in "rR"
        cursor = start + (2 if raw else 1)
        value = bytearray()
        while True:
            if cursor >= len(text):
                raise FilterError("The final quote was missing from a quoted string.",
                                  len(text), len(text) + 1)
            character = text[cursor]
            if character == '"':
                self._emit(TokenKind.STRING, cursor + 1, bytes(value))
                return
            if character != "\\":
                value += character.encode("utf-8")
                cursor += 1
                continue
            if cursor + 1 >= len(text):
                raise FilterError("The final quote was missing from a quoted string.",
                                  len(text), len(text) + 1)
            escape_end, decoded = _decode_escape(text, cursor, raw)
            value += decoded
            cursor = escape_end

    def _scan_charconst(self) -> None:
        """A C character constant such as `'a'`, `'\\n'` or `'\\x41'`; its value is an int."""
        text, start = self.text, self.position
        cursor = start + 1
        while True:
            if cursor >= len(text):
                raise FilterError("The final quote was missing from a character constant.",
                                  len(text), len(text) + 1)
            if text[cursor] == "\\":
                cursor += 2
                continue
            if text[cursor] == "'":
                break
            cursor += 1
        spelling = text[start:cursor + 1]
        self._emit(TokenKind.CHARCONST, cursor + 1, _charconst_value(spelling, start))


def _ipv6_end(text: str, start: int) -> int:
    """The end of the longest IPv6 address (with optional /prefix) at `start`, or 0."""
    match = _IPV6_CANDIDATE.match(text, start)
    if not match or ":" not in match.group():
        return 0
    candidate = match.group()
    for length in range(len(candidate), 1, -1):
        piece = candidate[:length]
        if piece.count(":") < 2 or piece.endswith("."):
            continue
        try:
            ipaddress.IPv6Address(piece)
        except ValueError:
            continue
        end = start + length
        prefix = _IPV6_PREFIX.match(text, end)
        return prefix.end() if prefix else end
    return 0


def _decode_escape(text: str, cursor: int, raw: bool) -> tuple[int, bytes]:
    """Decode the escape sequence at `text[cursor] == '\\'`; returns (end, bytes)."""
    follower = text[cursor + 1]
    if follower in "01234567":
        match = _OCTAL_ESCAPE.match(text, cursor + 1)
        assert match is not None
        if raw:
            return match.end(), text[cursor:match.end()].encode()
        number = int(match.group(), 8)
        if number > 0xFF:
            raise FilterError(f"{text[cursor:match.end()]} is larger than 255.", cursor, match.end())
        return match.end(), bytes([number])
    if follower == "x":
        match = _HEX_ESCAPE.match(text, cursor + 2)
        if match:
            if raw:
                return match.end(), text[cursor:match.end()].encode()
            return match.end(), bytes([int(match.group(), 16)])
    if follower in "uU":
        digits = 4 if follower == "u" else 8
        match = _UNICODE_ESCAPES[follower].match(text, cursor + 2)
        assert match is not None
        spelling = text[cursor:match.end()]
        if raw:
            return match.end(), spelling.encode()
        code = int(match.group(), 16) if len(match.group()) == digits else -1
        if code < 0 or (code < 0xA0 and code not in (0x24, 0x40, 0x60)) or 0xD800 <= code <= 0xDFFF \
                or code > 0x10FFFF:
            raise FilterError(f"{spelling} is not a valid universal character name", cursor, match.end())
        return match.end(), chr(code).encode("utf-8")
    if raw:
        return cursor + 2, text[cursor:cursor + 2].encode("utf-8")
    if follower not in _SIMPLE_ESCAPES:
        raise FilterError(f"\\{follower} is not a valid character escape sequence", cursor, cursor + 2)
    return cursor + 2, _SIMPLE_ESCAPES[follower].encode()


def _charconst_value(spelling: str, start: int) -> int:
    """The byte value of a character constant, with tshark's messages for bad ones."""
    end = start + len(spelling)
    body = spelling[1:-1]
    if not body:
        raise FilterError("Empty character constant.", start, end)
    if body[0] != "\\":
        if len(body) > 1:
            raise FilterError(f"{spelling} is too long to be a valid character constant.", start, end)
        if not body.isascii() or not body.isprintable():
            raise FilterError(f"Non-printable value '0x{ord(body):02x}' in character constant.",
                              start, end)
        return ord(body)
    escape = body[1:]
    simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "'": 39, "\\": 92, '"': 34}
    if escape in simple:
        return simple[escape]
    if re.fullmatch(r"x[0-9A-Fa-f]{1,2}", escape):
        return int(escape[1:], 16)
    if re.fullmatch(r"[0-7]{1,3}", escape):
        value = int(escape, 8)
        if value > 0xFF:
            raise FilterError(f"{spelling} is too large to be a valid character constant.", start, end)
        return value
    if len(escape) > 1 and (escape[0] in simple or escape[0] in "x01234567"):
        raise FilterError(f"{spelling} is too long to be a valid character constant.", start, end)
    raise FilterError(f"{spelling} isn't a valid character constant.", start, end)
