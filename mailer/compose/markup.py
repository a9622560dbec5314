"""Markdown (CommonMark + pipe tables, markdown-it-py) to email-safe HTML fragments; link checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup

from ..errors import IssueError
from .sources import where
from .tables import PHONE_WIDTH, plan_table

CONTENT_WIDTH = 540  # px of text column inside the 600 px container
LINK_SCHEMES = ("https://", "http://", "mailto:", "tel:")

# Raw HTML stays off: everything an editor writes is escaped, so no markup can break the email.
_md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def parse(text: str) -> list[Token]:
    """Block tokens of a Markdown body (line numbers in `token.map` count from the body start)."""
    return _md.parse(text)


def _source_line(body: str, token_map: Sequence[int] | None, needle: str) -> int:
    """0-based body line where `needle` appears inside the block `token_map` covers."""
    if not token_map:
        return 0
    lines = body.split("\n")
    for offset in range(token_map[0], min(token_map[1], len(lines))):
        if needle and needle in lines[offset]:
            return offset
    return token_map[0]


def check_links_and_images(
    tokens: list[Token],
    body: str,
    path: Path,
    body_line: int,
    add_image: Callable[[str, int], object],
) -> None:
    """Raise IssueError for a relative or empty link, or an image outside images/ or missing.

    Emails are read far from the web site, so every link must be absolute. Images must be
    files in the issue's images/ folder so the archive can serve them; `add_image(ref, line)`
    records (and checks) each one.
    """
    for block in tokens:
        for child in block.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                raw = href if child.markup == "autolink" else f"]({href}"
                line = body_line + _source_line(body, block.map, raw.split("%")[0][:40])
                if not href.lower().startswith(LINK_SCHEMES):
                    raise IssueError(
                        f"{where(path, line)}: link {href!r} is relative or empty; use a full "
                        "address such as https://www.example.se/page (or mailto:, tel:)"
                    )
            elif child.type == "image":
                src = unquote(str(child.attrGet("src") or ""))  # markdown-it encodes ö and spaces
                line = body_line + _source_line(body, block.map, src[:40])
                if not child.content.strip():
                    raise IssueError(
                        f"{where(path, line)}: image {src} has no alt text; write "
                        "![what the picture shows](images/file.jpg)"
                    )
                if not src.startswith("images/"):
                    raise IssueError(
                        f"{where(path, line)}: image {src!r}: put the file in the issue's "
                        "images/ folder and write ![alt text](images/file.jpg)"
                    )
                add_image(src, line)


def _heading(closing: bool):
    def rule(self, tokens, idx, options, env):
        # the issue title is the email's h1, so Markdown headings move one level down
        level = min(int(tokens[idx].tag[1]) + 1, 4)
        return f"</h{level}>\n" if closing else f'<h{level} class="md-h{level}">'

    return rule


def _image(self, tokens, idx, options, env):
    token = tokens[idx]
    name = Path(unquote(str(token.attrGet("src")))).name
    url, width, height = env["image"](name)
    shown = min(width, CONTENT_WIDTH)
    shown_height = round(height * shown / width)
    alt = escape(self.renderInlineAsText(token.children or [], options, env))
    return (
        f'<img class="md-img" src="{escape(url)}" width="{shown}" height="{shown_height}" '
        f'alt="{alt}" style="width:100%;max-width:{shown}px;height:auto;">'
    )


def _table_open(self, tokens, idx, options, env):
    plan = plan_table(tokens, idx, env.get("tables", "auto"), env.get("width", PHONE_WIDTH))
    env["plan"] = plan
    return f'<table class="{plan.css_class}" width="100%" cellpadding="0" cellspacing="0">\n'


def _td_open(self, tokens, idx, options, env):
    """A body cell; in a stacked table it starts with its column's header, shown on phones only
    ("Header: value"), hidden elsewhere (Outlook desktop keeps the plain table)."""
    token = tokens[idx]
    if "right" in str(token.attrGet("style") or "") and "nowrap" not in str(token.attrGet("style")):
        token.attrSet("style", f"{token.attrGet('style')};white-space:nowrap")  # "54 %" whole
    plan = env.get("plan")
    if not plan or plan.mode != "stack":
        return self.renderToken(tokens, idx, options, env)
    column = 0
    for earlier in reversed(tokens[:idx]):
        if earlier.type == "tr_open":
            break
        column += earlier.type == "td_open"
    if column == 0:  # the card's title ("Katalonien"), not "Region: Katalonien" on every card
        token.attrSet("class", "stack-first")
        return self.renderToken(tokens, idx, options, env)
    html = self.renderToken(tokens, idx, options, env)
    header = plan.headers[column] if column < len(plan.headers) else ""
    if not header.strip():
        return html
    return (
        f'{html}<span class="stack-label" style="display: none; mso-hide: all;">'
        f"{escape(header)}: </span>"
    )


# A bare `www.example.se/page` is linked (as mail programs do), a phone number is kept on one
# line ("019-10 20 30" must not wrap at its hyphen or spaces), and an e-mail address may wrap
# only before its @: its two halves are inline-blocks (Gmail drops <wbr>, Yahoo word-break).
WWW = re.compile(r"(?<![\w@/.-])www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s<>\"]*)?", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w+/.=-])\+?\(?\d{2,4}\)?(?:[ \u00a0-]\d{2,4}){2,5}(?![\w])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ADDRESS_OR_WWW = re.compile(f"{EMAIL.pattern}|{WWW.pattern}", re.IGNORECASE)
TRAILING = ".,;:!?)"


def nowrap_phones(text: str) -> str:
    """Escaped `text` with each phone number in a nowrap span."""
    out, pos = [], 0
    for match in PHONE.finditer(text):
        out.append(escapeHtml(text[pos : match.start()]))
        out.append(f'<span style="white-space: nowrap;">{escapeHtml(match.group(0))}</span>')
        pos = match.end()
    out.append(escapeHtml(text[pos:]))
    return "".join(out)


def email_html(address: str) -> str:
    """`address` escaped, as two inline-blocks: a phone line breaks it before the @ at most."""
    local, at, domain = address.partition("@")
    if not at:
        return escapeHtml(address)
    block = '<span style="display: inline-block; text-decoration: inherit;">{}</span>'
    return block.format(escapeHtml(local)) + block.format("@" + escapeHtml(domain))


def _www_link(address: str) -> str:
    tail = ""
    while address and address[-1] in TRAILING:
        address, tail = address[:-1], address[-1] + tail
    shown = escapeHtml(address)
    return f'<a href="https://{shown}">{shown}</a>{escapeHtml(tail)}'


def text_html(text: str, *, in_link: bool = False) -> str:
    """Escaped text with phone numbers kept whole, e-mail addresses breakable before their @
    only, and (outside links) bare www. addresses linked."""
    if in_link:  # an autolink's or mailto link's text may be an address
        return "".join(
            email_html(part) if EMAIL.fullmatch(part) else nowrap_phones(part)
            for part in re.split(f"({EMAIL.pattern})", text)
        )
    out, pos = [], 0
    for match in ADDRESS_OR_WWW.finditer(text):
        found = match.group(0)
        out.append(nowrap_phones(text[pos : match.start()]))
        out.append(email_html(found) if "@" in found else _www_link(found))
        pos = match.end()
    out.append(nowrap_phones(text[pos:]))
    return "".join(out)


def _text(self, tokens, idx, options, env):
    in_link = False
    for token in tokens[:idx]:
        if token.type == "link_open":
            in_link = True
        elif token.type == "link_close":
            in_link = False
    return text_html(tokens[idx].content, in_link=in_link)


SHORT_LINE = 60  # characters: a facts box's "Tid: ...", "Plats: ..." lines, not wrapped prose


def keep_short_lines(tokens: Sequence[Token]) -> list[Token]:
    """Tokens in which a paragraph of short written lines ("Tid: ...", "Plats: ...", each at
    most SHORT_LINE characters) keeps its line breaks; a paragraph wrapped in the editor (a
    longer line) still reads as one, as Markdown has it. For facts boxes, in HTML and text."""
    result = []
    for token in tokens:
        children = token.children or []
        if token.type == "inline" and any(c.type == "softbreak" for c in children):
            lengths, current = [], 0
            for child in children:
                if child.type == "softbreak":
                    lengths.append(current)
                    current = 0
                else:
                    current += len(child.content or "")
            if max([*lengths, current]) <= SHORT_LINE:
                token = token.copy()
                token.children = [
                    c.copy(type="hardbreak", tag="br") if c.type == "softbreak" else c
                    for c in children
                ]
        result.append(token)
    return result


def _class_rule(tag: str, css_class: str):
    def rule(self, tokens, idx, options, env):
        return f'<{tag} class="{css_class}">\n'

    return rule


_md.add_render_rule("heading_open", _heading(False))
_md.add_render_rule("heading_close", _heading(True))
_md.add_render_rule("image", _image)
_md.add_render_rule("table_open", _table_open)
_md.add_render_rule("td_open", _td_open)
_md.add_render_rule("text", _text)
_md.add_render_rule("blockquote_open", _class_rule("blockquote", "md-quote"))
_md.add_render_rule("hr", lambda self, tokens, idx, options, env: '<hr class="md-hr">\n')


def to_html(
    tokens: list[Token],
    image: Callable[[str], tuple[str, int, int]],
    *,
    tables: str = "auto",
    width: int = PHONE_WIDTH,
) -> Markup:
    """HTML fragment of a parsed body; `image(name)` gives (absolute URL, width, height).

    `tables` (auto, stack, scale) and `width` (px of the phone column) decide how each table is
    shown on phones (see tables.py).
    """
    env = {"image": image, "tables": tables, "width": width}
    # markdown-it escapes all text and raw HTML is disabled, so the result is safe markup
    return Markup(_md.renderer.render(tokens, _md.options, env))  # noqa: S704
