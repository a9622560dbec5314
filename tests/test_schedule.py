"""Scheduled sends: `send --at` checks and records, `scheduled run` sends what is due (with a
clock the test controls) and resumes like `send`, `scheduled list` and `cancel`."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.delivery import schedule, scheduler
from mailer.delivery.send import run_send
from mailer.errors import SendError
from tests.fixtures_send import add_subscribers, free_port, smtp_environment

LIST = "nyhetsbrev"
AT = "2099-12-03 08:00"
DUE = dt.datetime(2099, 12, 3, 7, 0, tzinfo=dt.UTC)  # 08:00 CET
EARLY = DUE - dt.timedelta(minutes=1)


def invoke(settings, port, *args):
    environment = {**smtp_environment(settings, port), "NEWSLETTER_TIMEZONE": "Europe/Stockholm"}
    return CliRunner().invoke(cli, ["--db", str(settings.db_path), *args], env=environment)


def test_local_times_are_read_in_the_time_zone_and_must_lie_ahead():
    now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    winter = schedule.parse_at("2026-12-03 08:00", "Europe/Stockholm", now)
    assert winter == dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)
    summer = schedule.parse_at("2027-06-03 08:00", "Europe/Stockholm", now)
    assert summer == dt.datetime(2027, 6, 3, 6, 0, tzinfo=dt.UTC)
    assert schedule.local_text(winter, "Europe/Stockholm") == (
        "2026-12-03 08:00 CET (Europe/Stockholm)"
    )
    with pytest.raises(SendError, match="does not exist in Europe/Stockholm"):
        schedule.parse_at("2027-03-28 02:30", "Europe/Stockholm", now)
    with pytest.raises(SendError, match="is not in the future; send now without --at"):
        schedule.parse_at("2026-12-01 12:30", "Europe/Stockholm", now)  # 11:30 UTC
    with pytest.raises(SendError, match='write a local time such as "2026-12-03 08:00"'):
        schedule.parse_at("3 december 8.00", "Europe/Stockholm", now)


def test_send_at_checks_and_plans_now_and_mails_nobody(db, settings, mail_sink, built_example):
    add_subscribers(db, settings, 3, LIST)
    result = invoke(settings, mail_sink.port, "send", str(built_example), "--at", AT, "--yes")
    assert result.exit_code == 0, result.output
    assert "Scheduled:  2099-12-03 08:00 CET (Europe/Stockholm)" in result.output
    assert "Recipients: 3 to send now" in result.output  # the plan, shown now
    assert "scheduled for 2099-12-03 08:00 CET (Europe/Stockholm)" in result.output
    assert mail_sink.handler.count() == 0
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
    listed = invoke(settings, mail_sink.port, "scheduled", "list")
    assert "2018-2  2099-12-03 08:00 CET (Europe/Stockholm)  scheduled" in listed.output


def test_send_at_a_past_time_is_refused(db, settings, mail_sink, built_example):
    result = invoke(
        settings, mail_sink.port, "send", str(built_example), "--at", "2001-01-01 08:00"
    )
    assert result.exit_code != 0 and "is not in the future" in result.output


def schedule_example(settings, built_example, **options):
    return run_send(settings, built_example, at=schedule.parse_at(AT, settings.timezone), **options)


def test_scheduled_run_sends_at_the_due_time_once(db, send_settings, mail_sink, built_example):
    addresses = add_subscribers(db, send_settings, 4, LIST)
    summary = schedule_example(send_settings, built_example)
    assert summary.scheduled_for and mail_sink.handler.count() == 0

    assert scheduler.run_due(send_settings, now=EARLY) == []  # not yet
    assert mail_sink.handler.count() == 0
    (result,) = scheduler.run_due(send_settings, now=DUE)
    assert result.state == "done" and "4 sent" in result.text
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)
    assert scheduler.run_due(send_settings, now=DUE + dt.timedelta(hours=1)) == []
    (item,) = schedule.list_all(send_settings)
    assert item.state == "done" and "4 sent" in item.last_result


def test_a_scheduled_send_cut_short_resumes_on_the_next_run(
    db, send_settings, mail_sink, built_example
):
    addresses = add_subscribers(db, send_settings, 5, LIST)
    schedule_example(send_settings, built_example)
    first = scheduler.run_due(send_settings, now=DUE, send=functools.partial(run_send, limit=2))
    assert [r.state for r in first] == ["scheduled"] and "3 still to send" in first[0].text
    assert mail_sink.handler.count() == 2
    (second,) = scheduler.run_due(send_settings, now=DUE + dt.timedelta(minutes=5))
    assert second.state == "done"
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)  # nobody twice


def test_smtp_down_at_the_due_time_is_tried_again(db, settings, mail_sink, built_example):
    add_subscribers(db, settings, 2, LIST)
    down = mail_sink.settings(settings, smtp_port=free_port())  # nothing listens there
    schedule_example(down, built_example)
    (result,) = scheduler.run_due(down, now=DUE)
    assert result.state == "scheduled" and "not finished: cannot connect" in result.text
    (result,) = scheduler.run_due(mail_sink.settings(settings), now=DUE)
    assert result.state == "done" and mail_sink.handler.count() == 2


def test_an_issue_broken_since_it_was_scheduled_is_not_sent(db, settings, mail_sink, example_issue):
    add_subscribers(db, settings, 2, LIST)
    result = invoke(settings, mail_sink.port, "send", str(example_issue), "--at", AT, "--yes")
    assert result.exit_code == 0, result.output
    issue_md = example_issue / "issue.md"
    issue_md.write_text(issue_md.read_text(encoding="utf-8").replace("title: ", "titel: "), "utf-8")
    results = scheduler.run_due(mail_sink.settings(settings), now=DUE)
    assert [r.state for r in results] == ["failed"]
    assert "not sent: " in results[0].text and "issue.md" in results[0].text
    assert mail_sink.handler.count() == 0
    listed = invoke(settings, mail_sink.port, "scheduled", "list").output
    assert "failed" in listed and "issue.md" in listed


def test_the_check_runs_again_when_the_time_comes(db, send_settings, mail_sink, built_example):
    add_subscribers(db, send_settings, 2, LIST)
    schedule_example(send_settings, built_example)

    def failing_check(issue_dir):
        raise SendError("1 error: a link answers 404")

    (result,) = scheduler.run_due(send_settings, now=DUE, preflight=failing_check)
    assert result.state == "failed" and "the check failed: 1 error" in result.text
    assert mail_sink.handler.count() == 0


def test_cancel_stops_a_scheduled_send(db, settings, mail_sink, built_example):
    add_subscribers(db, settings, 2, LIST)
    invoke(settings, mail_sink.port, "send", str(built_example), "--at", AT, "--yes")
    cancelled = invoke(settings, mail_sink.port, "scheduled", "cancel", str(built_example))
    assert cancelled.exit_code == 0, cancelled.output
    assert "2018-2: the send scheduled for 2099-12-03 08:00 CET" in cancelled.output
    assert scheduler.run_due(mail_sink.settings(settings), now=DUE) == []
    assert mail_sink.handler.count() == 0
    again = invoke(settings, mail_sink.port, "scheduled", "cancel", "2018-2")
    assert again.exit_code != 0 and "2018-2 is not scheduled" in again.output


def test_scheduled_run_on_the_command_line_with_nothing_due(settings, mail_sink):
    result = invoke(settings, mail_sink.port, "scheduled", "run")
    assert result.exit_code == 0 and result.output == ""
    assert invoke(settings, mail_sink.port, "scheduled", "list").output == "Nothing is scheduled.\n"
