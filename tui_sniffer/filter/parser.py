"""The display-filter parser: tokens → syntax tree, with Wireshark 4.0's grammar and precedence.

From loosest to tightest: `or`, `and`, `not`, relations (`==`, `contains`, `in`…), bitwise `&`,
`+ -`, `* / %`, unary minus. Arithmetic groups with braces, tests with parentheses. A syntax error
names the first token the grammar cannot take, as tshark's Lemon parser does.
"""
from __future__ import annotations

from typing import Callable, Iterator

from tui_sniffer.filter.errors import FilterError
from tui_sniffer.filter.lexer import COMPARISON_KINDS, Token, TokenKind, tokenize
from tui_sniffer.filter.syntax import (Arithmetic, Call, CharConst, Comparison, DottedField, Layer,
                                       Logical, Negate, Node, Not, Range, Reference, SetElement, Slice,
                                       String, Word)

_RELATION_NAMES = {kind: kind.value for kind in COMPARISON_KINDS} | {
    TokenKind.CONTAINS: "contains", TokenKind.MATCHES: "matches"}
_ADDITIVE = {TokenKind.PLUS: "+", TokenKind.MINUS: "-"}
_MULTIPLICATIVE = {TokenKind.STAR: "*", TokenKind.SLASH: "/", TokenKind.PERCENT: "%"}


def parse(text: str, resolve: Callable[[str], object] | None = None) -> Node | None:
    """Parse a display filter; None for an empty (all-blank) filter. Raises FilterError.

    With `resolve`, `.name` tokens are checked against the registry while scanning, as tshark does.
    """
    return _Parser(tokenize(text, resolve)).parse_sentence()


class _Parser:
    """Recursive descent pulling tokens one at a time, one method per grammar level."""

    def __init__(self, tokens: Iterator[Token]) -> None:
        self.source = tokens
        self.tokens: list[Token] = []
        self.index = 0

    # -- token helpers -------------------------------------------------------------------------

    def peek(self) -> Token | None:
        while self.index >= len(self.tokens):
            token = next(self.source, None)
            if token is None:
                return None
            self.tokens.append(token)
        return self.tokens[self.index]

    def at(self, *kinds: TokenKind) -> bool:
        token = self.peek()
        return token is not None and token.kind in kinds

    def advance(self) -> Token:
        token = self.peek()
        if token is None:
            raise _unexpected(None)
        self.index += 1
        return token

    def expect(self, kind: TokenKind) -> Token:
        token = self.peek()
        if token is None or token.kind is not kind:
            raise _unexpected(token)
        self.index += 1
        return token

    # -- tests -----------------------------------------------------------------------------------

    def parse_sentence(self) -> Node | None:
        if self.peek() is None:
            return None
        node = self.parse_or()
        if self.peek() is not None:
            raise _unexpected(self.peek())
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.at(TokenKind.OR):
            self.advance()
            right = self.parse_and()
            node = Logical("or", node, right, node.start, right.end)
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.at(TokenKind.AND):
            self.advance()
            right = self.parse_not()
            node = Logical("and", node, right, node.start, right.end)
        return node

    def parse_not(self) -> Node:
        if self.at(TokenKind.NOT):
            token = self.advance()
            operand = self.parse_not()
            return Not(operand, token.start, operand.end)
        return self.parse_primary_test()

    def parse_primary_test(self) -> Node:
        if self.at(TokenKind.LPAREN):
            self.advance()
            node = self.parse_or()
            self.expect(TokenKind.RPAREN)
            return node
        if self.at(TokenKind.ANY, TokenKind.ALL):
            quantifier = self.advance().text
            return self.parse_relation(quantifier, require_relation=True)
        return self.parse_relation(None, require_relation=False)

    def parse_relation(self, quantifier: str | None, *, require_relation: bool) -> Node:
        """A comparison chain, `contains`, `matches`, `in`, `not in`, or a bare arithmetic test."""
        left = self.parse_arithmetic()
        token = self.peek()
        if token is not None and token.kind in COMPARISON_KINDS:
            return self.parse_comparison_chain(left, quantifier)
        is_entity = not isinstance(left, (Arithmetic, Negate))
        if token is not None and is_entity and token.kind in (TokenKind.CONTAINS, TokenKind.MATCHES):
            self.advance()
            right = self.parse_entity()
            return Comparison(_RELATION_NAMES[token.kind], left, right, left.start, right.end,
                              token.start, token.end, quantifier)
        if token is not None and is_entity and token.kind is TokenKind.IN:
            self.advance()
            elements, end = self.parse_set()
            return Comparison("in", left, elements, left.start, end, token.start, token.end, quantifier)
        if token is not None and is_entity and token.kind is TokenKind.NOT:
            self.advance()
            in_token = self.expect(TokenKind.IN)
            elements, end = self.parse_set()
            membership = Comparison("in", left, elements, left.start, end, in_token.start,
                                    in_token.end)
            return Not(membership, left.start, end)
        if require_relation:
            raise _unexpected(token)
        return left

    def parse_comparison_chain(self, left: Node, quantifier: str | None) -> Node:
        """`a < b <= c` means `a < b and b <= c`, as in Wireshark."""
        token = self.advance()
        right = self.parse_arithmetic()
        comparison = Comparison(_RELATION_NAMES[token.kind], left, right, left.start, right.end,
                                token.start, token.end, quantifier)
        if self.peek() is not None and self.peek().kind in COMPARISON_KINDS:
            rest = self.parse_comparison_chain(right, quantifier)
            return Logical("and", comparison, rest, comparison.start, rest.end)
        return comparison

    def parse_set(self) -> tuple[tuple[SetElement, ...], int]:
        self.expect(TokenKind.LBRACE)
        elements = [self.parse_set_element()]
        while self.at(TokenKind.COMMA):
            self.advance()
            elements.append(self.parse_set_element())
        closing = self.expect(TokenKind.RBRACE)
        return tuple(elements), closing.end

    def parse_set_element(self) -> SetElement:
        low = self.parse_signed_entity()
        if self.at(TokenKind.DOTDOT):
            self.advance()
            return SetElement(low, self.parse_signed_entity())
        return SetElement(low, None)

    def parse_signed_entity(self) -> Node:
        if self.at(TokenKind.PLUS):
            self.advance()
            return self.parse_entity()
        if self.at(TokenKind.MINUS):
            token = self.advance()
            operand = self.parse_entity()
            return Negate(operand, token.start, operand.end)
        return self.parse_entity()

    # -- arithmetic ------------------------------------------------------------------------------

    def parse_arithmetic(self) -> Node:
        node = self.parse_additive()
        while self.at(TokenKind.BITWISE_AND):
            self.advance()
            right = self.parse_additive()
            node = Arithmetic("&", node, right, node.start, right.end)
        return node

    def parse_additive(self) -> Node:
        node = self.parse_multiplicative()
        while self.at(*_ADDITIVE):
            operator = _ADDITIVE[self.advance().kind]
            right = self.parse_multiplicative()
            node = Arithmetic(operator, node, right, node.start, right.end)
        return node

    def parse_multiplicative(self) -> Node:
        node = self.parse_unary()
        while self.at(*_MULTIPLICATIVE):
            operator = _MULTIPLICATIVE[self.advance().kind]
            right = self.parse_unary()
            node = Arithmetic(operator, node, right, node.start, right.end)
        return node

    def parse_unary(self) -> Node:
        if self.at(TokenKind.LBRACE):
            self.advance()
            node = self.parse_arithmetic()
            self.expect(TokenKind.RBRACE)
            return node
        return self.parse_signed_entity()

    # -- entities --------------------------------------------------------------------------------

    def parse_entity(self) -> Node:
        """An atom, field (with optional layer), function call, or any of those sliced."""
        token = self.advance()
        node: Node
        if token.kind is TokenKind.STRING:
            node = String(token.value, token.text, token.start, token.end)
        elif token.kind is TokenKind.CHARCONST:
            node = CharConst(token.value, token.text, token.start, token.end)
        elif token.kind is TokenKind.LITERAL:
            node = Word(token.text, token.start, token.end, is_literal=True)
        elif token.kind is TokenKind.DOTTED_FIELD:
            node = self.parse_layer(DottedField(token.text[1:], token.start, token.end))
        elif token.kind is TokenKind.DOLLAR:
            self.expect(TokenKind.LBRACE)
            name = self.advance()
            if name.kind not in (TokenKind.WORD, TokenKind.DOTTED_FIELD):
                raise _unexpected(name)
            target = self.parse_layer(Word(name.text, name.start, name.end))
            node = Reference(target, token.start, self.expect(TokenKind.RBRACE).end)
        elif token.kind is TokenKind.WORD:
            if self.at(TokenKind.LPAREN):
                node = self.parse_call(token)
            else:
                node = self.parse_layer(Word(token.text, token.start, token.end))
        else:
            raise _unexpected(token)
        while self.at(TokenKind.LBRACKET):
            ranges, end = self.parse_ranges()
            node = Slice(node, ranges, node.start, end)
        return node

    def parse_layer(self, node: Word | DottedField) -> Node:
        if not self.at(TokenKind.HASH):
            return node
        self.advance()
        if self.at(TokenKind.LAYER_INDEX):
            token = self.advance()
            return Layer(node, (Range(token.text, token.start, token.end),), node.start, token.end)
        ranges, end = self.parse_ranges()
        return Layer(node, ranges, node.start, end)

    def parse_ranges(self) -> tuple[tuple[Range, ...], int]:
        self.expect(TokenKind.LBRACKET)
        ranges = [self.parse_range()]
        while self.at(TokenKind.COMMA):
            self.advance()
            ranges.append(self.parse_range())
        closing = self.expect(TokenKind.RBRACKET)
        return tuple(ranges), closing.end

    def parse_range(self) -> Range:
        token = self.expect(TokenKind.RANGE)
        return Range(token.text, token.start, token.end)

    def parse_call(self, name: Token) -> Call:
        self.expect(TokenKind.LPAREN)
        arguments: list[Node] = []
        if not self.at(TokenKind.RPAREN):
            arguments.append(self.parse_arithmetic())
            while self.at(TokenKind.COMMA):
                self.advance()
                arguments.append(self.parse_arithmetic())
        closing = self.expect(TokenKind.RPAREN)
        return Call(name.text, tuple(arguments), name.start, closing.end, name.end)


def _unexpected(token: Token | None) -> FilterError:
    """Lemon's syntax error: the token it could not take, or the end of the filter."""
    if token is None:
        return FilterError("Unexpected end of filter expression.")
    return FilterError(f'"{token.text}" was unexpected in this context.', token.start, token.end)
