"""Atom feeds of the archive: /feed.xml for every public list, ?list=NAME for one, parsed with
feedparser; linked from the archive page; private and unknown lists are not shown."""

from __future__ import annotations

import shutil

import feedparser

from mailer.audience.subscribers import ensure_list
from mailer.compose.build import build_issue
from mailer.store.db import transaction
from tests.fixtures_web import mark_sent

BASE = "https://news.example.se"


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.bozo_exception  # well-formed Atom
    assert parsed.version == "atom10"
    return parsed


def test_each_public_list_has_a_feed_of_its_sent_issues(
    client, db, settings, built_issues, newsletters_dir
):
    with transaction(db):
        ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
        ensure_list(db, "partnerskapet", "Partnerskapet")
    # a second, unsent issue of nyhetsbrev stays out
    shutil.copytree(newsletters_dir / "2018-2", newsletters_dir / "2099-1-utkast")
    build_issue(newsletters_dir / "2099-1-utkast", settings)
    mark_sent(db, "2018-2")
    mark_sent(db, "2026-10-partnerskapsmote")

    one = fetch(client, "/feed.xml?list=nyhetsbrev")
    assert one.feed.title.startswith("Nyhetsbrevet – ")
    assert one.feed.links[0].href == f"{BASE}/feed.xml?list=nyhetsbrev"
    (entry,) = one.entries
    assert entry.link == f"{BASE}/archive/2018-2/"
    assert entry.id == f"{BASE}/archive/2018-2/"
    assert entry.title == "Nyhetsbrev 2018:2 – sommarnumret"
    assert entry.summary.startswith("Social hänsyn i upphandlingar")
    assert entry.published.startswith("2018-06-14")
    assert one.feed.language == "sv"

    everything = fetch(client, "/feed.xml")
    assert [e.link for e in everything.entries] == [
        f"{BASE}/archive/2026-10-partnerskapsmote/",
        f"{BASE}/archive/2018-2/",
    ]  # newest first
    assert everything.feed.updated == max(e.updated for e in everything.entries)


def test_private_and_unknown_lists_have_no_feed(client, db, built_issues):
    with transaction(db):
        ensure_list(db, "nyhetsbrev")
        ensure_list(db, "partnerskapet")
        db.execute("UPDATE lists SET public = 0 WHERE name = 'partnerskapet'")
    mark_sent(db, "2018-2")
    mark_sent(db, "2026-10-partnerskapsmote")
    assert client.get("/feed.xml?list=partnerskapet").status_code == 404
    assert client.get("/feed.xml?list=finns-inte").status_code == 404
    links = [e.link for e in fetch(client, "/feed.xml").entries]
    assert links == [f"{BASE}/archive/2018-2/"]


def test_the_archive_page_links_its_feeds(client, db, built_issues):
    with transaction(db):
        ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
    mark_sent(db, "2018-2")
    page = client.get("/archive/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Nyhetsbrevet" '
        f'href="{BASE}/feed.xml?list=nyhetsbrev">'
    ) in page
    assert "Följ arkivet i din flödesläsare (Atom):" in page
    assert f'<a href="{BASE}/feed.xml?list=nyhetsbrev">Nyhetsbrevet</a>' in page


def test_an_empty_feed_is_still_valid_atom(client, db, built_issues):
    with transaction(db):
        ensure_list(db, "nyhetsbrev")
    parsed = fetch(client, "/feed.xml?list=nyhetsbrev")
    assert parsed.entries == []
