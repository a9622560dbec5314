"""Segments: which subscribers an expression such as `län = Örebro and roll != ordförande` picks.

The language, small on purpose (documented in README, "Segments"):

    expression := term { "or" term }
    term       := factor { "and" factor }
    factor     := "not" factor | "(" expression ")" | condition
    condition  := FIELD "=" VALUE | FIELD "!=" VALUE
                | FIELD ["not"] "in" "(" VALUE { "," VALUE } ")"
                | FIELD "is" ["not"] "empty"

FIELD is a custom field (`län`, `organisation`) or `language`. VALUE is a word or several
(`Västra Götaland`), or text in quotes ("a, b" or 'and'). Keywords and values compare without
regard to case (`örebro` matches `Örebro`). A person without the field is empty: `län != Örebro`
picks them, `län = Örebro` does not. The parser builds parameterised SQL itself: no text
from the user ever becomes SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import SubscriberError
from .fields import clean_field_name, fold, install_fold

MAX_LENGTH = 1000
MAX_DEPTH = 20
KEYWORDS = {"and", "or", "not", "in", "is", "empty"}
TOKEN = re.compile(
    r"""\s*(?:(?P<op>!=|=|\(|\)|,)|"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<word>[^\s()=,!"']+))"""
)
BUILT_IN = {"language": "s.language"}


class SegmentError(SubscriberError):
    """The segment expression cannot be read; the message says where and what was expected."""


@dataclass(frozen=True)
class Segment:
    """A parsed segment: `text` is its canonical form (stored with a send), `sql` a WHERE
    fragment over `subscribers s` with `?` placeholders, `params` their values."""

    text: str
    sql: str
    params: tuple

    def matching_ids(self, db: Database) -> set[int]:
        """Ids of everyone (any status) the segment picks; the send intersects with its list."""
        install_fold(db)
        query = f"SELECT s.id FROM subscribers s WHERE {self.sql}"  # noqa: S608 - parser-built, values are parameters
        return {row[0] for row in db.execute(query, list(self.params))}


def parse_segment(expression: str) -> Segment:
    """Parse `expression`; SegmentError naming the position of the first problem."""
    if not isinstance(expression, str) or not expression.strip():
        raise SegmentError('the segment is empty; write e.g. --segment "län = Örebro"')
    if len(expression) > MAX_LENGTH:
        raise SegmentError(f"the segment is longer than {MAX_LENGTH} characters")
    parser = _Parser(expression)
    text, sql, params = parser.expression(0)
    if parser.peek() is not None:
        parser.fail(f"did not expect {parser.peek()[1]!r}")
    return Segment(text, sql, tuple(params))


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, position)
        self.index = 0
        position = 0
        while position < len(source):
            if source[position:].strip() == "":
                break
            match = TOKEN.match(source, position)
            if not match or match.end() == position:
                stray = source[position:].lstrip()
                where = len(source) - len(stray)
                self.fail(_cannot_read(stray), where)
            kind = match.lastgroup
            text = match.group(kind)
            start = match.start(kind)
            if kind == "word" and text.lower() in KEYWORDS:
                kind, text = "keyword", text.lower()
            elif kind in ("dq", "sq"):
                kind = "string"
            self.tokens.append((kind, text, start))
            position = match.end()

    def fail(self, what: str, where: int | None = None):
        """Raise SegmentError naming the 1-based character `where` (default: the next token)."""
        if where is None:
            token = self.peek()
            where = token[2] if token else len(self.source)
        raise SegmentError(
            f"segment {self.source!r}, at character {where + 1}: {what}; "
            "see README, Segments (e.g. län = Örebro and roll in (ordförande, kassör))"
        )

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token and token[0] == kind and (text is None or token[1] == text):
            self.index += 1
            return True
        return False

    def expect(self, kind: str, text: str, what: str) -> None:
        if not self.accept(kind, text):
            found = self.peek()
            self.fail(f"expected {what}" + (f", found {found[1]!r}" if found else ""))

    def expression(self, depth: int):
        text, sql, params = self.term(depth)
        while self.accept("keyword", "or"):
            t, s, p = self.term(depth)
            text, sql, params = f"{text} or {t}", f"({sql} OR {s})", params + p
        return text, sql, params

    def term(self, depth: int):
        text, sql, params = self.factor(depth)
        while self.accept("keyword", "and"):
            t, s, p = self.factor(depth)
            text, sql, params = f"{_group(text)} and {_group(t)}", f"({sql} AND {s})", params + p
        return text, sql, params

    def factor(self, depth: int):
        if depth > MAX_DEPTH:
            self.fail(f"more than {MAX_DEPTH} levels of brackets or 'not'")
        if self.accept("keyword", "not"):
            text, sql, params = self.factor(depth + 1)
            return f"not {_group(text)}", f"(NOT {sql})", params
        if self.accept("op", "("):
            text, sql, params = self.expression(depth + 1)
            self.expect("op", ")", "')'")
            return f"({text})", sql, params
        return self.condition()

    def condition(self):
        token = self.peek()
        if token is None or token[0] != "word":
            self.fail("expected a field name" + (f", found {token[1]!r}" if token else ""))
        self.index += 1
        field = token[1].lower()
        if field not in BUILT_IN:
            try:
                field = clean_field_name(token[1])
            except SubscriberError as exc:
                self.index -= 1
                self.fail(str(exc))
        if self.accept("op", "="):
            value = self.value()
            return f"{field} = {_quote(value)}", *_compare(field, "IN", [value])
        if self.accept("op", "!="):
            value = self.value()
            sql, params = _compare(field, "IN", [value])
            return f"{field} != {_quote(value)}", f"(NOT {sql})", params
        negated = self.accept("keyword", "not")
        if self.accept("keyword", "in"):
            self.expect("op", "(", "'(' after 'in'")
            values = [self.value()]
            while self.accept("op", ","):
                values.append(self.value())
            self.expect("op", ")", "')' or ',' in the list")
            sql, params = _compare(field, "IN", values)
            listed = ", ".join(_quote(v) for v in values)
            if negated:
                return f"{field} not in ({listed})", f"(NOT {sql})", params
            return f"{field} in ({listed})", sql, params
        if negated:
            self.fail("expected 'in' after 'not'")
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not")
            self.expect("keyword", "empty", "'empty' after 'is'")
            sql, params = _empty(field)
            if negated:
                return f"{field} is not empty", f"(NOT {sql})", params
            return f"{field} is empty", sql, params
        self.fail(f"expected =, !=, in or 'is empty' after {token[1]!r}")

    def value(self) -> str:
        token = self.peek()
        if token and token[0] == "string":
            self.index += 1
            return token[1]
        words = []
        while (token := self.peek()) and token[0] == "word":
            words.append(token[1])
            self.index += 1
        if not words:
            self.fail("expected a value" + (f", found {token[1]!r}" if token else ""))
        return " ".join(words)


def _cannot_read(stray: str) -> str:
    """What went wrong where the tokenizer stopped: an unclosed quote or a lone '!'."""
    if stray[:1] in "\"'":
        return f"the quote {stray[0]} is never closed; close it or remove it"
    if stray[:1] == "!":
        return "'!' is only allowed in '!='; write 'not' or '!='"
    return f"cannot read {stray[:10]!r}"


def _compare(field: str, op: str, values: list[str]) -> tuple[str, list]:
    marks = ", ".join("?" for _ in values)
    folded = [fold(v) for v in values]
    if field in BUILT_IN:
        return f"nl_fold({BUILT_IN[field]}) {op} ({marks})", folded
    sql = (
        "EXISTS (SELECT 1 FROM subscriber_fields f WHERE f.subscriber_id = s.id "  # noqa: S608 - only placeholders are formatted in
        f"AND f.name = ? AND nl_fold(f.value) {op} ({marks}))"
    )
    return sql, [field, *folded]


def _empty(field: str) -> tuple[str, list]:
    if field in BUILT_IN:
        return f"coalesce({BUILT_IN[field]}, '') = ''", []
    return (
        "NOT EXISTS (SELECT 1 FROM subscriber_fields f WHERE f.subscriber_id = s.id "
        "AND f.name = ?)",
        [field],
    )


def _quote(value: str) -> str:
    """A value as the canonical text writes it: bare when it reads back the same."""
    bare = all(
        re.fullmatch(r"[^\s()=,!\"']+", word) and word.lower() not in KEYWORDS
        for word in value.split(" ")
    )
    if value and bare and "  " not in value:
        return value
    return f"'{value}'" if "'" not in value else f'"{value}"'


def _group(text: str) -> str:
    """Brackets around an 'or' inside an 'and' or 'not', so the canonical text reads back
    with the same meaning."""
    return f"({text})" if " or " in text and not text.startswith("(") else text
