"""Reads an issue folder (issue.md, NN-name.md sections, images/) into a validated `Issue`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from ..errors import IssueError
from ..locale import LANGUAGES
from .attachments import IssueAttachment, read_attachments
from .fields import contact_email, plain
from .frontmatter import FrontMatter, read_source, split_front_matter
from .invitation import Invitation, read_calendar_options
from .localtime import DEFAULT_TIMEZONE
from .markup import check_links_and_images, parse
from .section_lists import check_lang, read_contacts, read_partners
from .site_lists import ListText, read_lists
from .sources import Image, ImageSet, check_url, first_text_line, where
from .tables import MODES

__all__ = ["Image", "Issue", "Section", "read_issue", "where"]

SECTION_FILE = re.compile(r"^\d{2,}-[A-Za-z0-9][A-Za-z0-9_-]*\.md$")
SITE_FILE = "newsletter.yml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

ISSUE_REQUIRED = ("title", "issue", "date", "preheader", "language", "list")
SITE_KEYS = (
    "organisation",
    "subtitle",
    "address",
    "web",
    "email",
    "phone",
    "logo",
    "logo_alt",
    "funding_logo",
    "funding_logo_alt",
    "funding_text",
    "why",
    "brand_color",
)
CALENDAR_KEYS = ("invitation", "timezone", "attach_ics")
ISSUE_KEYS = (*ISSUE_REQUIRED, "subject", "attachments", *CALENDAR_KEYS, *SITE_KEYS)
IMAGE_KEYS = ("logo", "funding_logo")

BUTTON = ("button_text", "button_url")
LAYOUT_KEYS: dict[str, tuple[str, ...]] = {
    "article": ("image", "image_alt", "image_url", *BUTTON, "tables"),
    "image-text": ("image", "image_alt", "image_url", "image_side", *BUTTON, "tables"),
    "divider": (),
    "events": ("events", "tables"),
    "facts": ("tables",),
    "contact": (
        "name",
        "role",
        "organisation",
        "phone",
        "email",
        "web",
        "image",
        "image_alt",
        "contacts",
        "tables",
    ),
    "privacy": ("tables",),
    "text": (*BUTTON, "tables"),
    "small-print": ("lang", "tables"),
    "partners": ("partners",),
}
LAYOUT_REQUIRED: dict[str, tuple[str, ...]] = {
    "image-text": ("image", "image_alt"),
    "events": ("events",),
    "partners": ("partners",),
}
EVENT_KEYS = ("date", "end", "time", "title", "place", "url")


@dataclass(frozen=True)
class Section:
    """One NN-name.md file: its layout, front matter options and Markdown body."""

    path: Path
    layout: str
    options: dict[str, Any]
    body: str
    body_line: int  # line number (1-based) of the body's first line in the file
    tokens: tuple[Token, ...] = ()
    image: Image | None = None

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Issue:
    """A whole issue, read and checked: everything `build` needs and nothing it must look up."""

    path: Path
    slug: str
    title: str
    number: str
    date: dt.date
    preheader: str
    language: str
    list_name: str
    subject: str
    site: dict[str, Any]
    sections: tuple[Section, ...]
    images: dict[str, Image] = field(default_factory=dict)
    source_files: tuple[Path, ...] = ()
    timezone: str = DEFAULT_TIMEZONE  # IANA zone of the invitation's and `send --at` times
    invitation: Invitation | None = None
    attach_ics: bool = False  # attach build/invitation.ics to the mail
    attachments: tuple[IssueAttachment, ...] = ()  # `attachments:` files sent with every copy
    lists: dict[str, ListText] = field(default_factory=dict)  # newsletter.yml's `lists:`
    site_defaults: dict[str, Any] = field(default_factory=dict)  # newsletter.yml's own keys

    @property
    def list_text(self) -> ListText | None:
        """The names and description of the list this issue goes to (None: not in lists:)."""
        return self.lists.get(self.list_name)


def _string(fm: FrontMatter, key: str, required: bool = False) -> str:
    value = fm.data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise IssueError(
                f"{where(fm.path, fm.line_of(key))}: {key!r} is empty or missing; "
                f"add '{key}: ...' to the front matter"
            )
        return ""
    return str(plain(value, fm.path, fm.line_of(key), key)).strip()


def _issue_date(fm: FrontMatter) -> dt.date:
    value = fm.data.get("date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise IssueError(
            f"{where(fm.path, fm.line_of('date'))}: date {value!r} is not a date; "
            "write it as YYYY-MM-DD, e.g. date: 2018-06-14"
        ) from None


def site_values(fm: FrontMatter, base: Path, images: ImageSet) -> dict[str, Any]:
    """The footer/header keys present in `fm`, checked where they are written."""
    site: dict[str, Any] = {}
    for key in SITE_KEYS:
        if key not in fm.data:
            continue
        value = site[key] = _string(fm, key)
        line = fm.line_of(key)
        if not value:
            continue
        if key in IMAGE_KEYS:
            site[key] = images.add(base, value, fm.path, line, key)
        elif key == "web":
            site[key] = check_url(value, fm.path, line, key)
        elif key == "email":
            site[key] = contact_email(value, fm.path, line)
        elif key == "brand_color" and not BRAND_COLOR.match(value):
            raise IssueError(
                f"{where(fm.path, line)}: brand_color {value!r}: write a hex colour such as "
                "'#0f5e6e' (in quotes)"
            )
    return site


def read_site_file(site_file: Path, images: ImageSet) -> tuple[dict[str, Any], dict[str, ListText]]:
    """newsletter.yml's identity keys (checked) and its `lists:` ({} and {} without a file)."""
    if not site_file.is_file():
        return {}, {}
    fm = FrontMatter.from_yaml(site_file, read_source(site_file))
    fm.reject_unknown((*SITE_KEYS, "lists"), "newsletter.yml")
    return site_values(fm, site_file.parent, images), read_lists(fm)


def _list_identity(site_file: Path, text: ListText | None, images: ImageSet) -> dict[str, Any]:
    """The footer keys a list sets for its issues, checked like the site's own."""
    if text is None or not text.identity:
        return {}
    fm = FrontMatter.from_yaml(site_file, read_source(site_file))
    line = fm.sub_line("lists", text.key)
    own = FrontMatter(site_file, dict(text.identity), key_lines=dict.fromkeys(text.identity, line))
    return site_values(own, site_file.parent, images)


def _read_section(path: Path, images: ImageSet) -> Section:
    fm, body, body_line = split_front_matter(path, read_source(path))
    layout = _string(fm, "layout") or "article"
    if layout not in LAYOUT_KEYS:
        raise IssueError(
            f"{where(path, fm.line_of('layout'))}: unknown layout {layout!r}; use one of "
            f"{', '.join(LAYOUT_KEYS)}"
        )
    fm.reject_unknown(("layout", "title", *LAYOUT_KEYS[layout]), f"layout {layout}")
    for key in LAYOUT_REQUIRED.get(layout, ()):
        if not fm.data.get(key):
            raise IssueError(
                f"{where(path, fm.line_of(key))}: layout {layout} needs {key!r} in the front "
                f"matter; see docs/issue-format.md"
            )
    if layout == "contact" and not fm.data.get("name") and not fm.data.get("contacts"):
        raise IssueError(
            f"{where(path, fm.line_of('name'))}: layout contact needs 'name' (one person) or "
            "'contacts' (a list of people) in the front matter; see docs/issue-format.md"
        )
    options: dict[str, Any] = {
        k: plain(v, path, fm.line_of(k), k)
        for k, v in fm.data.items()
        if k not in ("events", "contacts", "partners")
    }
    if "email" in fm.data:
        options["email"] = contact_email(fm.data["email"], path, fm.line_of("email"))
    for key in ("title", "image_alt", "button_text", "name", "role", "organisation", "phone"):
        if key in fm.data:
            options[key] = _string(fm, key)
    image = None
    if fm.data.get("image"):
        if not options.get("image_alt"):
            raise IssueError(
                f"{where(path, fm.line_of('image'))}: image needs image_alt, a short text "
                "describing the picture for people who cannot see it"
            )
        image = images.add(path.parent, fm.data["image"], path, fm.line_of("image"), "image")
    if options.get("image_url") and not image:
        raise IssueError(
            f"{where(path, fm.line_of('image_url'))}: image_url makes the image a link; "
            "add the image (image: images/...) or remove image_url"
        )
    for key in ("button_url", "web", "image_url"):
        if key in fm.data:
            options[key] = check_url(fm.data[key], path, fm.line_of(key), key)
    if options.get("button_text") and not options.get("button_url"):
        raise IssueError(f"{where(path, fm.line_of('button_text'))}: button_text needs button_url")
    side = options.setdefault("image_side", "left")
    if side not in ("left", "right"):
        raise IssueError(f"{where(path, fm.line_of('image_side'))}: image_side is left or right")
    if layout == "events":
        options["events"] = _events(fm)
    if layout == "contact" and "contacts" in fm.data:
        options["contacts"] = read_contacts(fm, images)
    if layout == "partners":
        options["partners"] = read_partners(fm, images)
    if layout == "small-print":
        options["lang"] = check_lang(fm)
    tables = options.setdefault("tables", "auto")
    if tables not in MODES:
        raise IssueError(
            f"{where(path, fm.line_of('tables'))}: tables {tables!r}: use auto (the default: "
            "chosen by width), stack (rows become 'Header: value' blocks on phones) or scale"
        )
    if layout == "divider" and body.strip():
        raise IssueError(
            f"{where(path, first_text_line(body, body_line))}: a divider has no text; "
            "move the text to its own section"
        )
    _require_content(path, layout, body, body_line, bool(image or options.get("title")))
    tokens = parse(body)
    check_links_and_images(
        tokens,
        body,
        path,
        body_line,
        lambda ref, line: images.add(path.parent, ref, path, line, "image"),
    )
    return Section(path, layout, options, body, body_line, tuple(tokens), image)


BODY_REQUIRED = (
    "facts",
    "privacy",
    "image-text",
    "small-print",
)  # a box or column with no text in it
CONTENT_REQUIRED = ("article", "text")  # text, a title or a picture


def _require_content(path: Path, layout: str, body: str, line: int, has_heading: bool) -> None:
    """An empty file would be a blank band (or a box holding only its label) in every inbox."""
    if body.strip():
        return
    if layout in BODY_REQUIRED or (layout in CONTENT_REQUIRED and not has_heading):
        raise IssueError(
            f"{where(path, line)}: the {layout} section has no text; write it below the front "
            "matter, or delete the file"
        )


def _events(fm: FrontMatter) -> list[dict[str, Any]]:
    items = fm.data.get("events")
    line = fm.line_of("events")
    if not isinstance(items, list):
        raise IssueError(
            f"{where(fm.path, line)}: events must be a list of '- date: ..., title: ...' items"
        )
    events = []
    for index, item in enumerate(items):
        item_line = fm.item_line("events", index)
        if not isinstance(item, dict) or not item.get("date") or not item.get("title"):
            raise IssueError(
                f"{where(fm.path, item_line)}: each event needs at least date and title"
            )
        unknown = sorted(set(item) - set(EVENT_KEYS))
        if unknown:
            raise IssueError(
                f"{where(fm.path, item_line)}: unknown event key {unknown[0]!r}; "
                f"use {', '.join(EVENT_KEYS)}"
            )
        event = {
            k: (v if isinstance(v, dt.date) else str(plain(v, fm.path, item_line, k)).strip())
            for k, v in item.items()
        }
        if event.get("url"):
            event["url"] = check_url(event["url"], fm.path, item_line, "url")
        events.append(event)
    return events


def read_issue(issue_dir: Path) -> Issue:
    """Read and check `issue_dir`; raise IssueError naming file and line for anything wrong."""
    issue_dir = Path(issue_dir)
    issue_file = issue_dir / "issue.md"
    slug = issue_dir.resolve().name
    if not SLUG.match(slug):
        raise IssueError(
            f"{issue_dir}: folder name {slug!r} is used in web addresses; use lower-case "
            "letters, digits and '-' (e.g. 2018-2)"
        )
    if not issue_file.is_file():
        raise IssueError(
            f"{issue_dir}: no issue.md; create one (newsletter new SLUG scaffolds an issue)"
        )
    images = ImageSet()
    site_file = issue_dir.parent / SITE_FILE
    site, lists = read_site_file(site_file, images)
    sources = [site_file] if site_file.is_file() else []
    site_defaults = dict(site)
    fm, body, body_line = split_front_matter(issue_file, read_source(issue_file))
    if body.strip():
        raise IssueError(
            f"{where(issue_file, first_text_line(body, body_line))}: issue.md holds only front "
            "matter; put text in a section file such as 01-intro.md"
        )
    fm.reject_unknown(ISSUE_KEYS, "issue.md")
    values = {key: _string(fm, key, required=True) for key in ISSUE_REQUIRED if key != "date"}
    if values["language"] not in LANGUAGES:
        raise IssueError(
            f"{where(issue_file, fm.line_of('language'))}: language {values['language']!r}; "
            f"use one of {', '.join(LANGUAGES)}"
        )
    site.update(_list_identity(site_file, lists.get(values["list"]), images))
    site.update(site_values(fm, issue_dir, images))
    if not site.get("organisation"):
        raise IssueError(
            f"{where(issue_file, 1)}: no organisation for the footer; set 'organisation:' in "
            f"{issue_dir.parent / SITE_FILE} or in issue.md"
        )
    section_files = []
    for path in sorted(issue_dir.iterdir()):
        if path.suffix == ".md" and path.name != "issue.md":
            if not path.is_file():  # a folder, or a link to a file that is gone
                kind = "a folder" if path.is_dir() else "a link to a file that does not exist"
                raise IssueError(
                    f"{path}: is {kind}, not a section file; remove or rename it "
                    "(section files are Markdown files named NN-name.md)"
                )
            if not SECTION_FILE.match(path.name):
                raise IssueError(
                    f"{where(path, 1)}: section files are named NN-name.md (e.g. 02-news.md)"
                )
            section_files.append(path)
    if not section_files:
        raise IssueError(f"{issue_dir}: no sections; add files such as 01-intro.md")
    sections = tuple(_read_section(path, images) for path in section_files)
    subject = _string(fm, "subject") or f"{values['title']} {values['issue']}"
    if any(ch in subject for ch in "\r\n"):
        raise IssueError(f"{where(issue_file, fm.line_of('subject'))}: subject is one line")
    calendar = read_calendar_options(fm, site, subject)
    return Issue(
        path=issue_dir,
        slug=slug,
        title=values["title"],
        number=values["issue"],
        date=_issue_date(fm),
        preheader=values["preheader"],
        language=values["language"],
        list_name=values["list"],
        subject=subject,
        site=site,
        sections=sections,
        images=dict(sorted(images.images.items())),
        source_files=(*sources, issue_file, *section_files),
        timezone=calendar.timezone,
        invitation=calendar.invitation,
        attach_ics=calendar.attach_ics,
        attachments=read_attachments(fm, issue_dir),
        lists=lists,
        site_defaults=site_defaults,
    )
