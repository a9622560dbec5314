"""A small CSS reader for the checks: rules, at-rules and declarations, without cssutils' noise."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMENT = re.compile(r"/\*.*?\*/", re.S)


@dataclass
class Rule:
    """A qualified rule (`selector { declarations }`) or an at-rule with nested rules."""

    prelude: str
    declarations: list[Declaration] = field(default_factory=list)
    children: list[Rule] = field(default_factory=list)
    at_rule: bool = False

    @property
    def at_name(self) -> str:
        return self.prelude.split(None, 1)[0][1:].lower() if self.at_rule else ""


@dataclass(frozen=True)
class Declaration:
    prop: str
    value: str
    important: bool


def strip_comments(css: str) -> str:
    return _COMMENT.sub(" ", css)


def parse_declarations(text: str) -> list[Declaration]:
    """`color: red; padding: 0 !important` -> declarations (inline styles and rule bodies)."""
    result = []
    for chunk in _split_outside_parens(text, ";"):
        prop, sep, value = chunk.partition(":")
        prop = prop.strip().lower()
        if not sep or not prop or not re.fullmatch(r"-?[a-z][a-z0-9-]*", prop):
            continue
        value = value.strip()
        important = bool(re.search(r"!\s*important\s*$", value, re.I))
        if important:
            value = re.sub(r"!\s*important\s*$", "", value, flags=re.I).strip()
        result.append(Declaration(prop, value, important))
    return result


def parse_stylesheet(css: str) -> list[Rule]:
    """Top-level rules of a style sheet; at-rules such as @media hold their nested rules."""
    css = strip_comments(css)
    rules: list[Rule] = []
    pos = 0
    while pos < len(css):
        brace = css.find("{", pos)
        semicolon = css.find(";", pos)
        if semicolon != -1 and (brace == -1 or semicolon < brace):
            prelude = css[pos:semicolon].strip()
            if prelude.startswith("@"):
                rules.append(Rule(prelude, at_rule=True))
            pos = semicolon + 1
            continue
        if brace == -1:
            break
        prelude = css[pos:brace].strip()
        end = _matching_brace(css, brace)
        body = css[brace + 1 : end]
        if prelude.startswith("@"):
            rule = Rule(prelude, at_rule=True)
            if "{" in body:
                rule.children = parse_stylesheet(body)
            else:
                rule.declarations = parse_declarations(body)
            rules.append(rule)
        elif prelude:
            rules.append(Rule(prelude, parse_declarations(body)))
        pos = end + 1
    return rules


def walk(rules: list[Rule], parents: tuple[Rule, ...] = ()):
    """Yield (rule, enclosing at-rules) for every rule, depth first."""
    for rule in rules:
        yield rule, parents
        yield from walk(rule.children, (*parents, rule))


def _matching_brace(css: str, start: int) -> int:
    depth = 0
    for index in range(start, len(css)):
        if css[index] == "{":
            depth += 1
        elif css[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return len(css)


def _split_outside_parens(text: str, separator: str) -> list[str]:
    """Split on `separator` except inside parentheses (`url(data:...;base64,...)`)."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
