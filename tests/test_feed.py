"""Atom feeds of the archive, fetched over real HTTP from `serve`'s app and read with feedparser:
sent issues of public lists only, with title, date, link and preheader; private lists never."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import feedparser
import pytest

from mailer.audience.lists import configure_list
from mailer.compose.build import build_issue
from mailer.store.db import transaction

NEWS, MEETING = "2018-2", "2026-10-partnerskapsmote"
ATOM = "{http://www.w3.org/2005/Atom}"


def send_record(db, slug: str, list_name: str, sent_at: str) -> None:
    """A `sent` ledger row for `slug` to a subscriber of `list_name`, sent at `sent_at`."""
    list_id = db.execute("SELECT id FROM lists WHERE name = ?", [list_name]).fetchone()[0]
    with transaction(db):
        db.execute(
            "INSERT INTO deliveries (issue, subscriber_id, list_id, state, queued_at, "
            "updated_at, sent_at) VALUES (?, NULL, ?, 'sent', ?, ?, ?)",
            [slug, list_id, sent_at, sent_at, sent_at],
        )


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def archive(db, built_issues, newsletters_dir, live_settings):
    """Two public lists and a private one; the news issue went to `nyhetsbrev`, the meeting
    invitation to `partnerskapet`, an internal issue only to the private `styrelsen`, and a
    fourth issue is built but never sent."""
    configure_list(db, "nyhetsbrev", title="Nyhetsbrevet", public=True)
    configure_list(db, "partnerskapet", title="Partnerskapet", public=True)
    configure_list(db, "styrelsen", title="Styrelsen", public=False)
    for slug in ("2026-11-internt", "2099-1-utkast"):
        shutil.copytree(newsletters_dir / NEWS, newsletters_dir / slug)
        path = newsletters_dir / slug / "issue.md"
        text = path.read_text(encoding="utf-8").replace("subject:", "subject: Hemligt –", 1)
        path.write_text(text, encoding="utf-8")
        build_issue(newsletters_dir / slug, live_settings)
    send_record(db, NEWS, "nyhetsbrev", "2026-06-14T07:00:00.000000Z")
    send_record(db, NEWS, "nyhetsbrev", "2026-06-14T07:05:00.000000Z")
    send_record(db, MEETING, "partnerskapet", "2026-09-14T06:30:00.000000Z")
    send_record(db, "2026-11-internt", "styrelsen", "2026-11-02T09:00:00.000000Z")
    return newsletters_dir


def test_feed_lists_sent_issues_of_public_lists_newest_first(archive, live_server):
    status, headers, body = fetch(f"{live_server.url}/feed.xml")
    assert status == 200
    assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == f"{live_server.url}/feed.xml"
    assert parsed.feed.updated_parsed[:5] == (2026, 9, 14, 6, 30)
    links = {(link.rel, link.href) for link in parsed.feed.links}
    assert ("self", f"{live_server.url}/feed.xml") in links
    assert ("alternate", f"{live_server.url}/archive/") in links
    assert [entry.link for entry in parsed.entries] == [
        f"{live_server.url}/archive/{MEETING}/",
        f"{live_server.url}/archive/{NEWS}/",
    ]
    meeting, news = parsed.entries
    assert meeting.title == "Välkommen till partnerskapsmötet 7 oktober"
    assert meeting.summary.startswith("Onsdag 7 oktober ses vi i Eskilstuna")
    assert news.updated_parsed[:5] == (2026, 6, 14, 7, 0)  # the first copy sent
    assert news.published_parsed[:5] == (2026, 6, 14, 7, 0)
    assert [entry.id for entry in parsed.entries] == [
        f"tag:127.0.0.1,2026-09-14:{MEETING}",  # host of the base URL, issue date, slug
        f"tag:127.0.0.1,2018-06-14:{NEWS}",
    ]
    assert meeting.author == "Partnerskapet för social innovation i Örebro län"
    assert b"Hemligt" not in body  # neither the private list's issue nor the unsent one


def test_feed_of_one_public_list_holds_only_its_issues(archive, live_server):
    status, _, body = fetch(f"{live_server.url}/feed.xml?list=nyhetsbrev")
    assert status == 200
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.feed.id == f"{live_server.url}/feed.xml?list=nyhetsbrev"
    assert parsed.feed.title.startswith("Nyhetsbrevet")
    assert [entry.link for entry in parsed.entries] == [f"{live_server.url}/archive/{NEWS}/"]


def test_private_list_feed_is_the_same_404_as_an_unknown_list(archive, live_server):
    private = fetch(f"{live_server.url}/feed.xml?list=styrelsen")
    unknown = fetch(f"{live_server.url}/feed.xml?list=finns-inte")
    assert private[0] == unknown[0] == 404
    assert private[2] == unknown[2]
    assert b"Hemligt" not in private[2]


def test_feed_is_well_formed_atom_with_ids_and_updated(archive, live_server):
    root = ET.fromstring(fetch(f"{live_server.url}/feed.xml")[2])  # noqa: S314 - our own feed
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert (entry.findtext(f"{ATOM}{required}") or "").strip(), required
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("type") == "text/html"


class FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.head: list[dict] = []
        self.body: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "link" and values.get("type") == "application/atom+xml":
            self.head.append(values)
        elif tag == "a" and values.get("type") == "application/atom+xml":
            self.body.append(values["href"])


def test_archive_page_links_the_feeds_of_public_lists_only(archive, live_server):
    status, _, body = fetch(f"{live_server.url}/archive/")
    assert status == 200
    links = FeedLinks()
    links.feed(body.decode())
    hrefs = [link["href"] for link in links.head]
    assert all(link["rel"] == "alternate" for link in links.head)
    assert hrefs == [
        f"{live_server.url}/feed.xml",
        f"{live_server.url}/feed.xml?list=nyhetsbrev",
        f"{live_server.url}/feed.xml?list=partnerskapet",
    ]
    assert links.body == hrefs  # visible links too, for people without feed autodiscovery
    assert "styrelsen" not in body.decode()
    for href in hrefs:
        assert fetch(href)[0] == 200


def test_feed_is_empty_but_valid_before_anything_was_sent(db, live_server):
    configure_list(db, "nyhetsbrev", public=True)
    status, _, body = fetch(f"{live_server.url}/feed.xml")
    parsed = feedparser.parse(body)
    assert status == 200 and not parsed.bozo
    assert parsed.entries == []
    assert parsed.feed.updated_parsed is not None
