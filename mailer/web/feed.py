"""Atom feeds (RFC 4287) of the archive: `/feed.xml` for every public list, `/feed.xml?list=NAME`
for one. Only sent issues of public lists appear (what the archive shows); an unknown or
private list is 404, like a page that does not exist. Entries link the web version and carry
the preheader as summary; `updated` is when the issue was first sent.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import xml.etree.ElementTree as ET

from flask import Blueprint, abort, current_app, request

from .archive import public_lists, published_issues
from .context import link, site_name
from .database import get_db

bp = Blueprint("feed", __name__)

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 50


def _first_sent() -> dict[str, str]:
    try:
        rows = get_db().execute(
            "SELECT issue, min(sent_at) FROM deliveries WHERE state = 'sent' GROUP BY issue"
        )
        return dict(rows.fetchall())
    except sqlite3.OperationalError:  # no ledger yet
        return {}


def _time(text: str | None, fallback: str) -> str:
    """RFC 3339 in UTC from the database's time text or an ISO date."""
    value = text or fallback
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = dt.datetime(1970, 1, 1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/feed.xml")
def feed():
    lists = public_lists()
    wanted = request.args.get("list")
    if wanted is not None and wanted not in lists:
        abort(404)
    chosen = {wanted: lists[wanted]} if wanted else lists
    sent = _first_sent()
    issues = [i for i in published_issues() if i.get("list") in chosen][:MAX_ENTRIES]
    self_url = link("feed.feed", _query={"list": wanted} if wanted else None)
    organisation = site_name()
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    language = issues[0].get("language") if issues else None
    if language:
        root.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    _add(root, "id", self_url)
    title = chosen[wanted] if wanted else organisation
    _add(root, "title", f"{title} – {organisation}" if wanted else title)
    entries_updated = [_time(sent.get(i["slug"]), str(i.get("date", ""))) for i in issues]
    _add(root, "updated", max(entries_updated, default="1970-01-01T00:00:00Z"))
    _link(root, "self", self_url, "application/atom+xml")
    _link(root, "alternate", link("archive.index"), "text/html")
    author = _add(root, "author")
    _add(author, "name", organisation)
    for issue, updated in zip(issues, entries_updated, strict=True):
        entry = _add(root, "entry")
        url = link("archive.issue", slug=issue["slug"])
        _add(entry, "id", url)
        _add(entry, "title", str(issue.get("subject") or issue.get("title") or issue["slug"]))
        _link(entry, "alternate", url, "text/html")
        _add(entry, "published", _time(None, str(issue.get("date", ""))))
        _add(entry, "updated", updated)
        if issue.get("preheader"):
            _add(entry, "summary", str(issue["preheader"]))
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    response = current_app.response_class(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _link(parent: ET.Element, rel: str, href: str, kind: str) -> None:
    element = _add(parent, "link")
    element.set("rel", rel)
    element.set("href", href)
    element.set("type", kind)
