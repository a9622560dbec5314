"""Jinja2 over templates/: an `Issue` to email HTML (before inlining), plain text and web page.

The templates come from two folders, searched file by file: the site's own `templates/` (a
file there replaces the bundled file of the same name) and the ones the tool ships.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from ..config import Settings, bundled_path, find_project_root
from ..locale import format_date, month_abbreviation, translate
from .attachments import size_text
from .ics import INVITATION_FILE, calendar_file_of
from .issue import SITE_KEYS, Image, Issue, Section
from .localtime import when_text
from .markup import email_html, keep_short_lines, to_html
from .personalize import marker
from .plaintext import WIDTH, shown_url, to_text, wrap
from .site_lists import list_name
from .tables import BOX_WIDTH, PHONE_WIDTH

TEMPLATES_DIR = bundled_path("templates")
BUNDLED_PREFIX = "bundled"  # `bundled/email/issue.html`: the tool's file, even when overridden
DEFAULT_BRAND = "#0f5e6e"

# shown width in the email (px) for each use of an image; smaller files show at their own size
IMAGE_WIDTHS = {
    "hero": 600,
    "side": 270,
    "photo": 88,
    "logo": 200,
    "funding": 200,
    "partner": 200,
    "photo-small": 56,
}
# a partner logo's box: 540 px shared by 2-4 logos, less the plate's padding; at most this tall
PARTNER_HEIGHT = 64
BOXED = ("facts", "privacy", "contact")  # layouts whose text sits in a padded box


@jinja2.pass_context
def _translate(context: jinja2.runtime.Context, key: str, **kw: object) -> str:
    return translate(context.get("language", "en"), key, **kw)


def _placeholder(name: str, fallback: str | None = None) -> Markup:
    return Markup(marker(name, fallback))  # noqa: S704 - marker() allows [a-z_] names only


def site_root(settings: Settings | None = None) -> Path:
    """The site folder (newsletters/, .env, templates/): the project root the settings found
    (like git: the nearest folder up from here holding newsletters/, .env or newsletter.yml)."""
    return settings.project_root if settings is not None else find_project_root()


def site_templates_dir(settings: Settings | None = None) -> Path:
    """The site's own templates/, whose files override the bundled ones of the same name."""
    return site_root(settings) / "templates"


def template_dirs(settings: Settings | None = None) -> tuple[Path, ...]:
    """Folders Jinja searches, first match wins: the site's templates/, then the bundled ones.

    The site folder is listed even before it exists, so that one made later still counts. In
    a checkout run from its top, the site's templates/ is the bundled folder itself.
    """
    site = site_templates_dir(settings).absolute()
    if site.resolve() == TEMPLATES_DIR.resolve():
        return (TEMPLATES_DIR,)
    return (site, TEMPLATES_DIR)


def template_loader(templates_dirs: Path | tuple[Path, ...]) -> jinja2.BaseLoader:
    """Search `templates_dirs` in order, file by file; `bundled/NAME` is always the tool's own
    NAME, so a site template can `{% extends "bundled/email/issue.html" %}` and change a block."""
    dirs = (templates_dirs,) if isinstance(templates_dirs, Path | str) else templates_dirs
    return jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader([str(d) for d in dirs]),
            jinja2.PrefixLoader({BUNDLED_PREFIX: jinja2.FileSystemLoader(str(TEMPLATES_DIR))}),
        ]
    )


def make_environment(
    templates_dirs: Path | tuple[Path, ...] = (TEMPLATES_DIR,),
) -> jinja2.Environment:
    """The one template environment: autoescape for .html, StrictUndefined, `_` translates.

    Compiled templates are kept in Jinja's bytecode cache (a private folder in the system's
    temporary directory, keyed by each template's name and source), so a cold `newsletter
    build` does not compile them again."""
    env = jinja2.Environment(
        loader=template_loader(templates_dirs),
        bytecode_cache=jinja2.FileSystemBytecodeCache(),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["_"] = _translate
    env.globals["placeholder"] = _placeholder
    env.filters["_"] = _translate
    env.filters["wrap"] = wrap
    env.filters["shown_url"] = shown_url
    # kept on one line: a phone number or a time ("kl. 10–12"), and an e-mail address, which
    # may wrap only before its @ (two inline-blocks; Gmail drops <wbr>)
    env.filters["phone"] = lambda text: Markup(  # noqa: S704 - escaped first
        f'<span style="white-space: nowrap;">{escape(str(text))}</span>'
    )
    env.filters["email"] = lambda text: Markup(email_html(str(text)))  # noqa: S704
    return env


def image_url(base: str, slug: str, name: str) -> str:
    """Absolute address of an issue image as the web archive serves it."""
    return f"{base}/archive/{slug}/images/{quote(name)}"


def calendar_url(base: str, slug: str, name: str) -> str:
    """Absolute address of an issue's .ics file as the web archive serves it."""
    return f"{base}/archive/{slug}/{quote(name)}"


def image_view(
    base: str, issue: Issue, image: Image, use: str, alt: str = "", box: int | None = None
) -> dict[str, Any]:
    """What a template needs to show an image: absolute URL, unitless width and height, alt.

    `box` narrows the width further (a partner logo's share of the row)."""
    width = min(image.width, IMAGE_WIDTHS[use], box or IMAGE_WIDTHS[use])
    limit = {"logo": 56, "partner": PARTNER_HEIGHT}.get(use)
    if limit and image.height:
        width = min(width, round(image.width * limit / image.height))
    return {
        "url": image_url(base, issue.slug, image.name),
        "width": width,
        "height": round(image.height * width / image.width),
        "alt": alt,
    }


def _event_view(issue: Issue, event: dict[str, Any]) -> dict[str, Any]:
    start, end, lang = event["date"], event.get("end"), issue.language
    view = {key: event.get(key, "") for key in ("title", "place", "time", "url")}
    if isinstance(start, dt.date):
        month = month_abbreviation(lang, start.month)
        day = translate(lang, "day", day=start.day)  # "15" or Danish "15."
        label = f"{day} {month}"
        if isinstance(end, dt.date) and end != start:
            last = translate(lang, "day", day=end.day)
            if (end.year, end.month) == (start.year, start.month):
                day = f"{day}–{last}"
                label = f"{day} {month}"
            else:
                label = f"{label} – {last} {month_abbreviation(lang, end.month)}"
        view.update(day=day, month=month, label=label, is_date=True)
    else:
        view.update(day="", month="", label=str(start), is_date=False)
    return view


def _events_text(events: list[dict[str, Any]]) -> str:
    """Events as aligned plain-text columns: date, then title, place and time."""
    width = max(len(e["label"]) for e in events) + 3
    lines = []
    for event in events:
        detail = ", ".join(x for x in (event["title"], event["place"], event["time"]) if x)
        if event["url"]:
            detail += f" ({shown_url(event['url'])})"
        lines.append(wrap(detail, WIDTH, indent=" " * width, first=event["label"].ljust(width)))
    return "\n".join(lines)


def _first_heading(section: Section) -> str:
    """The first heading's words as a reader hears them (no `**` or link syntax)."""
    tokens = list(section.tokens)
    for index, token in enumerate(tokens[:-1]):
        if token.type == "heading_open":
            words = [
                child.content
                for child in tokens[index + 1].children or ()
                if child.type in ("text", "code_inline")
            ]
            return " ".join("".join(words).split())
    return ""


def section_view(base: str, issue: Issue, section: Section) -> dict[str, Any]:
    """A section ready for the templates: HTML and text of its body plus layout fields."""
    options = section.options
    images = issue.images
    tokens = list(section.tokens)
    if section.layout == "facts":  # "Tid: ...", "Plats: ..." on lines of their own
        tokens = keep_short_lines(tokens)

    def md_image(name: str) -> tuple[str, int, int]:
        image = images[name]
        return image_url(base, issue.slug, name), image.width, image.height

    view: dict[str, Any] = {
        "layout": section.layout,
        "id": section.path.stem,
        "file": section.path.name,
        "title": options.get("title", ""),
        "html": to_html(
            tokens,
            md_image,
            tables=options.get("tables", "auto"),
            width=BOX_WIDTH if section.layout in BOXED else PHONE_WIDTH,
        ),
        "text": to_text(tokens),
        "button": None,
        "image": None,
        "image_side": options.get("image_side", "left"),
        "image_url": options.get("image_url", ""),
        "lang": options.get("lang", ""),
    }
    if options.get("button_url"):
        view["button"] = {
            "url": options["button_url"],
            "text": options.get("button_text") or translate(issue.language, "read_more"),
            "label": "",
        }
        heading = view["title"] or _first_heading(section)
        if not options.get("button_text") and heading:
            # "Read more" alone means nothing in a screen reader's list of links (WCAG 2.4.4)
            view["button"]["label"] = f"{view['button']['text']}: {heading}"
    if section.image:
        use = {"article": "hero", "image-text": "side", "contact": "photo"}[section.layout]
        view["image"] = image_view(base, issue, section.image, use, options.get("image_alt", ""))
    if section.layout == "events":
        view["events"] = [_event_view(issue, e) for e in options["events"]]
        view["events_text"] = _events_text(view["events"])
        dated = any(e["is_date"] for e in view["events"])
        view["calendar_url"] = (
            calendar_url(base, issue.slug, calendar_file_of(section.name)) if dated else ""
        )
    if section.layout == "contact":
        people = options.get("contacts") or [
            {**options, "photo": section.image} if options.get("name") else {}
        ]
        size = "photo" if len(people) == 1 else "photo-small"  # two across: smaller photos
        view["contacts"] = [_contact_view(base, issue, p, size) for p in people if p]
        view["contact"] = view["contacts"][0]
    if section.layout == "partners":
        partners = options["partners"]
        share = 540 // len(partners) - 28  # plate padding and gutter
        view["partners"] = [
            {
                "alt": p["alt"],
                "url": p.get("url", ""),
                "image": image_view(base, issue, p["logo"], "partner", p["alt"], box=share),
            }
            for p in partners
        ]
        view["column"] = 540 // len(partners)
    return view


def _contact_view(base: str, issue: Issue, person: dict[str, Any], size: str) -> dict[str, Any]:
    contact = {
        key: person.get(key) or ""
        for key in ("name", "role", "organisation", "phone", "email", "web")
    }
    contact["tel"] = "".join(ch for ch in contact["phone"] if ch.isdigit() or ch == "+")
    photo = person.get("photo")
    contact["image"] = (
        image_view(base, issue, photo, size, person.get("image_alt") or "") if photo else None
    )
    return contact


def _section_views(base: str, issue: Issue) -> list[dict[str, Any]]:
    """Section views that also know the layout before them (spacing depends on it)."""
    views = [section_view(base, issue, s) for s in issue.sections]
    for previous, view in zip([None, *views], views, strict=False):
        view["after"] = previous["layout"] if previous else "header"
    return views


def invitation_view(base: str, issue: Issue) -> dict[str, Any] | None:
    """The invitation box: title, when (in words), place, organiser, link to the .ics."""
    invitation = issue.invitation
    if invitation is None:
        return None
    return {
        "title": invitation.title,
        "when": when_text(issue.language, invitation.start, invitation.end),
        "place": invitation.place,
        "organiser": invitation.organiser_name or invitation.organiser_email,
        "calendar_url": calendar_url(base, issue.slug, INVITATION_FILE),
    }


def _same(one: str, other: str) -> bool:
    return " ".join(one.split()).casefold() == " ".join(other.split()).casefold()


def issue_context(issue: Issue, settings: Settings) -> dict[str, Any]:
    """Everything the templates see; identical for email, text and web so they agree."""
    base = settings.base_url.rstrip("/")
    web_url = f"{base}/archive/{issue.slug}/"
    site = {key: "" for key in SITE_KEYS} | issue.site
    for key, use in (("logo", "logo"), ("funding_logo", "funding")):
        if isinstance(site.get(key), Image):
            site[key] = image_view(base, issue, site[key], use, site.get(f"{key}_alt") or "")
    lang = issue.language
    forward = "mailto:?subject={}&body={}".format(
        quote(translate(lang, "forward_subject", subject=issue.subject)),
        quote(translate(lang, "forward_body", url=web_url)),
    )
    # "Nyhetsbrev from Nyhetsbrev": when the title is the organisation's name, say it once
    same_name = _same(issue.title, site["organisation"])
    # the reader subscribes to a list, not to this issue's title: newsletter.yml's name for it
    list_title = list_name(issue.lists, issue.list_name, lang, fallback=issue.title)
    why = site.get("why") or (
        translate(lang, "why_you_receive_same", list=list_title)
        if _same(list_title, site["organisation"])
        else translate(lang, "why_you_receive", list=list_title, organisation=site["organisation"])
    )
    return {
        "language": lang,
        "title": issue.title,
        "subtitle": site.get("subtitle", ""),
        "show_organisation": not same_name,
        "number": issue.number,
        "date": issue.date.isoformat(),
        "date_text": format_date(lang, issue.date),
        "preheader": issue.preheader,
        "subject": issue.subject,
        "slug": issue.slug,
        "site": site,
        "why": why,
        "list_title": list_title,
        "brand": site.get("brand_color") or DEFAULT_BRAND,
        "web_url": web_url,
        "base_url": base,
        "archive_url": f"{base}/archive/",
        "subscribe_url": f"{base}/subscribe",
        "forward_url": forward,
        "contact_url": f"mailto:{site['email']}" if site.get("email") else site.get("web", ""),
        "sections": _section_views(base, issue),
        # NEWSLETTER_CLICK_COUNTING=on: the privacy layout says what is counted
        "click_counting": settings.click_counting == "on",
        "invitation": invitation_view(base, issue),
        "attachments": [
            {
                "name": a.name,
                "url": f"{web_url}attachments/{quote(a.name)}",
                "size_text": size_text(a.size),
            }
            for a in issue.attachments
        ],
    }


def render(env: jinja2.Environment, template: str, context: dict[str, Any]) -> str:
    return env.get_template(template).render(context)
