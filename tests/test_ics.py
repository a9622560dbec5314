"""Calendar files (RFC 5545): the invitation of issue.md and the events layout, parsed back
with `icalendar`; links in the email and web version; the web serves them; attach_ics."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import zoneinfo

import icalendar
import pytest

from mailer.audience.roster import add_subscriber
from mailer.compose.build import build_issue
from mailer.delivery.send import run_send
from mailer.errors import IssueError
from mailer.store.db import transaction
from tests.fixtures_send import PROJECT_ROOT, copy_shared
from tests.fixtures_web import mark_sent

INVITE = "2026-10-partnerskapsmote"
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


@pytest.fixture
def invite_issue(tmp_path):
    """A copy of the example invitation issue (its issue.md has `invitation:`)."""
    target = tmp_path / "newsletters" / INVITE
    shutil.copytree(
        PROJECT_ROOT / "newsletters" / INVITE, target, ignore=shutil.ignore_patterns("build")
    )
    copy_shared(tmp_path / "newsletters")
    return target


def set_invitation(issue_dir, lines: str, language: str | None = None) -> None:
    """Replace the `invitation:` block of issue.md with `lines` (indented YAML)."""
    path = issue_dir / "issue.md"
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("invitation:\n")
    tail = rest[rest.index("---") :]
    if language:
        head = head.replace("language: sv", f"language: {language}")
    path.write_text(f"{head}invitation:\n{lines}{tail}", encoding="utf-8")


def parse(path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_bytes())


def test_invitation_becomes_a_calendar_file_with_its_time_zone(invite_issue, settings):
    result = build_issue(invite_issue, settings)
    calendar = parse(result.out_dir / "invitation.ics")
    assert calendar["method"] == "PUBLISH" and calendar["version"] == "2.0"
    (timezone,) = calendar.walk("VTIMEZONE")
    assert timezone["tzid"] == "Europe/Stockholm"
    (event,) = calendar.walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start == dt.datetime(2026, 10, 7, 10, 0, tzinfo=STOCKHOLM)
    assert start.astimezone(dt.UTC).hour == 8  # CEST, from the VTIMEZONE's rules
    assert end - start == dt.timedelta(hours=6)
    assert str(event["summary"]) == "Partnerskapsmöte"
    assert str(event["location"]) == "Verkstadshuset, Eskilstuna"
    assert str(event["organizer"]) == "mailto:omar.hassan@example.se"
    assert event["organizer"].params["CN"] == "Omar Hassan"
    assert str(event["uid"]) == f"{INVITE}-invitation@example.se"
    assert event.decoded("dtstamp") == dt.datetime(2026, 9, 14, tzinfo=dt.UTC)  # issue date
    assert result.meta["calendar"] == {
        "invitation": "invitation.ics",
        "attach_ics": True,
        "events": True,
    }


def test_a_rebuild_gives_the_same_calendar_bytes(invite_issue, settings):
    first = (build_issue(invite_issue, settings).out_dir / "invitation.ics").read_bytes()
    second = (build_issue(invite_issue, settings).out_dir / "invitation.ics").read_bytes()
    assert first == second and b"\r\n" in first


def test_events_layout_gives_timed_and_all_day_entries(invite_issue, settings):
    result = build_issue(invite_issue, settings)
    events = parse(result.out_dir / "events.ics").walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        "Partnerskapsmöte",
        "Lokalekonomidagarna",
        "Partnerskapsmöte med jullunch",
    ]
    meeting, fair, lunch = events
    assert meeting.decoded("dtstart") == dt.datetime(2026, 10, 7, 10, tzinfo=STOCKHOLM)
    assert meeting.decoded("dtend") == dt.datetime(2026, 10, 7, 16, tzinfo=STOCKHOLM)
    assert str(meeting["description"]) == "kl. 10–16"
    # an event over two days, all day: DTEND is the day after (exclusive)
    assert (fair.decoded("dtstart"), fair.decoded("dtend")) == (
        dt.date(2026, 11, 5),
        dt.date(2026, 11, 7),
    )
    assert str(fair["url"]) == "https://www.example.se/lokalekonomidagarna"
    assert lunch.decoded("dtstart") == dt.date(2026, 12, 8)
    assert len({str(e["uid"]) for e in events}) == 3


@pytest.mark.parametrize(
    ("language", "label"),
    [("sv", "Lägg till i kalendern"), ("da", "Tilføj til kalender"), ("en", "Add to calendar")],
)
def test_email_text_and_web_link_the_calendar_in_the_issues_language(
    invite_issue, settings, language, label
):
    set_invitation(
        invite_issue,
        "  start: 2026-10-07 10:00\n  end: 2026-10-07 16:00\n  place: Verkstadshuset\n"
        "  organiser: Omar Hassan <omar.hassan@example.se>\n",
        language=language,
    )
    result = build_issue(invite_issue, settings)
    url = f"{settings.base_url.rstrip('/')}/archive/{INVITE}/invitation.ics"
    events_url = f"{settings.base_url.rstrip('/')}/archive/{INVITE}/events.ics"
    for name in ("email.html", "web.html"):
        html = (result.out_dir / name).read_text(encoding="utf-8")
        assert f'href="{url}"' in html and label in html, name
        assert f'href="{events_url}"' in html
    text = result.text_path.read_text(encoding="utf-8")
    assert f"{label}: {url}" in text and f"{label}: {events_url}" in text
    assert "10:00–16:00" in text
    assert result.meta["calendar"]["attach_ics"] is False


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            "  start: 2026-10-07 16:00\n  end: 2026-10-07 10:00\n  place: X\n  organiser: a@b.se\n",
            "ends (2026-10-07 10:00) before it starts",
        ),
        (
            "  start: 2026-10-07 10:00\n  end: 2026-10-07 16:00\n  organiser: a@b.se\n",
            "the invitation needs 'place'",
        ),
        (
            "  start: 2026-10-07 10:00\n  end: 2026-10-07 16:00\n  place: X\n  organiser: Anna\n",
            "organiser 'Anna': write a name and address",
        ),
        (
            "  start: 7 oktober\n  end: 2026-10-07 16:00\n  place: X\n  organiser: a@b.se\n",
            "invitation start '7 oktober' is not a time",
        ),
        (
            "  start: 2026-10-07 10:00\n  end: 2026-10-07 16:00\n  place: X\n  organiser: a@b.se\n"
            "  tz: Europe/Örebro\n",
            "unknown time zone 'Europe/Örebro'",
        ),
        (
            "  start: 2026-10-07 10:00\n  end: 2026-10-07 16:00\n  place: X\n  organiser: a@b.se\n"
            "  rsvp: yes\n",
            "unknown invitation key 'rsvp'",
        ),
    ],
)
def test_a_wrong_invitation_is_refused_naming_the_line(invite_issue, settings, lines, message):
    set_invitation(invite_issue, lines)
    with pytest.raises(IssueError, match=r"issue\.md:13: ") as caught:
        build_issue(invite_issue, settings)
    assert message in str(caught.value)


def test_another_time_zone_is_honoured(invite_issue, settings):
    set_invitation(
        invite_issue,
        "  start: 2026-10-07 10:00\n  end: 2026-10-07 12:00\n  place: Nuuk\n"
        "  organiser: a@example.se\n  tz: America/Nuuk\n",
    )
    calendar = parse(build_issue(invite_issue, settings).out_dir / "invitation.ics")
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "America/Nuuk"
    start = calendar.walk("VEVENT")[0].decoded("dtstart")
    assert start.utcoffset() == zoneinfo.ZoneInfo("America/Nuuk").utcoffset(
        start.replace(tzinfo=None)
    )


def test_the_web_serves_the_calendar_files_of_a_sent_issue(client, db, built_issues):
    assert client.get(f"/archive/{INVITE}/invitation.ics").status_code == 404  # not sent yet
    mark_sent(db, INVITE)
    response = client.get(f"/archive/{INVITE}/invitation.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.get_data())
    assert str(calendar.walk("VEVENT")[0]["summary"]) == "Partnerskapsmöte"
    assert client.get(f"/archive/{INVITE}/events.ics").status_code == 200
    assert client.get(f"/archive/{INVITE}/other.ics").status_code == 404
    assert client.get("/archive/2018-2/invitation.ics").status_code == 404  # it has none


def test_attach_ics_attaches_the_invitation_to_every_copy(db, settings, invite_issue, mail_sink):
    send_settings = mail_sink.settings(settings)
    with transaction(db):
        add_subscriber(
            db, send_settings, "anna@example.org", name="Anna", list_name="partnerskapet"
        )
    summary = run_send(send_settings, invite_issue)
    assert summary.sent == 1
    (received,) = mail_sink.handler.received
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    assert "Partnerskapsmöte" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "invitation.ics"
    assert attachment.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
    assert calendar.walk("VEVENT")[0].decoded("dtstart") == dt.datetime(
        2026, 10, 7, 10, tzinfo=STOCKHOLM
    )
    assert calendar.to_ical() == (invite_issue / "build" / "invitation.ics").read_bytes()
