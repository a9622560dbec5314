"""Aggregate click counting (NEWSLETTER_CLICK_COUNTING=on): the build sends the email's links
through /r/SLUG/N, the app counts per issue and link and redirects only to listed addresses,
and nothing in the database ties a click to a person."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil

import pytest

from mailer.compose.build import is_stale, source_hash
from mailer.compose.clicks import ANCHOR, shows_address
from mailer.compose.issue import read_issue
from mailer.locale import translate
from tests.fixtures_send import EXAMPLE_ISSUE
from tests.fixtures_web import mark_sent

BASE = "https://news.example.se"


@pytest.fixture
def counted(counted_build, newsletters_dir):
    """The counted build in this test's newsletters folder (the web app's)."""
    shutil.copytree(counted_build, newsletters_dir, dirs_exist_ok=True)
    build = newsletters_dir / EXAMPLE_ISSUE / "build"
    return json.loads((build / "meta.json").read_text(encoding="utf-8")), build


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_build_sends_only_the_email_links_through_the_counter(counted):
    meta, build = counted
    email = (build / "email.html").read_text(encoding="utf-8")
    text = (build / "email.txt").read_text(encoding="utf-8")
    web = (build / "web.html").read_text(encoding="utf-8")
    assert meta["click_counting"] is True
    links = meta["links"]
    assert len(links) >= 3 and set(links) == {str(n) for n in range(1, len(links) + 1)}
    counted_links = [h for h in hrefs(email) if h.startswith(f"{BASE}/r/")]
    assert all(re.fullmatch(rf"{BASE}/r/2018-2/\d+", h) for h in counted_links)
    assert {h.rsplit("/", 1)[1] for h in counted_links} == set(links)
    # every other web link shows its own address as its text (see the test below)
    for anchor in ANCHOR.finditer(email):
        assert anchor.group(1).startswith(f"{BASE}/r/") or shows_address(anchor.group(2))
    # personal links stay placeholders, filled per recipient
    assert "%%unsubscribe_url%%" in email
    # the text part and the web version keep the real addresses
    assert "/r/" not in text and "/r/" not in web
    outside = [t for t in links.values() if not t.startswith(BASE)]
    assert outside and all(t in text or t in web for t in outside)
    # the privacy layout says what is counted, in the email and the text, in the issue's language
    note = translate("sv", "click_counting_note")
    assert note in email and " ".join(note.split()[:6]) in " ".join(text.split())
    assert note not in web


def test_build_without_click_counting_has_real_links_and_no_link_list(built_example):
    meta = json.loads((built_example / "build" / "meta.json").read_text(encoding="utf-8"))
    email = (built_example / "build" / "email.html").read_text(encoding="utf-8")
    assert "links" not in meta and "click_counting" not in meta
    assert "/r/" not in email and translate("sv", "click_counting_note") not in email
    issue = read_issue(built_example)
    # the stale-check hash of a build without counting is what it was before the setting
    assert (
        meta["source_hash"]
        == source_hash(issue, BASE)
        == source_hash(issue, BASE, click_counting=False)
    )
    assert source_hash(issue, BASE, click_counting=True) != meta["source_hash"]


def test_turning_click_counting_on_makes_the_build_stale(built_example, settings):
    assert not is_stale(built_example, settings)
    assert is_stale(built_example, dataclasses.replace(settings, click_counting="on"))


def test_setting_accepts_only_on_or_off():
    from mailer.config import load_settings
    from mailer.errors import ConfigError

    with pytest.raises(ConfigError, match="NEWSLETTER_CLICK_COUNTING='yes': use on or off"):
        load_settings({}, env_file=None, environ={"NEWSLETTER_CLICK_COUNTING": "yes"})


def test_a_link_followed_twice_counts_two(client, db, counted):
    meta, _build = counted
    mark_sent(db, EXAMPLE_ISSUE)
    target = meta["links"]["2"]
    for _ in range(2):
        response = client.get(f"/r/{EXAMPLE_ISSUE}/2")
        assert response.status_code == 302
        assert response.headers["Location"] == target
        assert response.headers["Cache-Control"] == "no-store"
    client.get(f"/r/{EXAMPLE_ISSUE}/1")
    assert client.head(f"/r/{EXAMPLE_ISSUE}/1").status_code == 302  # answered, not counted
    rows = db.execute("SELECT issue, link, clicks FROM link_clicks ORDER BY link").fetchall()
    assert rows == [(EXAMPLE_ISSUE, 1, 1), (EXAMPLE_ISSUE, 2, 2)]


def test_redirect_goes_only_to_links_of_a_sent_issue(client, db, counted, newsletters_dir):
    meta, _build = counted
    # not before the issue is sent
    assert client.get(f"/r/{EXAMPLE_ISSUE}/1").status_code == 404
    mark_sent(db, EXAMPLE_ISSUE)
    beyond = len(meta["links"]) + 1
    for path in (
        f"/r/{EXAMPLE_ISSUE}/{beyond}",
        f"/r/{EXAMPLE_ISSUE}/0",
        f"/r/{EXAMPLE_ISSUE}/-1",
        f"/r/{EXAMPLE_ISSUE}/1?to=https://evil.example",  # the query is ignored ...
        "/r/..%2F2018-2/1",
        "/r/2018-3/1",
        "/r/nyhetsbrev/1",
    ):
        response = client.get(path)
        if path.endswith("evil.example"):
            assert response.headers["Location"] == meta["links"]["1"]  # ... never a target
            continue
        assert response.status_code == 404, path
    # a sent issue built without counting has no redirect at all
    plain = newsletters_dir / "plain"
    shutil.copytree(newsletters_dir / EXAMPLE_ISSUE, plain)
    plain_meta = json.loads((plain / "build" / "meta.json").read_text(encoding="utf-8"))
    plain_meta.pop("click_counting")
    (plain / "build" / "meta.json").write_text(json.dumps(plain_meta), encoding="utf-8")
    mark_sent(db, "plain")
    assert client.get("/r/plain/1").status_code == 404
    counted_rows = db.execute("SELECT issue, link, clicks FROM link_clicks").fetchall()
    assert counted_rows == [(EXAMPLE_ISSUE, 1, 1)]


def snapshot(db) -> dict[str, list]:
    return {
        table: db.execute(f"SELECT * FROM [{table}] ORDER BY rowid").fetchall()  # noqa: S608
        for table in db.table_names()
        if not db[table].schema.upper().endswith("WITHOUT ROWID")
    }


def test_a_click_records_nothing_about_the_person(client, db, settings, counted, person):
    mark_sent(db, EXAMPLE_ISSUE)
    before = snapshot(db)
    ip, agent = "203.0.113.77", "ReaderAgent/1.0 anna"
    response = client.get(
        f"/r/{EXAMPLE_ISSUE}/1",
        environ_base={"REMOTE_ADDR": ip},
        headers={"User-Agent": agent, "Referer": "https://mail.example/?u=anna@example.se"},
    )
    assert response.status_code == 302
    after = snapshot(db)
    changed = {t for t in after if after[t] != before.get(t)}
    assert changed == {"link_clicks"}
    assert [c.name for c in db["link_clicks"].columns] == ["issue", "link", "clicks"]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = settings.db_path.read_bytes()
    for trace in (ip, agent, "mail.example"):
        assert trace.encode() not in raw


def test_the_processing_record_says_what_is_counted(db, settings):
    from mailer.audience.processing_record import render_record

    off = render_record(db, settings, {})
    assert "No tracking pixels and no click redirects are used" in off
    on = render_record(db, dataclasses.replace(settings, click_counting="on"), {})
    assert "No tracking pixels and no click redirects" not in on
    assert "Clicks are counted in aggregate" in on and "`link_clicks`" in on
    assert "no subscriber, IP address, browser or time" in on


def test_check_judges_a_counted_link_by_its_real_address(counted, settings):
    """`check` sees through /r/SLUG/N: a link to this computer is still caught."""
    from mailer.check.context import load_context
    from mailer.check.links import check_links
    from mailer.check.report import Report

    meta, build = counted
    meta["links"]["3"] = "http://127.0.0.1:8000/utkast"
    (build / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    report = Report(EXAMPLE_ISSUE)
    check_links(load_context(build.parent, settings), report)
    loopback = [f for f in report.findings if f.code == "href-loopback"]
    assert len(loopback) == 1 and "127.0.0.1:8000" in loopback[0].message


def test_a_link_whose_text_is_an_address_keeps_it(counted):
    """Text naming one address over a link to another looks like phishing: such links stay."""
    from mailer.compose.clicks import count_links

    _meta, build = counted
    email = (build / "email.html").read_text(encoding="utf-8")
    assert re.search(r'href="https://www.example.se/personuppgifter"[^>]*>https://www', email)
    source = (
        '<a href="https://a.example/x?y=1&amp;z=2">Read</a> '
        '<a class="l" href="https://b.example/">https://b.example/</a> '
        '<a href="https://c.example/"><span>www.c.example</span></a> '
        '<a href="https://a.example/x?y=1&amp;z=2">Again</a>'
    )
    rewritten, links = count_links(source, BASE, "2026-1")
    assert links == {"1": "https://a.example/x?y=1&z=2"}
    assert rewritten.count(f'href="{BASE}/r/2026-1/1"') == 2
    assert 'href="https://b.example/"' in rewritten and 'href="https://c.example/"' in rewritten
