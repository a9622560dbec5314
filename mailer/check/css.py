"""The checks' view of CSS: rules, at-rules and declarations, read by tinycss2 (no cssutils noise).

tinycss2 tokenises as browsers do, so `font-family: "A;B"` stays one declaration and
`url(data:...;base64,...)` one value; this module only turns its nodes into the small
`Rule`/`Declaration` records the checks walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tinycss2

_PROPERTY = re.compile(r"-?[a-z][a-z0-9-]*")


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


def serialize(tokens) -> str:
    """CSS text of component values, comments left out, whitespace runs made one space."""
    kept = [token for token in tokens or () if getattr(token, "type", "") != "comment"]
    return " ".join(tinycss2.serialize(kept).split())


def parse_declarations(text) -> list[Declaration]:
    """`color: red; padding: 0 !important` -> declarations (inline styles and rule bodies).

    `text` is a string or the tokens of a block. Custom properties and broken declarations are
    left out, as a browser would ignore the broken ones.
    """
    nodes = tinycss2.parse_declaration_list(text, skip_comments=True, skip_whitespace=True)
    result = []
    for node in nodes:
        if node.type != "declaration" or not _PROPERTY.fullmatch(node.lower_name):
            continue
        result.append(Declaration(node.lower_name, serialize(node.value), node.important))
    return result


def parse_stylesheet(css) -> list[Rule]:
    """Top-level rules of a style sheet; at-rules such as @media hold their nested rules."""
    nodes = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return _rules(nodes)


def _rules(nodes) -> list[Rule]:
    rules: list[Rule] = []
    for node in nodes:
        if node.type == "at-rule":
            prelude = f"@{node.at_keyword} {serialize(node.prelude)}".strip()
            rule = Rule(prelude, at_rule=True)
            if node.content is not None:
                if any(getattr(token, "type", "") == "{} block" for token in node.content):
                    nested = tinycss2.parse_rule_list(
                        node.content, skip_comments=True, skip_whitespace=True
                    )
                    rule.children = _rules(nested)
                else:
                    rule.declarations = parse_declarations(node.content)
            rules.append(rule)
        elif node.type == "qualified-rule":
            prelude = serialize(node.prelude)
            if prelude:
                rules.append(Rule(prelude, parse_declarations(node.content)))
    return rules


def walk(rules: list[Rule], parents: tuple[Rule, ...] = ()):
    """Yield (rule, enclosing at-rules) for every rule, depth first."""
    for rule in rules:
        yield rule, parents
        yield from walk(rule.children, (*parents, rule))
