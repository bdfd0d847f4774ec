"""Scanner and parser: filter text → syntax tree shape, or a syntax error with tshark's message and span."""
from __future__ import annotations

import pytest

from tui_sniffer.filter.errors import FilterError, format_error
from tui_sniffer.filter.parser import parse
from tui_sniffer.filter.syntax import (Arithmetic, Call, CharConst, Comparison, DottedField, Layer,
                                       Logical, Negate, Not, Reference, Slice, String, Word)


def shape(node) -> str:
    """A compact s-expression of a syntax tree, for readable expectations."""
    if isinstance(node, Word):
        return node.text
    if isinstance(node, DottedField):
        return "." + node.name
    if isinstance(node, (String, CharConst)):
        return node.text
    if isinstance(node, Layer):
        return f"{shape(node.target)}#{','.join(piece.text for piece in node.ranges)}"
    if isinstance(node, Reference):
        return f"${{{shape(node.target)}}}"
    if isinstance(node, Slice):
        return f"{shape(node.target)}[{','.join(piece.text for piece in node.ranges)}]"
    if isinstance(node, Call):
        return f"{node.name}({' '.join(shape(argument) for argument in node.arguments)})"
    if isinstance(node, Negate):
        return f"(- {shape(node.operand)})"
    if isinstance(node, (Arithmetic, Logical)):
        return f"({node.operator} {shape(node.left)} {shape(node.right)})"
    if isinstance(node, Not):
        return f"(not {shape(node.operand)})"
    if isinstance(node, Comparison):
        prefix = f"{node.quantifier} " if node.quantifier else ""
        if node.operator == "in":
            members = ", ".join(shape(element.low) + (f"..{shape(element.high)}" if element.high else "")
                                for element in node.right)
            return f"({prefix}in {shape(node.left)} {{{members}}})"
        return f"({prefix}{node.operator} {shape(node.left)} {shape(node.right)})"
    raise TypeError(node)


@pytest.mark.parametrize("text, expected", [
    ("tcp", "tcp"),
    ("!arp", "(not arp)"),
    ("not tcp and ip", "(and (not tcp) ip)"),
    ("a and b or not c or d and not e or f", "(or (or (or (and a b) (not c)) (and d (not e))) f)"),
    ("a || b && c", "(or a (and b c))"),
    ("(a or b) and c", "(and (or a b) c)"),
    ("tcp.port == 80", "(== tcp.port 80)"),
    ("tcp.port eq 80", "(== tcp.port 80)"),
    ("tcp.port any_eq 80", "(== tcp.port 80)"),
    ("tcp.port ne 80", "(!= tcp.port 80)"),
    ("tcp.port all_ne 80", "(!= tcp.port 80)"),
    ("ip.addr === 1.2.3.4", "(=== ip.addr 1.2.3.4)"),
    ("ip.addr all_eq 1.2.3.4", "(=== ip.addr 1.2.3.4)"),
    ("ip.addr !== 1.2.3.4", "(!== ip.addr 1.2.3.4)"),
    ("ip.addr any_ne 1.2.3.4", "(!== ip.addr 1.2.3.4)"),
    ("a gt 1 and b ge 2 and c lt 3 and d le 4", "(and (and (and (> a 1) (>= b 2)) (< c 3)) (<= d 4))"),
    ("tcp.port>=80&&ip", "(and (>= tcp.port 80) ip)"),
    ("ip.src==10.0.0.1", "(== ip.src 10.0.0.1)"),
    ("!tcp.port == 80", "(not (== tcp.port 80))"),
    ("any ip.addr != 1.1.1.1", "(any != ip.addr 1.1.1.1)"),
    ("all tcp.port > 1024", "(all > tcp.port 1024)"),
    ("a < b <= c", "(and (< a b) (<= b c))"),
    ("frame contains \"GET\"", "(contains frame \"GET\")"),
    ("http.host matches \"^a\"", "(matches http.host \"^a\")"),
    ("http.host ~ r\"\\d\"", "(matches http.host r\"\\d\")"),
    ("tcp.port in {80, 443, 8000..8080}", "(in tcp.port {80, 443, 8000..8080})"),
    ("tcp.port in {80 .. 81}", "(in tcp.port {80..81})"),
    ("tcp.port not in {80}", "(not (in tcp.port {80}))"),
    ("ip.addr in {10.0.0.5..10.0.0.9}", "(in ip.addr {10.0.0.5..10.0.0.9})"),
    ("x in {-1..+2}", "(in x {(- 1)..2})"),
    ("tcp.flags & 0x02", "(& tcp.flags 0x02)"),
    ("tcp.flags bitwise_and 2 == 2", "(== (& tcp.flags 2) 2)"),
    ("a & b + c * d", "(& a (+ b (* c d)))"),
    ("tcp.dstport >= 4 * {tcp.srcport + 3}", "(>= tcp.dstport (* 4 (+ tcp.srcport 3)))"),
    ("tcp.srcport-1 == 1", "(== tcp.srcport-1 1)"),
    ("tcp.srcport -1 == 1", "(== (- tcp.srcport 1) 1)"),
    ("-tcp.port == -80", "(== (- tcp.port) (- 80))"),
    ("eth.src[0:3] == 00:00:83", "(== eth.src[0:3] 00:00:83)"),
    ("frame[-4:] == 0.1.2.3", "(== frame[-4:] 0.1.2.3)"),
    ("ftp[1,3-5,9:] == 01:03", "(== ftp[1,3-5,9:] 01:03)"),
    ("frame[ 0:2 ] == ff:ff", "(== frame[ 0:2 ] ff:ff)"),
    ("frame[0:4][1] == 0", "(== frame[0:4][1] 0)"),
    ("ip.addr#2 == 1.1.1.1", "(== ip.addr#2 1.1.1.1)"),
    ("tcp.port#[2-4] == 1", "(== tcp.port#2-4 1)"),
    (".tcp.port == 80", "(== .tcp.port 80)"),
    ("len(http.host) > 3", "(> len(http.host) 3)"),
    ("max(a, b, 5) == 5", "(== max(a b 5) 5)"),
    ("len() == 1", "(== len() 1)"),
    ("ip.addr == 10.0.0.0/8", "(== ip.addr 10.0.0.0/8)"),
    ("ipv6.addr == fe80::/64", "(== ipv6.addr fe80::/64)"),
    ("ipv6.addr == ::ffff:1.2.3.4", "(== ipv6.addr ::ffff:1.2.3.4)"),
    ("eth.dst == ff-ff-ff-ff-ff-ff", "(== eth.dst ff-ff-ff-ff-ff-ff)"),
    ("x == 'a'", "(== x 'a')"),
    ("frame.len in {60...80}", "(in frame.len {60...80})"),
    ("ip.src == ${ip.src}", "(== ip.src ${ip.src})"),
    ("frame.time_relative >= ${frame.time_relative} - 300",
     "(>= frame.time_relative (- ${frame.time_relative} 300))"),
])
def test_parse_shape(text, expected):
    assert shape(parse(text)) == expected


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_blank_filter_parses_to_nothing(text):
    assert parse(text) is None


SYNTAX_ERRORS = [
    ("tcp and", "Unexpected end of filter expression.", None),
    ("tcp.port ==", "Unexpected end of filter expression.", None),
    ("(tcp", "Unexpected end of filter expression.", None),
    ("any tcp", "Unexpected end of filter expression.", None),
    ("not", "Unexpected end of filter expression.", None),
    ("ip.addr#", "Unexpected end of filter expression.", None),
    ("tcp)", '")" was unexpected in this context.', (3, 4)),
    ("()", '")" was unexpected in this context.', (1, 2)),
    ("tcp and and udp", '"and" was unexpected in this context.', (8, 11)),
    ("tcp not udp", '"udp" was unexpected in this context.', (8, 11)),
    ("tcp.port == 80 80", '"80" was unexpected in this context.', (15, 17)),
    ("tcp.port in {80 443}", '"443" was unexpected in this context.', (16, 19)),
    ("tcp.port in {}", '"}" was unexpected in this context.', (13, 14)),
    ("tcp.port in {80 ,}", '"}" was unexpected in this context.', (17, 18)),
    ("tcp.port eq80", '"eq80" was unexpected in this context.', (9, 13)),
    ("tcp.port == 80 andip", '"andip" was unexpected in this context.', (15, 20)),
    ("tcp.port == 80 AND ip", '"AND" was unexpected in this context.', (15, 18)),
    ("tcp.port bitand 2", '"bitand" was unexpected in this context.', (9, 15)),
    ("tcp ^^ udp", '"^" was unexpected in this context.', (4, 5)),
    ("tcp.port !=== 80", '"=" was unexpected in this context.', (12, 13)),
    ("tcp.port == 80 ||| ip", '"|" was unexpected in this context.', (17, 18)),
    ("tcp.port == a.", '"." was unexpected in this context.', (13, 14)),
    ("tcp.port == a..b", '".." was unexpected in this context.', (13, 15)),
    ("tcp.port == ab?", '"?" was unexpected in this context.', (14, 15)),
    ("eth.src[0:3] == 0:0:83", '":0" was unexpected in this context.', (17, 19)),
    ("eth.src[0:3] == 00:00:83:", '":" was unexpected in this context.', (24, 25)),
    ("ipv6.addr == 1::2::3", '"::3" was unexpected in this context.', (17, 20)),
    ("ip.addr in {10.0.0.0/8 127.0.0.1}", '"127.0.0.1" was unexpected in this context.', (23, 32)),
    ("http.host ~ \"a\" \"b\"", '""b"" was unexpected in this context.', (16, 19)),
    ("frame[] == 1", '"]" was unexpected in this context.', (6, 7)),
    ("frame[1,] == 1", '"]" was unexpected in this context.', (8, 9)),
    ("ip.addr#1:2 == 1.1.1.1", '":2" was unexpected in this context.', (9, 11)),
    ("tcp.port + 1 contains 1", '"contains" was unexpected in this context.', (13, 21)),
    ("http.host == é", "Non-printable ASCII characters may only appear inside double-quotes.", (13, 14)),
    ("tcp.port == \"8", "The final quote was missing from a quoted string.", (14, 15)),
    ("tcp.port == '8", "The final quote was missing from a character constant.", (14, 15)),
    ("frame[1", "The right bracket was missing from a slice.", (7, 8)),
    ("ip.addr#[", "The right bracket was missing from a slice.", (9, 10)),
    ("ip.addr# == 1.1.1.1", 'Expected digit or "[", not " "', (8, 9)),
    ("ip.addr#a == 1.1.1.1", 'Expected digit or "[", not "a"', (8, 9)),
    ("frame contains \"\\q\"", "\\q is not a valid character escape sequence", (16, 18)),
    ("frame contains \"\\400\"", "\\400 is larger than 255.", (16, 20)),
    ("frame contains \"\\u0041\"", "\\u0041 is not a valid universal character name", (16, 22)),
    ("frame.len > ''", "Empty character constant.", (12, 14)),
    ("frame.len > '\\q'", "'\\q' isn't a valid character constant.", (12, 16)),
    ("tcp.port == 'PP'", "'PP' is too long to be a valid character constant.", (12, 16)),
]
"""Syntax errors with tshark 4.0's message and span (None: tshark gives no position)."""


@pytest.mark.parametrize("text, message, span", SYNTAX_ERRORS)
def test_syntax_errors(text, message, span):
    with pytest.raises(FilterError) as caught:
        parse(text)
    assert caught.value.message == message
    assert (None if caught.value.start is None else (caught.value.start, caught.value.end)) == span


@pytest.mark.parametrize("text, value", [
    ('"GET"', b"GET"),
    ('"\\x47ET"', b"GET"),
    ('"\\110EAD"', b"HEAD"),
    ('"a\\"b"', b'a"b'),
    ('"\\\\\\\\SERVER"', b"\\\\SERVER"),
    ('r"\\\\SERVER\\SHARE"', b"\\\\SERVER\\SHARE"),
    ('r"\\x47"', b"\\x47"),
    ('"\\x4"', b"\x04"),
    ('"\\t\\n"', b"\t\n"),
    ('"\\u00e9"', "é".encode()),
    ('"é"', "é".encode()),
])
def test_string_escapes(text, value):
    assert parse(f"x == {text}").right.value == value


@pytest.mark.parametrize("text, value", [("'a'", 97), ("'\\n'", 10), ("'\\x0a'", 10), ("'\\012'", 10),
                                         ("'\\''", 39), ("'\\\\'", 92)])
def test_character_constants(text, value):
    assert parse(f"x == {text}").right.value == value


@pytest.mark.parametrize("text, error, printed", [
    ("tcp.prt == 1", FilterError("boom", 0, 7), "boom\n    tcp.prt == 1\n    ^~~~~~~"),
    ("a == 1", FilterError("one", 5, 6), "one\n    a == 1\n         ^"),
    ("tcp and", FilterError("Unexpected end of filter expression."), "Unexpected end of filter expression."),
    ("x == \"8", FilterError("eof", 7, 8), "eof\n    x == \"8\n           ^"),
])
def test_format_error_draws_a_caret_line_like_tshark(text, error, printed):
    assert format_error(text, error) == printed
