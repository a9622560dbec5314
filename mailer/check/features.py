"""Which caniemail features an email uses: CSS properties, values, at-rules, selectors, HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from lxml import etree

from .css import parse_declarations, parse_stylesheet, walk

# HTML elements with their own caniemail entry (html-<tag>), and groups of elements.
ELEMENT_FEATURES = {
    **{tag: f"html-{tag}" for tag in (
        "abbr", "acronym", "address", "audio", "base", "bdi", "blockquote", "code", "del",
        "dfn", "dialog", "form", "hr", "link", "marquee", "meter", "object", "picture", "pre",
        "progress", "rp", "rt", "ruby", "select", "small", "strike", "svg", "textarea",
        "video", "wbr",
    )},
    **{f"h{n}": "html-h1-h6" for n in range(1, 7)},
    **{tag: "html-lists" for tag in ("ul", "ol", "dl")},
    **{tag: "html-semantics" for tag in (
        "article", "aside", "details", "figcaption", "figure", "footer", "header", "main",
        "mark", "nav", "section", "summary", "time",
    )},
    "map": "html-image-maps",
}  # fmt: skip
ATTRIBUTE_FEATURES = {
    "background": "html-background",
    "dir": "html-dir",
    "hidden": "html-hidden",
    "loading": "html-loading-attribute",
    "popover": "html-popover",
    "required": "html-required",
    "srcset": "html-srcset",
    "sizes": "html-srcset",
    "target": "html-target",
    "aria-describedby": "html-aria-describedby",
    "aria-labelledby": "html-aria-labelledby",
    "aria-live": "html-aria-live",
}
IMAGE_FORMATS = {
    "apng": "image-apng", "avif": "image-avif", "bmp": "image-bmp", "gif": "image-gif",
    "heic": "image-heif", "heif": "image-heif", "ico": "image-ico", "jpeg": "image-jpg",
    "jpg": "image-jpg", "png": "image-png", "svg": "image-svg", "tif": "image-tiff",
    "tiff": "image-tiff", "webp": "image-webp",
}  # fmt: skip
VALUE_FEATURES = (
    (re.compile(r"linear-gradient\(", re.I), "css-linear-gradient"),
    (re.compile(r"radial-gradient\(", re.I), "css-radial-gradient"),
    (re.compile(r"conic-gradient\(", re.I), "css-conic-gradient"),
    (re.compile(r"\bcalc\(", re.I), "css-unit-calc"),
    (re.compile(r"\bvar\(", re.I), "css-variables"),
    (re.compile(r"\bmin\(", re.I), "css-function-min"),
    (re.compile(r"\bmax\(", re.I), "css-function-max"),
    (re.compile(r"\bclamp\(", re.I), "css-function-clamp"),
    (re.compile(r"\blight-dark\(", re.I), "css-function-light-dark"),
    (re.compile(r"\b(ok)?(lch|lab)\(", re.I), "css-modern-color"),
    (re.compile(r"\brgba\(", re.I), "css-rgba"),
    (re.compile(r"\brgb\(", re.I), "css-rgb"),
    (re.compile(r"\b(system-ui|ui-serif|ui-sans-serif|ui-rounded|ui-monospace)\b", re.I),
     "css-sytem-ui"),
    (re.compile(r"\b(fit-content|min-content|max-content)\b", re.I), "css-intrinsic-size"),
    (re.compile(r"\binitial\b", re.I), "css-unit-initial"),
)  # fmt: skip
UNIT = re.compile(r"(?<![\w#-])[\d.]+(rem|vmin|vmax|vh|vw|ch|ex|cm|mm|in|pc)\b", re.I)
PSEUDO = re.compile(r"(::?)([a-z-]+)", re.I)
MEDIA_FEATURES = {
    "prefers-color-scheme": "css-at-media-prefers-color-scheme",
    "prefers-reduced-motion": "css-at-media-prefers-reduced-motion",
    "orientation": "css-at-media-orientation",
    "hover": "css-at-media-hover",
    "device-pixel-ratio": "css-at-media-device-pixel-ratio",
}
AT_RULES = {
    "media": "css-at-media",
    "font-face": "css-at-font-face",
    "import": "css-at-import",
    "keyframes": "css-at-keyframes",
    "supports": "css-at-supports",
}


def property_features(known: dict[str, dict]) -> dict[str, str]:
    """CSS property name -> caniemail slug, from slugs (`css-max-width`) and their keywords."""
    mapping: dict[str, str] = {}
    for slug, feature in known.items():
        if feature.get("category") != "css":
            continue
        for word in (feature.get("keywords") or "").split(","):
            word = word.strip().lower()
            if re.fullmatch(r"[a-z]+(-[a-z]+)+", word) and not word.startswith("css-"):
                mapping.setdefault(word, slug)
    for slug in known:
        if slug.startswith("css-") and not slug.startswith(("css-at-", "css-unit-")):
            mapping[slug[4:]] = slug  # exact names win over keywords
    for name in ("left", "right", "top", "bottom"):
        mapping[name] = "css-left-right-top-bottom"
    return mapping


RESET_VALUES = {"0", "0px", "none", "normal", "auto", "inherit", "initial", "unset"}


def declaration_features(prop: str, value: str, properties: dict[str, str]) -> Iterator[str]:
    """Slugs a declaration needs: the property, special values, functions and units.

    Vendor properties are skipped, and so are resets (`outline: none`, `border-spacing: 0`,
    `height: auto`): a client that ignores them keeps its default, which is what a reset
    asks for anyway (and the templates back them with attributes such as cellspacing="0").
    """
    if prop.startswith(("mso-", "-webkit-", "-moz-", "-ms-", "--")):
        return
    if value.strip().lower() in RESET_VALUES and prop != "display":
        return
    lowered = value.lower()
    if prop == "display":
        yield {
            "flex": "css-display-flex", "inline-flex": "css-display-flex",
            "grid": "css-display-grid", "inline-grid": "css-display-grid",
            "none": "css-display-none",
        }.get(lowered, "css-display")  # fmt: skip
    elif prop == "flex-direction" and "column" in lowered:
        yield "css-flex-direction"
    elif prop in properties:
        yield properties[prop]
    for pattern, slug in VALUE_FEATURES:
        if pattern.search(value):
            yield slug
    for unit in UNIT.findall(value):
        yield f"css-unit-{unit.lower()}"


OUTLOOK_DARK = re.compile(r"\[data-ogs[cb]\]\s*")


def selector_features(selector: str) -> Iterator[str]:
    """Slugs for the less common selectors (pseudo-classes, attributes, combinators...).

    `[data-ogsc]`/`[data-ogsb]` are the marks Outlook.com's own dark mode sets: rules under
    them are meant for that client alone, so they count as no attribute selector."""
    selector = OUTLOOK_DARK.sub("", selector)
    for colons, name in PSEUDO.findall(selector):
        kind = "element" if colons == "::" else "class"
        name = name.lower()
        if kind == "class" and name in ("before", "after", "first-letter", "first-line"):
            kind = "element"
        yield f"css-pseudo-{kind}-{name}"
    bare = re.sub(r"\[[^\]]*\]|\([^)]*\)", "", selector)
    if "[" in selector:
        yield "css-selector-attribute"
    if re.search(r"(^|[\s>+~,])\*", bare):
        yield "css-selector-universal"
    if ">" in bare:
        yield "css-selector-child"
    if "+" in bare:
        yield "css-selector-adjacent-sibling"
    if "~" in bare:
        yield "css-selector-general-sibling"
    if re.search(r"#[a-z_]", bare, re.I):
        yield "css-selector-id"


def stylesheet_features(css: str, properties: dict[str, str]) -> Iterator[str]:
    """Slugs a <style> block needs. Declarations inside @media are enhancements, not counted."""
    for rule, parents in walk(parse_stylesheet(css)):
        if rule.at_rule:
            name = rule.at_name
            if name in AT_RULES:
                yield AT_RULES[name]
            for feature, slug in MEDIA_FEATURES.items():
                if name == "media" and feature in rule.prelude.lower():
                    yield slug
            continue
        if parents:
            continue
        for selector in rule.prelude.split(","):
            yield from selector_features(selector)
        for decl in rule.declarations:
            yield from declaration_features(decl.prop, decl.value, properties)


def inline_style_features(element: etree._Element, properties: dict[str, str]) -> Iterator[str]:
    """Slugs an element's inline style needs (these come from the template's CSS)."""
    for decl in parse_declarations(element.get("style") or ""):
        yield from declaration_features(decl.prop, decl.value, properties)


def element_features(element: etree._Element) -> Iterator[str]:
    """Slugs one element needs: its tag, attributes, image format, link kind."""
    tag = element.tag
    if tag in ELEMENT_FEATURES:
        yield ELEMENT_FEATURES[tag]
    if tag == "input":
        kind = (element.get("type") or "text").lower()
        yield f"html-input-{kind}"
    if tag == "button":
        yield f"html-button-{(element.get('type') or 'submit').lower()}"
    for name in element.attrib:
        if name in ATTRIBUTE_FEATURES:
            yield ATTRIBUTE_FEATURES[name]
    if tag == "img":
        src = element.get("src") or ""
        if src.startswith("data:"):
            yield "image-base64"
        extension = urlsplit(src).path.rsplit(".", 1)[-1].lower() if "." in src else ""
        if extension in IMAGE_FORMATS:
            yield IMAGE_FORMATS[extension]
    if tag == "a" and (element.get("href") or "").startswith("#"):
        yield "html-anchor-links"
