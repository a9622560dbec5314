"""Atom feeds of the archive (RFC 4287), so readers can follow new issues in a feed reader.

`/feed.xml` lists every issue sent to a public list; `/feed.xml?list=NAME` the issues of one
public list. An issue's lists are the lists its `sent` ledger rows name (the issue's own `list:`
when the rows name none). A private list (`subscribers lists NAME --private`) is answered with
the same 404 as a list that does not exist, and its issues appear in no feed unless they also
went to a public list. Entries: title (the subject), the web version's address, the time the
first copy was sent, and the preheader as summary.
"""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, request

from ..locale import LANGUAGES
from ..store.db import utc_now
from .archive import published_issues
from .context import _, link, site_name
from .database import get_db
from .lookup import ListInfo, public_lists
from .security import FILE_CSP, with_csp

bp = Blueprint("feed", __name__)

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MEDIA_TYPE = "application/atom+xml"
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0

ET.register_namespace("", ATOM)


def _rfc3339(stamp: str) -> str:
    """The ledger's `2026-09-14T08:00:01.123456Z` as `2026-09-14T08:00:01Z`."""
    return stamp.split(".")[0].removesuffix("Z") + "Z"


def _sent_lists(db) -> dict[str, tuple[set[int], str]]:
    """issue -> (ids of the lists it was sent to, when its first copy was sent)."""
    sent: dict[str, tuple[set[int], str]] = {}
    try:
        rows = db.execute(
            "SELECT issue, list_id, MIN(sent_at) FROM deliveries WHERE state = 'sent' "
            "GROUP BY issue, list_id UNION ALL "  # and the sends folded after the retention
            "SELECT issue, nullif(list_id, 0), first_sent_at FROM delivery_counts "
            "WHERE outcome = 'sent'"
        ).fetchall()
    except sqlite3.OperationalError:  # no ledger yet: nothing has been sent
        return sent
    for issue, list_id, first in rows:
        ids, earliest = sent.get(issue, (set(), ""))
        if list_id is not None:
            ids.add(list_id)
        first = first or ""
        sent[issue] = (ids, min(filter(None, (earliest, first)), default=""))
    return sent


def feed_entries(lists: list[ListInfo]) -> list[dict]:
    """The published issues that went to any of `lists`, newest first, with `updated`."""
    if not lists:
        return []
    db = get_db()
    wanted_ids = {info.id for info in lists}
    wanted_names = {info.name for info in lists}
    sent = _sent_lists(db)
    entries = []
    for meta in published_issues():
        ids, first = sent.get(meta["slug"], (set(), ""))
        if ids & wanted_ids or (not ids and meta.get("list") in wanted_names):
            updated = _rfc3339(first) if first else f"{meta.get('date', '1970-01-01')}T00:00:00Z"
            entries.append({**meta, "updated": updated})
    return sorted(entries, key=lambda e: (e["updated"], e["slug"]), reverse=True)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = _NOT_XML.sub("", text)
    return element


def _link(parent: ET.Element, href: str, rel: str, media_type: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "type": media_type, "href": href})


def atom_document(title: str, self_url: str, entries: list[dict]) -> bytes:
    """The feed as UTF-8 XML; ids are the feed's address and a tag: URI per issue."""
    host = urlsplit(current_app.config["SETTINGS"].base_url).hostname or "localhost"
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: g.get("lang") or LANGUAGES[0]})
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    _text(feed, "updated", entries[0]["updated"] if entries else _rfc3339(utc_now()))
    _link(feed, self_url, "self", MEDIA_TYPE)
    _link(feed, link("archive.index"), "alternate", "text/html")
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", site_name() or host)
    _text(feed, "generator", "newsletter")
    for meta in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        if meta.get("language"):
            entry.set(XML_LANG, str(meta["language"]))
        _text(entry, "id", f"tag:{host},{meta.get('date') or '1970-01-01'}:{meta['slug']}")
        _text(entry, "title", str(meta.get("subject") or meta.get("title") or meta["slug"]))
        _link(entry, link("archive.issue", slug=meta["slug"]), "alternate", "text/html")
        _text(entry, "published", meta["updated"])
        _text(entry, "updated", meta["updated"])
        if meta.get("organisation"):
            _text(ET.SubElement(entry, f"{{{ATOM}}}author"), "name", str(meta["organisation"]))
        if meta.get("preheader"):
            _text(entry, "summary", str(meta["preheader"]))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def feeds_available() -> list[ListInfo]:
    """The public lists (none in a preview that has no database yet)."""
    preview = current_app.config["PREVIEW_ISSUE"]
    if preview is not None and not Path(current_app.config["SETTINGS"].db_path).exists():
        return []
    return public_lists(get_db())


@bp.app_template_global()
def archive_feeds() -> list[dict[str, str]]:
    """The feeds the archive page links: all public lists, then each one when there are several."""
    lists = feeds_available()
    if not lists:
        return []
    feeds = [{"title": _("feed_all"), "url": link("feed.feed"), "list": ""}]
    if len(lists) > 1:
        feeds += [
            {
                "title": _("feed_list", list=info.title),
                "url": link("feed.feed", {"list": info.name}),
                "list": info.name,
            }
            for info in lists
        ]
    return feeds


@bp.get("/feed.xml")
def feed():
    lists = feeds_available()
    name = request.args.get("list")
    if name is not None:
        lists = [info for info in lists if info.name == name]
        if not lists:
            abort(404)  # a private list is as unknown as one that does not exist
        title = f"{lists[0].title} – {site_name()}"
        self_url = link("feed.feed", {"list": name})
    else:
        title = f"{_('archive_title')} – {site_name()}"
        self_url = link("feed.feed")
    body = atom_document(title, self_url, feed_entries(lists))
    response = current_app.response_class(body)
    response.headers["Content-Type"] = f"{MEDIA_TYPE}; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"
    return with_csp(response, FILE_CSP)
