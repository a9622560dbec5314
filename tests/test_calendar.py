"""Calendar files: `invitation:` and `events` sections become RFC 5545 .ics files that calendar
programs read (checked by parsing them back with the `icalendar` library), linked from the email
and the web version, served by the archive, and attached to the mail with `attach_ics: true`."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest

from mailer.compose.build import build_issue
from mailer.compose.ics import CalendarEvent, calendar_text, escape_text, fold
from mailer.errors import IssueError
from tests.fixtures_compose import COMPOSE_BASE_URL, ISSUE_MD, compose_settings
from tests.fixtures_web import mark_sent

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
INVITATION = """\
invitation:
  title: Styrelsemöte; budget, val och fika
  start: 2026-03-12 18:30
  end: "20:00"
  place: Folkets hus, Storgatan 1, Orten
  organiser: Åsa Berg <asa.berg@example.se>
"""
EXAMPLE = "2026-10-partnerskapsmote"


def with_front_matter(extra: str, issue_md: str = ISSUE_MD) -> str:
    return issue_md.replace("list: nyhetsbrev\n", f"list: nyhetsbrev\n{extra}")


def parse(path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_bytes())


def only_event(calendar: icalendar.Calendar) -> icalendar.Event:
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def check_lines(data: bytes) -> None:
    """RFC 5545 3.1: CRLF after every line, none longer than 75 octets."""
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line


# --- the example invitation ----------------------------------------------------------------


def test_example_invitation_reads_back_with_its_times_zone_and_place(compose_examples):
    build = compose_examples[EXAMPLE].out_dir
    data = (build / "invitation.ics").read_bytes()
    check_lines(data)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert calendar["PRODID"]
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Stockholm"
    event = only_event(calendar)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == dt.datetime(2026, 10, 7, 10, 0, tzinfo=STOCKHOLM)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 10, 7, 8, 0, tzinfo=dt.UTC)  # CEST
    assert end.astimezone(dt.UTC) == dt.datetime(2026, 10, 7, 14, 0, tzinfo=dt.UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert str(event["SUMMARY"]) == "Partnerskapsmöte i Eskilstuna"
    assert str(event["LOCATION"]) == "Verkstadshuset, Fristadstorget, Eskilstuna"
    assert str(event["ORGANIZER"]) == "mailto:omar.hassan@example.se"
    assert event["ORGANIZER"].params["CN"] == "Omar Hassan"
    assert event.decoded("DTSTAMP") == dt.datetime(2026, 9, 14, tzinfo=dt.UTC)  # the issue date
    assert str(event["UID"]).endswith("@news.example.se")
    assert str(event["URL"]) == f"{COMPOSE_BASE_URL}/archive/{EXAMPLE}/"


def test_email_and_web_version_link_the_calendar_file(compose_examples):
    result = compose_examples[EXAMPLE]
    url = f"{COMPOSE_BASE_URL}/archive/{EXAMPLE}/invitation.ics"
    for path in (result.html_path, result.web_path):
        html = path.read_text(encoding="utf-8")
        link = re.search(rf'<a [^>]*href="{re.escape(url)}"[^>]*>(.*?)</a>', html, re.S)
        assert link, path.name
        assert "Lägg till i kalendern" in link.group(1)
        assert "onsdag 7 oktober 2026, kl. 10.00–16.00" in html
    text = result.text_path.read_text(encoding="utf-8")
    assert f"Lägg till i kalendern: {url}" in text
    assert result.meta["attach_ics"] == "invitation.ics"


def test_events_section_gets_an_all_day_calendar_without_text_dates(compose_examples):
    result = compose_examples[EXAMPLE]
    calendar = parse(result.out_dir / "05-kalender.ics")
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        "Partnerskapsmöte",
        "Lokalekonomidagarna",
        "Partnerskapsmöte med jullunch",
    }
    days = events["Lokalekonomidagarna"]
    assert days.decoded("DTSTART") == dt.date(2026, 11, 5)
    assert days.decoded("DTEND") == dt.date(2026, 11, 7)  # exclusive: through 6 Nov
    assert str(days["LOCATION"]) == "Västerås"
    assert calendar.walk("VTIMEZONE") == []  # all-day entries need no zone
    assert len({str(e["UID"]) for e in events.values()}) == 3
    html = result.html_path.read_text(encoding="utf-8")
    assert f'href="{COMPOSE_BASE_URL}/archive/{EXAMPLE}/05-kalender.ics"' in html


def test_rebuilding_gives_byte_identical_calendar_files(tmp_path, compose_examples):
    import shutil

    first = compose_examples[EXAMPLE]
    again = tmp_path / "newsletters"
    shutil.copytree(first.out_dir.parent.parent, again, ignore=shutil.ignore_patterns("build"))
    second = build_issue(again / EXAMPLE, compose_settings())
    for name in first.meta["calendars"]:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes()


# --- invitations written by the tests ------------------------------------------------------


def test_invitation_in_another_zone_carries_that_zone(issue_factory):
    issue_md = with_front_matter(INVITATION + "timezone: America/New_York\n")
    result = build_issue(issue_factory(issue_md=issue_md), compose_settings())
    calendar = parse(result.out_dir / "invitation.ics")
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    event = only_event(calendar)
    start = event.decoded("DTSTART")
    # 12 March 2026 is after the US change to summer time (8 March): UTC-4
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 3, 12, 22, 30, tzinfo=dt.UTC)
    assert result.meta["timezone"] == "America/New_York"


def test_stockholm_winter_time_is_utc_plus_one(issue_factory):
    result = build_issue(issue_factory(issue_md=with_front_matter(INVITATION)), compose_settings())
    event = only_event(parse(result.out_dir / "invitation.ics"))
    assert event.decoded("DTSTART").astimezone(dt.UTC) == dt.datetime(
        2026, 3, 12, 17, 30, tzinfo=dt.UTC
    )


def test_commas_semicolons_and_long_lines_survive_the_round_trip(issue_factory):
    result = build_issue(issue_factory(issue_md=with_front_matter(INVITATION)), compose_settings())
    data = (result.out_dir / "invitation.ics").read_bytes()
    check_lines(data)
    assert b"SUMMARY:Styrelsem\xc3\xb6te\\; budget\\, val och fika" in data
    event = only_event(icalendar.Calendar.from_ical(data))
    assert str(event["SUMMARY"]) == "Styrelsemöte; budget, val och fika"
    assert str(event["LOCATION"]) == "Folkets hus, Storgatan 1, Orten"
    assert event["ORGANIZER"].params["CN"] == "Åsa Berg"
    assert "Det här numret handlar om tester" in str(event["DESCRIPTION"])  # the preheader


def test_folding_never_splits_a_character_and_unfolds_to_the_original():
    long = "Å" * 40 + ", " + "ä" * 50
    line = f"SUMMARY:{escape_text(long)}"
    folded = fold(line)
    pieces = folded.encode("utf-8").split(b"\r\n")
    assert len(pieces) > 2
    for piece in pieces:
        assert len(piece) <= 75
        piece.decode("utf-8")  # no piece ends inside a character
    assert folded.replace("\r\n ", "") == line
    text = calendar_text(
        [
            CalendarEvent(
                uid="x@example.se",
                start=dt.datetime(2026, 1, 1, 9, 0),
                end=dt.datetime(2026, 1, 1, 10, 0),
                summary=long,
                description="rad ett\nrad två; med\\snedstreck",
            )
        ],
        tz_name="Europe/Stockholm",
        stamp=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    event = only_event(icalendar.Calendar.from_ical(text))
    assert str(event["SUMMARY"]) == long
    assert str(event["DESCRIPTION"]) == "rad ett\nrad två; med\\snedstreck"


@pytest.mark.parametrize(
    ("language", "words", "when"),
    [
        ("sv", "Lägg till i kalendern", "torsdag 12 mars 2026, kl. 18.30–20.00"),
        ("da", "Tilføj til kalender", "torsdag 12. marts 2026, kl. 18.30–20.00"),
        ("en", "Add to calendar", "Thursday 12 March 2026, 18:30–20:00"),
    ],
)
def test_link_and_time_are_in_the_issue_language(issue_factory, language, words, when):
    issue_md = with_front_matter(INVITATION).replace("language: sv", f"language: {language}")
    result = build_issue(issue_factory(issue_md=issue_md), compose_settings())
    for path in (result.html_path, result.web_path, result.text_path):
        text = path.read_text(encoding="utf-8")
        assert words in text and when in text, path.name


def test_an_all_day_invitation_is_a_date_event(issue_factory):
    invitation = "invitation:\n  start: 2026-05-02\n  end: 2026-05-03\n  place: Orten\n"
    result = build_issue(issue_factory(issue_md=with_front_matter(invitation)), compose_settings())
    event = only_event(parse(result.out_dir / "invitation.ics"))
    assert event.decoded("DTSTART") == dt.date(2026, 5, 2)
    assert event.decoded("DTEND") == dt.date(2026, 5, 4)
    assert str(event["SUMMARY"]) == "Testbrevet 2026:1"  # the subject when there is no title
    assert str(event["ORGANIZER"]) == "mailto:info@example.se"  # from newsletter.yml
    html = result.html_path.read_text(encoding="utf-8")
    assert "lördag 2 maj 2026 – söndag 3 maj 2026" in html


def test_an_issue_without_invitation_or_events_has_no_calendar(issue_factory):
    result = build_issue(issue_factory(), compose_settings())
    assert result.meta["calendars"] == []
    assert not list(result.out_dir.glob("*.ics"))
    assert "kalendern" not in result.html_path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("invitation:\n  start: 2026-03-12 18:30\n  end: 18:00\n", 10, "must come after"),
        ("invitation:\n  start: nästa torsdag\n  end: 20:00\n", 9, "YYYY-MM-DD HH:MM"),
        ("invitation:\n  start: 2026-03-29 02:30\n  end: 04:00\n", 9, "does not exist"),
        ("invitation:\n  start: 2026-03-12 18:30\n", 8, "needs end"),
        ("invitation:\n  start: 2026-03-12 18:30\n  end: 20:00\n  plats: Orten\n", 11, "plats"),
        ("invitation:\n  start: 2026-03-12 18:30\n  end: 20:00\n  organiser: Åsa\n", 11, "address"),
        ("invitation: i morgon\n", 8, "indented keys"),
        (INVITATION + "timezone: Europe/Orten\n", 14, "unknown time zone"),
        ("attach_ics: true\n", 8, "add 'invitation:'"),
        (INVITATION + "attach_ics: kanske\n", 14, "true or false"),
        ("invitation:\n  start: 2026-03-12 18:30:00+01:00\n  end: 20:00\n", 9, "offset"),
    ],
)
def test_invitation_mistakes_name_file_and_line(issue_factory, extra, line, message):
    issue_dir = issue_factory(issue_md=with_front_matter(extra))
    with pytest.raises(IssueError) as caught:
        build_issue(issue_dir, compose_settings())
    assert f"issue.md:{line}:" in str(caught.value)
    assert message in str(caught.value)
    assert not (issue_dir / "build").exists()


# --- serving and sending ---------------------------------------------------------------------


def test_archive_serves_the_calendar_of_a_sent_issue_as_text_calendar(client, db, built_issues):
    assert client.get(f"/archive/{EXAMPLE}/invitation.ics").status_code == 404  # not sent yet
    mark_sent(db, EXAMPLE)
    response = client.get(f"/archive/{EXAMPLE}/invitation.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="{EXAMPLE}-invitation.ics"' in response.headers["Content-Disposition"]
    event = only_event(icalendar.Calendar.from_ical(response.data))
    assert str(event["SUMMARY"]) == "Partnerskapsmöte i Eskilstuna"
    for missing in ("nothing.ics", "meta.json", "..%2fissue.md", "web.ics"):
        assert client.get(f"/archive/{EXAMPLE}/{missing}").status_code == 404, missing


def test_attach_ics_adds_a_text_calendar_part_to_the_mail(
    send_settings, mail_sink, tmp_path, issue_factory
):
    from mailer.delivery.send import send_test

    issue_dir = issue_factory(issue_md=with_front_matter(INVITATION + "attach_ics: true\n"))
    send_test(send_settings, issue_dir, "anna@example.se")
    [received] = mail_sink.handler.received
    message = received.parsed()
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("html",)) is not None and message.get_body(("plain",)) is not None
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "PUBLISH"
    assert part.get_filename() == "2026-1-invitation.ics"
    event = only_event(icalendar.Calendar.from_ical(part.get_content()))
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 12, 18, 30, tzinfo=STOCKHOLM)
    assert part.get_content().encode() == (issue_dir / "build" / "invitation.ics").read_bytes()


def test_without_attach_ics_the_mail_has_no_attachment(send_settings, mail_sink, issue_factory):
    from mailer.delivery.send import send_test

    send_test(send_settings, issue_factory(issue_md=with_front_matter(INVITATION)), "a@example.se")
    message = mail_sink.handler.received[0].parsed()
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []
