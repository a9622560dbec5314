"""Scheduled sends against a real SMTP server (aiosmtpd), with a clock the tests control:
not due -> nothing sent; due -> sent once; run again -> nothing more; a stopped run resumes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.delivery.schedule import cancel_schedule, list_schedules, run_due, schedule_send
from mailer.errors import SendError
from mailer.store.db import transaction
from tests.fixtures_send import (
    EXAMPLE_ISSUE,
    PROJECT_ROOT,
    FaultyHandler,
    add_subscribers,
    copy_shared,
    free_port,
    smtp_environment,
    start_sink,
)

LIST = "nyhetsbrev"
FAST = {"retry_delays": (0.01, 0.02, 0.05)}
SCHEDULED_AT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # when the editor schedules
DUE = dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)  # 2026-12-03 08:00 in Stockholm (CET)


def utc(**moved) -> dt.datetime:
    return DUE + dt.timedelta(**moved)


class Gate:
    """Stands in for `newsletter check` (tested through the CLI below); records its calls."""

    def __init__(self, error: str = "") -> None:
        self.calls: list[tuple] = []
        self.error = error

    def __call__(self, issue_dir, force=False):
        self.calls.append((issue_dir.name, force))
        if self.error:
            raise SendError(self.error)


def states(db) -> list[str]:
    return [row[0] for row in db.execute("SELECT state FROM scheduled_sends ORDER BY id")]


def test_due_time_is_the_issue_zone_and_shown_with_it(db, send_settings, built_example):
    add_subscribers(db, send_settings, 2, LIST)
    shown = []
    schedule, plan = schedule_send(
        send_settings,
        built_example,
        "2026-12-03 08:00",
        now=SCHEDULED_AT,
        confirm=lambda plan, schedule: shown.append(schedule.when()) or True,
    )
    assert schedule.due == DUE
    assert schedule.when() == "2026-12-03 08:00 CET (Europe/Stockholm)"
    assert shown == [schedule.when()]
    assert (schedule.state, schedule.list_name, plan.recipients) == ("waiting", LIST, 2)


def test_not_due_sends_nothing_due_sends_once_and_again_nothing(
    db, send_settings, mail_sink, built_example
):
    addresses = add_subscribers(db, send_settings, 5, LIST)
    gate = Gate()
    schedule_send(send_settings, built_example, "2026-12-03 08:00", gate=gate, now=SCHEDULED_AT)
    assert gate.calls == [("2018-2", False)]  # the checks ran when it was scheduled

    assert run_due(send_settings, gate=gate, now=utc(minutes=-1), **FAST) == []
    assert mail_sink.handler.count() == 0 and states(db) == ["waiting"]

    [outcome] = run_due(send_settings, gate=gate, now=utc(minutes=2), **FAST)
    assert outcome.state == "done" and "5 sent" in outcome.message
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)
    assert gate.calls[-1] == ("2018-2", False)  # and again at the due time

    assert run_due(send_settings, gate=gate, now=utc(minutes=7), **FAST) == []
    assert run_due(send_settings, gate=gate, now=utc(days=1), **FAST) == []
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)
    assert states(db) == ["done"]
    assert list_schedules(send_settings) == []
    [finished] = list_schedules(send_settings, everything=True)
    assert finished.runs == 1 and finished.last_result == outcome.message


def test_a_scheduled_segment_mails_only_its_people_when_due(
    db, send_settings, mail_sink, built_example
):
    from mailer.audience.roster import set_subscriber_fields

    addresses = add_subscribers(db, send_settings, 4, LIST)
    for address, county in zip(addresses, ["Örebro", "Örebro", "Uppsala", ""], strict=True):
        if county:
            set_subscriber_fields(db, address, [f"län={county}"])
    schedule, plan = schedule_send(
        send_settings, built_example, "2026-12-03 08:00", segment="län=Örebro", now=SCHEDULED_AT
    )
    assert schedule.segment == "län = Örebro" and plan.recipients == 2  # kept, counted now

    [outcome] = run_due(send_settings, now=utc(minutes=2), **FAST)
    assert outcome.state == "done"
    assert mail_sink.handler.copies() == dict.fromkeys(addresses[:2], 1)


def test_a_scheduled_segment_with_a_mistake_is_refused_when_scheduled(
    db, send_settings, built_example
):
    from mailer.errors import MailerError

    add_subscribers(db, send_settings, 2, LIST)
    with pytest.raises(MailerError, match=r"segment|position"):
        schedule_send(
            send_settings, built_example, "2026-12-03 08:00", segment="län ==", now=SCHEDULED_AT
        )
    assert states(db) == []


def test_a_run_that_leaves_messages_deferred_is_resumed_by_the_next_run(db, settings, tmp_path):
    handler = FaultyHandler()
    controller, sink = start_sink(handler)
    try:
        send_settings = sink.settings(settings)
        issue = tmp_path / "newsletters" / EXAMPLE_ISSUE
        shutil.copytree(PROJECT_ROOT / "newsletters" / EXAMPLE_ISSUE, issue)
        copy_shared(issue.parent)
        addresses = add_subscribers(db, send_settings, 4, LIST)
        handler.temporary[addresses[2]] = ["451 4.7.1 try later"] * 4  # more than the retries
        schedule_send(send_settings, issue, "2026-12-03 08:00", now=SCHEDULED_AT)

        [first] = run_due(send_settings, now=utc(minutes=1), **FAST)
        assert first.state == "sending" and "next run sends the rest" in first.message
        assert set(handler.copies()) == {addresses[0], addresses[1], addresses[3]}

        [second] = run_due(send_settings, now=utc(minutes=6), **FAST)
        assert second.state == "done"
        assert handler.copies() == dict.fromkeys(addresses, 1)
        assert run_due(send_settings, now=utc(minutes=11), **FAST) == []
        assert handler.copies() == dict.fromkeys(addresses, 1)
    finally:
        controller.stop()


def test_an_overlapping_run_leaves_a_schedule_another_live_run_is_sending(
    db, send_settings, mail_sink, built_example
):
    import socket
    import subprocess
    import sys

    add_subscribers(db, send_settings, 2, LIST)
    schedule_send(send_settings, built_example, "2026-12-03 08:00", now=SCHEDULED_AT)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with transaction(db):  # as the earlier cron run left it, still working
            db.execute(
                "UPDATE scheduled_sends SET state = 'sending', runner_pid = ?, runner_host = ?",
                [other.pid, socket.gethostname()],
            )
        assert run_due(send_settings, now=utc(minutes=5), **FAST) == []
        assert mail_sink.handler.count() == 0
    finally:
        other.kill()
        other.wait(timeout=10)
    [outcome] = run_due(send_settings, now=utc(minutes=10), **FAST)  # that run died: take over
    assert outcome.state == "done" and mail_sink.handler.count() == 2


def test_errors_found_at_the_due_time_fail_the_schedule_and_send_nothing(
    db, send_settings, mail_sink, built_example
):
    add_subscribers(db, send_settings, 3, LIST)
    schedule_send(send_settings, built_example, "2026-12-03 08:00", now=SCHEDULED_AT)
    gate = Gate(error="email.html: a broken image")
    [outcome] = run_due(send_settings, gate=gate, now=utc(minutes=1), **FAST)
    assert outcome.state == "failed" and "a broken image" in outcome.message
    assert mail_sink.handler.count() == 0
    assert run_due(send_settings, gate=gate, now=utc(minutes=6), **FAST) == []


def test_an_unreachable_server_leaves_the_schedule_for_the_next_run(
    db, send_settings, mail_sink, built_example
):
    add_subscribers(db, send_settings, 2, LIST)
    schedule_send(send_settings, built_example, "2026-12-03 08:00", now=SCHEDULED_AT)
    down = dataclasses.replace(send_settings, smtp_port=free_port(), smtp_timeout=2)
    [outcome] = run_due(down, now=utc(minutes=1), **FAST)
    assert outcome.state == "sending" and "next run resumes" in outcome.message
    [outcome] = run_due(send_settings, now=utc(minutes=6), **FAST)
    assert outcome.state == "done" and mail_sink.handler.count() == 2


def test_a_cancelled_schedule_is_never_sent(db, send_settings, mail_sink, built_example):
    add_subscribers(db, send_settings, 2, LIST)
    schedule_send(send_settings, built_example, "2026-12-03 08:00", now=SCHEDULED_AT)
    [cancelled] = cancel_schedule(send_settings, str(built_example))
    assert cancelled.issue == "2018-2"
    assert run_due(send_settings, now=utc(hours=1), **FAST) == []
    assert mail_sink.handler.count() == 0 and states(db) == ["cancelled"]
    with pytest.raises(SendError, match="nothing is scheduled"):
        cancel_schedule(send_settings, "2018-2")


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2026-12-01 12:59", "is in the past"),  # 11:59 UTC, a minute before "now"
        ("2027-03-28 02:30", "does not exist in Europe/Stockholm"),
        ("i morgon bitti", "YYYY-MM-DD HH:MM"),
    ],
)
def test_a_time_in_the_past_or_not_on_the_clock_is_refused(
    db, send_settings, built_example, at, message
):
    add_subscribers(db, send_settings, 1, LIST)
    with pytest.raises(SendError, match=message):
        schedule_send(send_settings, built_example, at, now=SCHEDULED_AT)
    assert states(db) == []


def test_one_schedule_per_issue_and_list(db, send_settings, built_example):
    add_subscribers(db, send_settings, 1, LIST)
    schedule_send(send_settings, built_example, "2026-12-03 08:00", now=SCHEDULED_AT)
    with pytest.raises(SendError, match=r"already scheduled.*2026-12-03 08:00 CET"):
        schedule_send(send_settings, built_example, "2026-12-04 08:00", now=SCHEDULED_AT)


def test_the_issue_timezone_decides_what_08_00_means(db, send_settings, issue_factory):
    from tests.fixtures_compose import ISSUE_MD

    add_subscribers(db, send_settings, 1, LIST)
    issue_md = ISSUE_MD.replace("list: nyhetsbrev\n", "list: nyhetsbrev\ntimezone: Europe/London\n")
    issue = issue_factory(issue_md=issue_md)
    schedule, _ = schedule_send(send_settings, issue, "2027-07-03 08:00", now=SCHEDULED_AT)
    assert schedule.due == dt.datetime(2027, 7, 3, 7, 0, tzinfo=dt.UTC)  # BST = UTC+1
    assert schedule.when() == "2027-07-03 08:00 BST (Europe/London)"


# --- through the CLI (the real `newsletter check` as the gate) -----------------------------


@pytest.fixture
def invoke(settings):
    def run(port, *args, input=None, **env):
        environment = {**smtp_environment(settings, port), **env}
        return CliRunner().invoke(
            cli, ["--db", str(settings.db_path), *args], input=input, env=environment
        )

    return run


def test_send_at_checks_now_shows_the_zone_and_lists_the_schedule(
    db, settings, mail_sink, built_example, invoke
):
    add_subscribers(db, settings, 3, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--at", "2099-12-03 08:00", "-y")
    assert result.exit_code == 0, result.output
    assert "Recipients: 3 on the list now" in result.output  # the plan, counted now
    assert "Scheduled:  2099-12-03 08:00 CET (Europe/Stockholm)" in result.output
    assert "2018-2: 0 errors, 0 warnings" in result.output  # newsletter check ran
    assert mail_sink.handler.count() == 0

    listed = invoke(mail_sink.port, "scheduled", "list")
    assert listed.exit_code == 0
    assert "2018-2  nyhetsbrev  2099-12-03 08:00 CET (Europe/Stockholm)  waiting" in listed.output
    assert invoke(mail_sink.port, "scheduled", "run").output == ""  # not due: silent
    cancelled = invoke(mail_sink.port, "scheduled", "cancel", "2018-2")
    assert cancelled.exit_code == 0 and "Cancelled: 2018-2" in cancelled.output
    assert "Nothing scheduled" in invoke(mail_sink.port, "scheduled", "list").output


def test_send_at_uses_the_same_gate_as_send(db, settings, mail_sink, built_example, invoke):
    add_subscribers(db, settings, 1, LIST)
    result = invoke(
        mail_sink.port,
        "send",
        str(built_example),
        "--at",
        "2099-12-03 08:00",
        "-y",
        NEWSLETTER_BASE_URL="http://127.0.0.1:8000",  # a send stops on this: so does --at
    )
    assert result.exit_code != 0
    assert "NEWSLETTER_BASE_URL=http://127.0.0.1:8000 is this computer" in result.output
    assert states(db) == []


def test_send_at_a_past_time_is_an_error(db, settings, mail_sink, built_example, invoke):
    add_subscribers(db, settings, 1, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--at", "2020-01-01 08:00", "-y")
    assert result.exit_code != 0
    assert "is in the past" in result.output and "2020-01-01 08:00 CET" in result.output
    assert states(db) == []


def test_scheduled_run_from_cron_sends_what_is_due_once(
    db, settings, mail_sink, built_example, invoke
):
    addresses = add_subscribers(db, settings, 3, LIST)
    schedule_send(
        mail_sink.settings(settings),
        built_example,
        "2026-01-05 08:00",
        now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),  # due long before the real clock's now
    )
    result = invoke(mail_sink.port, "scheduled", "run")
    assert result.exit_code == 0, result.output
    assert "2018-2 (2026-01-05 08:00 CET (Europe/Stockholm)): 2018-2 to nyhetsbrev: 3 sent" in (
        result.output
    )
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)
    again = invoke(mail_sink.port, "scheduled", "run")
    assert again.exit_code == 0 and again.output == ""
    assert mail_sink.handler.count() == 3
