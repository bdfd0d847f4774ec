"""Wireshark 4.0's deprecation warnings: a filter that compiles but uses syntax or names on their way out.

libwireshark 4.0 records two kinds of "deprecated tokens" while it compiles a filter (the GUI turns
the filter bar yellow for them; tshark accepts the filter silently): the `~=` operator (an old
spelling of `!==`) and protocol names kept as aliases of renamed protocols (`ssl` for `tls`,
`bootp` for `dhcp`). We report the same tokens, deduplicated and in the order libwireshark finds
them, as one sentence each.
"""
from __future__ import annotations

from typing import Callable

from tui_sniffer.dissect.fields import FieldDef
from tui_sniffer.filter.lexer import TokenKind, tokenize

PROTOCOL_ALIASES = {"ssl": "tls", "bootp": "dhcp"}
"""Old protocol names Wireshark 4.0 still resolves (with a deprecation warning) to the new ones."""

DEPRECATED_NOT_EQUAL = 'The operator "~=" is deprecated, use "!==" instead.'
"""libwireshark 4.0's own words for the `~=` token."""


def alias_target(name: str) -> str | None:
    """The current name for a field or protocol spelled with an alias (`ssl.record` → `tls.record`)."""
    head, dot, rest = name.partition(".")
    target = PROTOCOL_ALIASES.get(head)
    return f"{target}{dot}{rest}" if target else None


def with_aliases(resolve: Callable[[str], FieldDef | None]) -> Callable[[str], FieldDef | None]:
    """`resolve`, plus the aliased protocol names (which resolve to the renamed protocol's fields)."""
    def lookup(name: str) -> FieldDef | None:
        found = resolve(name)
        if found is None:
            target = alias_target(name)
            if target is not None:
                found = resolve(target)
        return found
    return lookup


def deprecated_tokens(text: str, resolve: Callable[[str], FieldDef | None]) -> list[str]:
    """The tokens libwireshark 4.0 flags in a filter that compiled (`resolve`: the lookup without aliases).

    Its parser resolves a field name when it reads the token after it, so an alias is ordered by
    where its next token starts (after a `~=` that starts there); repeats are left out.
    """
    tokens = list(tokenize(text))
    found: list[tuple[int, int, str]] = []
    for position, token in enumerate(tokens):
        if token.kind is TokenKind.ANY_NE and token.text == "~=":
            found.append((token.start, 0, DEPRECATED_NOT_EQUAL))
        elif token.kind in (TokenKind.WORD, TokenKind.DOTTED_FIELD):
            name = token.text.lstrip(".")
            target = alias_target(name)
            if target is not None and resolve(name) is None and resolve(target) is not None:
                following = tokens[position + 1].start if position + 1 < len(tokens) else len(text)
                found.append((following, 1, name))
    flagged: list[str] = []
    for _, _, token_text in sorted(found):
        if token_text.lower() not in (seen.lower() for seen in flagged):
            flagged.append(token_text)
    return flagged


def filter_warnings(text: str, resolve: Callable[[str], FieldDef | None]) -> tuple[str, ...]:
    """One sentence per deprecated token of a filter that compiled, the first being the one to show."""
    sentences: list[str] = []
    for token_text in deprecated_tokens(text, resolve):
        sentence = token_text if token_text == DEPRECATED_NOT_EQUAL else _alias_warning(token_text)
        if sentence not in sentences:
            sentences.append(sentence)
    return tuple(sentences)


def _alias_warning(name: str) -> str:
    """The sentence for an aliased name, naming the protocol it stands for."""
    protocol = name.split(".", 1)[0]
    return f'"{protocol}" is deprecated, please use "{PROTOCOL_ALIASES[protocol]}" instead.'
