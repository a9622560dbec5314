"""CSS inlining for email clients: lxml finds the elements, tinycss2 reads the rules.

It does what premailer did for us (NOTES "Rendering email"), with the settings we used, in a
tenth of the time and without cssutils: every plain rule of a `<style>` block is written into
the `style` attribute of the elements it selects (specificity and source order decide, the
element's own `style` wins, `!important` is kept); what cannot be inlined (`@media`, rules
with pseudo-classes) stays in the `<style>` block, which is dropped when nothing is left; a
`<style data-premailer="ignore">` block is left as written. Elements that got styles also get
`align`, `valign` and `bgcolor` attributes from `text-align`, `vertical-align` and
`background-color` for Outlook; `width` and `height` attributes are never touched (an
`<img width="600">` must stay unitless for Outlook). Nothing is fetched from the network.
"""

from __future__ import annotations

import functools
import re

import tinycss2
from lxml import etree

DOCTYPE = "<!DOCTYPE html>"
IGNORE = "data-premailer"
_SHORT_HEX = re.compile(r"^#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$")
# `tag`, `.class`, `tag.class.other`: the compounds the templates use, matched without cssselect
_COMPOUND = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)?((?:\.[A-Za-z_][\w-]*)*)")


def _text(tokens) -> str:
    """Minified CSS text of tokens: no comments, one space for a run, none after a comma."""
    kept, after_comma = [], False
    for token in tokens or ():
        kind = getattr(token, "type", "")
        if kind == "comment" or (kind == "whitespace" and after_comma):
            continue
        after_comma = kind == "literal" and token.value == ","
        kept.append(token)
    return " ".join(tinycss2.serialize(kept).split())


def _declarations(css) -> tuple[tuple[str, str, bool], ...]:
    """(property, value, important) of a declaration list (text or tokens), in order; broken
    ones left out."""
    result = []
    for node in tinycss2.parse_declaration_list(css, skip_comments=True, skip_whitespace=True):
        if node.type == "declaration":
            result.append((node.lower_name, _text(node.value), node.important))
    return tuple(result)


@functools.lru_cache(maxsize=2048)
def declarations(css: str) -> tuple[tuple[str, str, bool], ...]:
    """`_declarations` of a style attribute, cached (the same attributes recur)."""
    return _declarations(css)


@functools.lru_cache(maxsize=1024)
def _xpath(selector: str) -> etree.XPath | None:
    """An XPath for a selector the simple matcher does not read (cssselect, imported only then)."""
    from cssselect import GenericTranslator, SelectorError

    try:
        return etree.XPath(GenericTranslator().css_to_xpath(selector))
    except (SelectorError, etree.XPathError):
        return None


@functools.lru_cache(maxsize=1024)
def _compounds(selector: str) -> tuple[tuple[str, frozenset[str]], ...] | None:
    """`.md-table th` -> (("", {"md-table"}), ("th", {})); None for `>`, `#`, `[` and the like."""
    parts = []
    for part in selector.split():
        match = _COMPOUND.fullmatch(part)
        if not match or not part:
            return None
        parts.append(((match[1] or "").lower(), frozenset(match[2].split(".")[1:])))
    return tuple(parts) or None


def _specificity(selector: str) -> tuple[int, int, int]:
    compounds = _compounds(selector)
    if compounds is not None:
        return (0, sum(len(c) for _, c in compounds), sum(1 for t, _ in compounds if t))
    from cssselect import SelectorError
    from cssselect import parse as parse_selector

    try:
        return parse_selector(selector)[0].specificity()
    except (SelectorError, IndexError):
        return (0, 0, 0)


def _matches(element, compounds, classes_of) -> bool:
    """Descendant selectors only: the last compound is the element, the others ancestors."""
    tag, classes = compounds[-1]
    if (tag and element.tag != tag) or not classes <= classes_of(element):
        return False
    remaining = list(compounds[:-1])
    node = element.getparent()
    while remaining and node is not None:
        tag, classes = remaining[-1]
        if (not tag or node.tag == tag) and classes <= classes_of(node):
            remaining.pop()
        node = node.getparent()
    return not remaining


def _select(page, rules) -> dict:
    """element -> its rules' declarations in cascade order (lowest specificity first)."""
    by_key: dict[str, list] = {}
    hits: dict = {}
    for rule in rules:
        spec, selector, chosen = rule
        compounds = _compounds(selector)
        if compounds is None:
            xpath = _xpath(selector)
            for element in xpath(page) if xpath is not None else ():
                hits.setdefault(element, []).append((spec, chosen))
            continue
        tag, classes = compounds[-1]
        key = f".{min(classes)}" if classes else tag
        by_key.setdefault(key, []).append((spec, compounds, chosen))
    known: dict = {}

    def classes_of(element) -> frozenset[str]:
        found = known.get(element)
        if found is None:
            found = known[element] = frozenset((element.get("class") or "").split())
        return found

    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        keys = [element.tag, *(f".{c}" for c in classes_of(element))]
        for key in keys:
            for spec, compounds, chosen in by_key.get(key, ()):
                if _matches(element, compounds, classes_of):
                    hits.setdefault(element, []).append((spec, chosen))
    return {element: sorted(found, key=lambda hit: hit[0]) for element, found in hits.items()}


def _declarations_css(items) -> str:
    return ";".join(f"{prop}:{value}{' !important' if imp else ''}" for prop, value, imp in items)


def _leftover_css(node) -> str:
    """A rule kept in <style>, minified: `@media x{.a{b:c !important}}` or `a:hover{b:c}`."""
    if node.type == "at-rule":
        prelude = re.sub(r":\s+", ":", _text(node.prelude))  # (max-width:599px)
        if node.content is None:
            return f"@{node.at_keyword} {prelude};"
        inner = tinycss2.parse_blocks_contents(
            node.content, skip_comments=True, skip_whitespace=True
        )
        if any(n.type == "qualified-rule" or n.type == "at-rule" for n in inner):
            body = "".join(_leftover_css(n) for n in inner if n.type != "error")
        else:
            body = _declarations_css(_declarations(node.content))
        return f"@{node.at_keyword} {prelude}{{{body}}}"
    selector = ",".join(part.strip() for part in _text(node.prelude).split(","))
    return f"{selector}{{{_declarations_css(_declarations(node.content))}}}"


def _read_sheet(css: str, sheet: int, rules: list) -> list[str]:
    """Add the inlinable rules of one <style> block to `rules`; return what must stay."""
    leftover: list[str] = []
    for node in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if node.type == "at-rule":
            leftover.append(_leftover_css(node))
            continue
        if node.type != "qualified-rule":
            continue
        found = _declarations(node.content)
        for selector in (s.strip() for s in _text(node.prelude).split(",")):
            if not selector or "*" in selector:
                continue
            if ":" in selector:  # a pseudo-class: only a browser can apply it
                leftover.append(f"{selector}{{{_declarations_css(found)}}}")
                continue
            a, b, c = _specificity(selector)
            for important in (False, True):
                chosen = tuple(d for d in found if d[2] == important)
                if chosen:
                    rules.append(((important, a, b, c, sheet, len(rules)), selector, chosen))
    return leftover


def _basic_attributes(element, styles: dict[str, tuple[str, bool]]) -> None:
    for prop, attribute in (("text-align", "align"), ("vertical-align", "valign")):
        if prop in styles:
            element.set(attribute, styles[prop][0])
    colour = styles.get("background-color", ("", False))[0]
    if colour and "transparent" not in colour.lower() and ":" not in colour:
        element.set("bgcolor", _SHORT_HEX.sub(r"#\1\1\2\2\3\3", colour))


def inline_css(html: str) -> str:
    """Move <style> rules into style attributes; keep what cannot be inlined (@media) in <style>."""
    tree = etree.fromstring(html.strip(), etree.HTMLParser()).getroottree()
    page = tree.getroot()
    rules: list = []
    for sheet, style in enumerate(list(page.iter("style"))):
        if style.get(IGNORE) == "ignore":
            del style.attrib[IGNORE]
            continue
        if style.get("media") not in (None, "all", "screen"):
            continue
        leftover = _read_sheet(style.text or "", sheet, rules)
        if leftover:
            style.text = "\n".join(leftover)
        else:
            style.getparent().remove(style)
    matched: dict[etree._Element, dict[str, tuple[str, bool]]] = {}
    # document order, as the cascade's result does not depend on it but the output bytes do
    for element, hits in _select(page, rules).items():
        styles = matched.setdefault(element, {})
        for _, chosen in hits:
            for prop, value, important in chosen:
                styles[prop] = (value, important)  # a later (more specific) rule wins
    for element, styles in matched.items():
        for prop, value, important in declarations(element.get("style") or ""):
            styles[prop] = (value, important)  # the element's own style wins
        element.set(
            "style",
            "; ".join(f"{p}:{v}{' !important' if imp else ''}" for p, (v, imp) in styles.items()),
        )
        _basic_attributes(element, styles)
    root = tree if html.strip().startswith(tree.docinfo.doctype or "\0") else page
    result = etree.tostring(root, method="html", pretty_print=True, encoding="utf-8").decode()
    if not result.lstrip().lower().startswith("<!doctype"):
        result = f"{DOCTYPE}\n{result}"
    return result
