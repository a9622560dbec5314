"""`newsletter report`: figures checked against a database filled by real work (an issue built
with click counting and sent through an aiosmtpd sink, an unsubscribe, a bounce report, clicks
through the app), the text and CSV output, and the charts opened with Pillow."""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image

from mailer.audience import subscribers
from mailer.delivery.bounces.run import import_bounces
from mailer.delivery.funder_report import (
    _shift,
    month_figures,
    report_for,
    unsubscribed_within,
)
from mailer.store.db import transaction
from tests.fixtures_bounces import LIST, send_issue
from tests.fixtures_send import EXAMPLE_ISSUE


@pytest.fixture
def reported(db, settings, mail_sink, counted_build, tmp_path):
    """The counted example sent to 5 people; then one unsubscribes, one hard-bounces, and
    link 1 is followed twice and link 2 once. Returns the settings the send used."""
    from mailer.web import create_app

    newsletters = settings.project_root / "newsletters"
    shutil.copytree(counted_build, newsletters)
    mailed = send_issue(
        db, settings, mail_sink, newsletters / EXAMPLE_ISSUE, 5, click_counting="on"
    )
    first = subscribers.get_subscriber(db, mailed.addresses[0])
    subscribers.unsubscribe(db, first["id"], LIST, channel="one-click")
    bounce = tmp_path / "hard.eml"
    bounce.write_bytes(mailed.report("dsn-hard.eml", mailed.addresses[1]))
    assert import_bounces(mailed.settings, [bounce]).hard == 1
    app = create_app(mailed.settings, test_config={"TESTING": True}, newsletters_dir=newsletters)
    client = app.test_client()
    for number in (1, 1, 2):
        assert client.get(f"/r/{EXAMPLE_ISSUE}/{number}").status_code == 302
    return mailed.settings


def test_report_figures_match_what_happened(reported):
    report = report_for(reported)
    (issue,) = report.issues
    assert (issue.issue, issue.lists, issue.delivered, issue.failed) == (
        EXAMPLE_ISSUE,
        [LIST],
        5,
        0,
    )
    assert (issue.hard_bounces, issue.soft_bounces, issue.complaints) == (1, 0, 0)
    assert issue.unsubscribed_7d == 1
    assert issue.clicks == {1: 2, 2: 1} and issue.total_clicks == 3
    assert len(issue.links) >= 3 and issue.links[1].startswith("http")
    (month,) = report.months
    # 5 signed up; one unsubscribed and one bounced address left the list
    assert (month.list_name, month.size, month.sign_ups, month.unsubscriptions) == (LIST, 3, 5, 1)
    assert report.language == "sv"


def test_unsubscribes_count_only_within_seven_days_of_the_first_send(reported, db):
    first = db.execute("SELECT min(sent_at) FROM deliveries WHERE issue = ?", [EXAMPLE_ISSUE])
    start = first.fetchone()[0]
    list_pk = subscribers.list_id(db, LIST)
    assert unsubscribed_within(db, [list_pk], start, 7) == 1
    assert unsubscribed_within(db, [list_pk], _shift(start, -8), 7) == 0


def run(settings, *args):
    from cli import cli

    return CliRunner().invoke(cli, ["--db", str(settings.db_path), "report", *args])


def test_report_text_and_csv(reported):
    text = run(reported)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    row = next(line for line in lines if line.startswith(EXAMPLE_ISSUE))
    assert row.split()[-7:] == ["5", "0", "1", "0", "0", "1", "3"]
    assert lines[-1] == (
        "1 issue(s) sent, 5 delivered, 3 link clicks on 1 issue(s) with click counting; "
        f"3 active subscriptions at the end of {reported_month(reported)}."
    )
    assert "@" not in text.stdout  # counts only, no address
    folder = reported.project_root / "newsletters" / EXAMPLE_ISSUE
    assert run(reported, str(folder)).stdout == text.stdout  # a folder names the issue too
    result = run(reported, EXAMPLE_ISSUE, "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(result.stdout[1:]), delimiter=";"))
    assert rows[0] == ["Utskick"]
    assert rows[1][:4] == ["Nummer", "Datum", "Lista", "Levererade"]
    assert rows[2][0] == EXAMPLE_ISSUE and rows[2][3:] == ["5", "0", "1", "0", "0", "1", "3"]
    links = rows[rows.index(["Klick per länk"]) + 2 :]
    assert [r[1] for r in links[:2]] == ["1", "2"] and [r[3] for r in links[:2]] == ["2", "1"]
    months = rows[rows.index(["Per månad"]) + 2 :]
    assert months == [[reported_month(reported), LIST, "3", "5", "1"]]


def reported_month(settings) -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def test_report_on_an_issue_never_sent_says_so(reported):
    result = run(reported, "2018-9")
    assert result.exit_code != 0
    assert "issue '2018-9' has not been sent" in result.output
    assert "Traceback" not in result.output


def test_report_without_a_database_creates_none(settings, tmp_path):
    missing = tmp_path / "none.db"
    from cli import cli

    result = CliRunner().invoke(cli, ["--db", str(missing), "report"])
    assert result.exit_code != 0 and "no database" in result.output
    assert not missing.exists()


def distinct_colours(path) -> int:
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return sum(1 for count, _colour in colours if count > 200)


def test_report_charts_are_svg_and_png_for_word(reported, tmp_path):
    folder = tmp_path / "charts"
    result = run(reported, "--charts", str(folder))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    stems = ("clicks", "delivered", "signups", "subscribers")
    assert names == sorted(f"{s}.{x}" for s in stems for x in ("png", "svg"))
    for stem in stems:
        with Image.open(folder / f"{stem}.png") as image:
            assert image.size == (2000, 1125)  # 16:9 at 200 dpi
        assert distinct_colours(folder / f"{stem}.png") >= 3  # not blank: ink, bars, paper
        svg = (folder / f"{stem}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and svg.count("<path") > 5
    # the same figures give the same SVG bytes
    again = tmp_path / "again"
    run(reported, "--charts", str(again))
    assert (again / "delivered.svg").read_bytes() == (folder / "delivered.svg").read_bytes()


def test_charts_without_matplotlib_say_what_to_install(reported, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = run(reported, "--charts", str(tmp_path / "charts"))
    assert result.exit_code != 0
    assert "pipx inject newsletter matplotlib" in result.output
    assert "pip install 'newsletter[report]'" in result.output
    assert not (tmp_path / "charts").exists()
    assert run(reported, "--format", "csv").exit_code == 0  # the figures work without it


def test_list_size_per_month_replays_consent_events(db, lists):
    """Sizes at month end from a log with known times, an erased person among them."""
    rows = [
        ("2026-01-05T10:00:00.000000Z", "import", 1),
        ("2026-01-06T10:00:00.000000Z", "import", 2),
        ("2026-01-07T10:00:00.000000Z", "subscribe", 3),  # pending: not on the list
        ("2026-01-08T10:00:00.000000Z", "confirm", 3),
        ("2026-01-09T10:00:00.000000Z", "add", 3),  # already active: no second sign-up
        ("2026-02-02T10:00:00.000000Z", "unsubscribe", 1),
        ("2026-02-03T10:00:00.000000Z", "bounce", 2),
        ("2026-04-01T10:00:00.000000Z", "reactivate", 2),
        ("2026-04-02T10:00:00.000000Z", "import", None),  # erased since: counted, not sized
    ]
    list_pk = lists["nyhetsbrev"]
    with transaction(db):
        for person in (1, 2, 3):
            db.execute(
                "INSERT INTO subscribers (id, email, language, created) VALUES (?, ?, 'sv', ?)",
                [person, f"p{person}@example.se", rows[0][0]],
            )
        for at, action, person in rows:
            db.execute(
                "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, "
                "anonymised) VALUES (?, ?, ?, ?, 'cli', ?)",
                [at, action, person, list_pk, int(person is None)],
            )
    months = month_figures(db, [list_pk], now="2026-05-10")
    assert [(m.month, m.size, m.sign_ups, m.unsubscriptions) for m in months] == [
        ("2026-01", 3, 3, 0),
        ("2026-02", 1, 0, 1),
        ("2026-03", 1, 0, 0),
        ("2026-04", 2, 1, 0),
        ("2026-05", 2, 0, 0),
    ]


def preview_app(settings):
    from mailer.web import create_app

    newsletters = settings.project_root / "newsletters"
    return create_app(
        settings,
        test_config={"TESTING": True},
        newsletters_dir=newsletters,
        preview_issue=newsletters / EXAMPLE_ISSUE,
    )


def test_preview_report_page_shows_the_figures_and_charts(reported):
    import base64

    page = preview_app(reported).test_client().get("/report?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Report for the funder" in html and "Unsubscribed within 7 days" in html
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells[:10] == [EXAMPLE_ISSUE, cells[1], LIST, "5", "0", "1", "0", "0", "1", "3"]
    charts = re.findall(r'<img class="report-chart" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(charts) == 4
    assert b"<svg" in base64.b64decode(charts[0])
    assert 'alt="Delivered per issue"' in html
    # no person's address on the page (the organisation's own contact address is in its footer)
    assert "@" not in re.sub(r"<(img|link)[^>]*>", "", html).replace("info@example.se", "")


def test_preview_report_page_without_a_database_creates_none(settings, counted_build):
    import dataclasses

    newsletters = settings.project_root / "newsletters"
    shutil.copytree(counted_build, newsletters)
    missing = settings.project_root / "none.db"
    local = dataclasses.replace(settings, db_path=missing)
    page = preview_app(local).test_client().get("/report?lang=sv")
    assert page.status_code == 200
    assert "Det finns ingen prenumerantdatabas" in page.get_data(as_text=True)
    assert not missing.exists()


def test_the_public_app_has_no_report_page(client):
    assert client.get("/report").status_code == 404


@pytest.mark.browser
def test_preview_report_page_in_chromium_fits_phones(reported, page, screenshot_dir):
    """Desktop, 375 and 320 px: the charts load and the page never scrolls sideways (wide
    tables scroll in their own box)."""
    import dataclasses

    from tests.fixtures_web import LiveServer, free_port

    port = free_port()
    local = dataclasses.replace(reported, base_url=f"http://127.0.0.1:{port}")
    with LiveServer(preview_app(local), port) as server:
        for width, height in ((1280, 900), (375, 740), (320, 640)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{server.url}/report?lang=sv")
            loaded = page.eval_on_selector_all(
                "img.report-chart", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
            )
            assert loaded == [True] * 4
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(screenshot_dir / f"report-{width}.png"), full_page=True)
