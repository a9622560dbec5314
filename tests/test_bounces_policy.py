"""What a report does to the list, through `bounces import` (library and CLI): hard bounces end
a subscription, soft ones count, complaints unsubscribe from one list; bad input changes
nothing; every decision is stored, shown, reversible and erased with the person."""

from __future__ import annotations

import json
import mailbox

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.audience import consent, roster, subscribers
from mailer.delivery import ledger
from mailer.delivery.bounces import verp
from mailer.delivery.bounces.run import import_bounces
from mailer.store.db import transaction
from tests.fixtures_bounces import LIST, with_settings


def write(tmp_path, name: str, raw: bytes):
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def status_of(db, address: str, list_name: str = LIST) -> str:
    return subscribers.get_subscriber(db, address)["subscriptions"][list_name]


def events(db) -> list[dict]:
    cursor = db.execute("SELECT * FROM bounce_events ORDER BY id")
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def snapshot(db) -> tuple:
    """Everything a report could change."""
    return (
        db.execute(
            "SELECT subscriber_id, list_id, status FROM subscriptions ORDER BY id"
        ).fetchall(),
        db.execute("SELECT count(*) FROM consent_log").fetchone()[0],
        db.execute("SELECT count(*) FROM bounce_events").fetchone()[0],
    )


def invoke(settings, *args):
    env = {
        "NEWSLETTER_SECRET_KEY": settings.secret_key,
        "NEWSLETTER_BOUNCE_ADDRESS": settings.bounce_address,
    }
    result = CliRunner().invoke(cli, ["--db", str(settings.db_path), *args], env=env)
    assert "Traceback" not in result.output
    return result


def soft(mailed, address: str, n: int, day: int = 1) -> bytes:
    """A distinct soft-bounce report (its own Message-ID and date) about `address`."""
    raw = mailed.report("dsn-soft.eml", address)
    raw = raw.replace(b"<20261201091502.4F1A2@", f"<soft{n}.4F1A2@".encode())
    return raw.replace(b"Date: Tue, 01 Dec 2026", f"Date: Tue, {day:02d} Dec 2026".encode())


def test_a_hard_bounce_ends_the_subscription_at_once_with_its_reason(db, mailed, tmp_path):
    target, *others = mailed.addresses
    path = write(tmp_path, "bounce.eml", mailed.report("dsn-hard.eml", target))

    summary = import_bounces(mailed.settings, [path])

    assert (summary.read, summary.hard, summary.changed) == (1, 1, 1)
    assert status_of(db, target) == "bounced"
    assert all(status_of(db, other) == "active" for other in others)
    (event,) = events(db)
    assert (event["kind"], event["status"], event["matched_by"]) == ("hard", "5.1.1", "token")
    assert event["decision"] == "bounced" and event["issue"] == "2018-2"
    assert "User unknown in virtual mailbox table" in event["diagnostic"]
    assert event["reported_at"].startswith("2026-12-01T09:15:02")
    person = subscribers.get_subscriber(db, target)["id"]
    log = db.execute(
        "SELECT action, channel, detail FROM consent_log WHERE subscriber_id = ? ORDER BY id DESC",
        [person],
    ).fetchone()
    assert log[0] == "bounce" and log[1] == "bounce" and "5.1.1" in log[2]
    assert target not in {r.email for r in subscribers.active_recipients(db, LIST)}


def test_without_a_token_the_message_id_finds_the_message(db, mailed, tmp_path):
    target = mailed.addresses[1]
    settings = with_settings(mailed.settings, bounce_address="")
    path = write(tmp_path, "bounce.eml", mailed.report("dsn-hard.eml", target))
    assert import_bounces(settings, [path]).hard == 1
    assert events(db)[0]["matched_by"] == "message-id" and status_of(db, target) == "bounced"


def test_without_token_or_message_id_the_address_finds_the_message(db, mailed, tmp_path):
    """Without VERP there is nothing to prove with: the address decides (send plan and check
    warn). With VERP on, the same report is recorded as unverified and changes nothing."""
    target = mailed.addresses[2]
    raw = mailed.report(
        "exim.eml", target, message_id="<lost@example.se>", return_path="nyhetsbrev@example.se"
    )
    with_verp = import_bounces(mailed.settings, [write(tmp_path, "b.eml", raw)])
    assert (with_verp.hard, with_verp.unverified, with_verp.changed) == (0, 1, 0)
    assert status_of(db, target) == "active"
    (event,) = events(db)
    assert (event["matched_by"], event["unverified"], event["reader"]) == (
        "address",
        1,
        "flufl.bounce",
    )
    assert event["decision"].startswith("unverified: no change")

    raw = raw.replace(b"No such user here", b"No such user here at all")  # another report
    no_verp = with_settings(mailed.settings, bounce_address="")
    assert import_bounces(no_verp, [write(tmp_path, "c.eml", raw)]).hard == 1
    assert events(db)[-1]["unverified"] == 0 and status_of(db, target) == "bounced"


@pytest.mark.parametrize("name", ["exim.eml", "qmail.eml", "exchange.eml"])
def test_free_text_bounces_end_the_subscription_too(db, mailed, tmp_path, name):
    target = mailed.addresses[0]
    summary = import_bounces(mailed.settings, [write(tmp_path, name, mailed.report(name, target))])
    assert summary.hard == 1 and status_of(db, target) == "bounced"
    assert events(db)[0]["matched_by"] == "token"


def test_a_soft_bounce_below_the_limit_changes_nothing(db, mailed, tmp_path):
    target = mailed.addresses[0]
    before = snapshot(db)[:2]
    summary = import_bounces(mailed.settings, [write(tmp_path, "s.eml", soft(mailed, target, 1))])
    assert (summary.soft, summary.changed) == (1, 0)
    assert status_of(db, target) == "active"
    assert snapshot(db)[:2] == before  # no subscription or consent change
    (event,) = events(db)
    assert (event["kind"], event["status"], event["decision"]) == ("soft", "4.2.2", "counted")


def test_three_soft_bounces_within_30_days_end_the_subscription(db, mailed, tmp_path):
    target = mailed.addresses[0]
    paths = [write(tmp_path, f"s{n}.eml", soft(mailed, target, n, day=n)) for n in (1, 2, 3)]
    import_bounces(mailed.settings, paths[:2])
    assert status_of(db, target) == "active"
    summary = import_bounces(mailed.settings, paths[2:])
    assert summary.changed == 1 and status_of(db, target) == "bounced"
    assert events(db)[-1]["decision"].startswith("bounced (3 soft bounces within 30 days")


def test_soft_bounces_on_issues_in_a_row_end_the_subscription(db, mailed, tmp_path):
    """BOUNCE_SOFT_LIMIT=9/30/2: two soft bounces are few, but they came from two issues in a
    row. The earlier issue's ledger row is made here as a send would have left it."""
    settings = with_settings(mailed.settings, bounce_soft_limit="9/30/2")
    target = mailed.addresses[0]
    person = subscribers.get_subscriber(db, target)["id"]
    list_pk = subscribers.list_id(db, LIST)
    ledger.queue_recipients(db, "2018-1", [(person, list_pk, None)])
    row = db.execute("SELECT id FROM deliveries WHERE issue = '2018-1'").fetchone()[0]
    with transaction(db):
        ledger.mark_sent(db, row, reply="250 ok", now="2026-11-01T08:00:00.000000Z")
    older = mailed.report("dsn-soft.eml", target, return_path=verp.envelope_sender(settings, row))
    import_bounces(settings, [write(tmp_path, "old.eml", older)])
    assert status_of(db, target) == "active"
    import_bounces(settings, [write(tmp_path, "new.eml", soft(mailed, target, 2))])
    assert status_of(db, target) == "bounced"
    assert "2 issues in a row" in events(db)[-1]["decision"]


def test_a_complaint_unsubscribes_from_that_list_only(db, mailed, tmp_path):
    target = mailed.addresses[0]
    roster.add_subscriber(db, mailed.settings, target, list_name="evenemang")
    summary = import_bounces(
        mailed.settings, [write(tmp_path, "arf.eml", mailed.report("arf-abuse.eml", target))]
    )
    assert (summary.complaints, summary.changed) == (1, 1)
    assert status_of(db, target) == "unsubscribed"
    assert status_of(db, target, "evenemang") == "active"
    person = subscribers.get_subscriber(db, target)["id"]
    action, channel, list_id = db.execute(
        "SELECT action, channel, list_id FROM consent_log WHERE subscriber_id = ? "
        "ORDER BY id DESC LIMIT 1",
        [person],
    ).fetchone()
    assert (action, channel, list_id) == ("unsubscribe", "complaint", subscribers.list_id(db, LIST))
    (event,) = events(db)
    assert (event["kind"], event["status"]) == ("complaint", "abuse")


def test_reading_a_report_twice_records_it_once(db, mailed, tmp_path):
    path = write(tmp_path, "b.eml", mailed.report("dsn-hard.eml", mailed.addresses[0]))
    import_bounces(mailed.settings, [path])
    again = import_bounces(mailed.settings, [path])
    assert (again.hard, again.duplicates) == (0, 1) and len(events(db)) == 1


def test_bad_input_records_nothing_and_says_so(db, mailed, tmp_path):
    target = mailed.addresses[0]
    row = db.execute("SELECT id FROM deliveries ORDER BY id").fetchone()[0]
    forged = f"bounces+{row}-{'0' * 16}@example.se"
    files = [
        write(tmp_path, "1.eml", mailed.report("not-a-bounce.eml", target)),
        write(  # cut off before it names anyone: no reader finds a recipient
            tmp_path,
            "2.eml",
            mailed.report("dsn-truncated.eml", target).split(f"<{target}>".encode())[0],
        ),
        write(
            tmp_path,
            "3.eml",
            mailed.report(
                "dsn-hard.eml",
                target,
                recipient="stranger@example.org",
                message_id="<elsewhere@example.net>",
                return_path="nyhetsbrev@example.se",
            ),
        ),
        write(tmp_path, "4.eml", mailed.report("dsn-hard.eml", target, return_path=forged)),
        write(tmp_path, "5.eml", mailed.report("autoreply.eml", target)),
        write(tmp_path, "6.eml", b"\x00\x01 not mail at all"),
    ]
    before = snapshot(db)

    result = invoke(mailed.settings, "bounces", "import", *map(str, files))

    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("6 messages read: recorded 0 hard bounces, 0 soft bounces")
    assert "2 not bounces" in summary and "1 unreadable" in summary
    assert "2 not matched to a message we sent" in summary and "1 ignored" in summary
    assert "not one we issued (forged or damaged)" in result.output
    assert "no message we sent" in result.output
    assert snapshot(db) == before


def test_dry_run_prints_what_it_would_do_and_writes_nothing(db, mailed, tmp_path):
    target = mailed.addresses[0]
    path = write(tmp_path, "b.eml", mailed.report("dsn-hard.eml", target))
    before = snapshot(db)
    result = invoke(mailed.settings, "bounces", "import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert f"hard bounce 5.1.1 for {target} on {LIST}" in result.output
    assert "would be bounced" in result.output
    assert "dry run: nothing was written" in result.output
    assert snapshot(db) == before


def test_mbox_files_and_maildir_folders_are_read(db, mailed, tmp_path):
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    box.add(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    box.add(mailed.report("not-a-bounce.eml", mailed.addresses[0]))
    box.close()
    folder = mailbox.Maildir(tmp_path / "Maildir")
    folder.add(mailed.report("qmail.eml", mailed.addresses[1]))
    folder.add(mailed.report("arf-abuse.eml", mailed.addresses[2]))
    summary = import_bounces(mailed.settings, [tmp_path / "bounces.mbox", tmp_path / "Maildir"])
    assert (summary.read, summary.hard, summary.complaints, summary.not_bounces) == (4, 2, 1, 1)


def test_a_folder_that_is_not_a_maildir_is_a_clear_error(mailed, tmp_path):
    (tmp_path / "stuff").mkdir()
    result = invoke(mailed.settings, "bounces", "import", str(tmp_path / "stuff"))
    assert result.exit_code == 1
    assert "stuff: a folder, but not a Maildir" in result.output


def test_reactivate_undoes_a_bounce_and_a_complaint_but_not_an_unsubscribe(db, mailed, tmp_path):
    bounced, complained, left = mailed.addresses[:3]
    import_bounces(
        mailed.settings,
        [
            write(tmp_path, "b.eml", mailed.report("dsn-hard.eml", bounced)),
            write(tmp_path, "c.eml", mailed.report("arf-abuse.eml", complained)),
        ],
    )
    subscribers.unsubscribe(db, subscribers.get_subscriber(db, left)["id"], None, channel="web")

    for address in (bounced, complained):
        result = invoke(mailed.settings, "subscribers", "reactivate", address)
        assert result.exit_code == 0 and f"Reactivated on {LIST}." in result.output
        assert status_of(db, address) == "active"
        person = subscribers.get_subscriber(db, address)["id"]
        log = db.execute(
            "SELECT action, channel FROM consent_log WHERE subscriber_id = ? ORDER BY id DESC",
            [person],
        ).fetchone()
        assert log == ("reactivate", "cli")
    result = invoke(mailed.settings, "subscribers", "reactivate", left)
    assert "Nothing to change" in result.output and status_of(db, left) == "unsubscribed"
    assert bounced in {r.email for r in subscribers.active_recipients(db, LIST)}


def test_reports_show_in_show_send_status_and_stats(db, mailed, tmp_path, built_example):
    hard, soft_one, complained = mailed.addresses[:3]
    import_bounces(
        mailed.settings,
        [
            write(tmp_path, "h.eml", mailed.report("dsn-hard.eml", hard)),
            write(tmp_path, "s.eml", soft(mailed, soft_one, 1)),
            write(tmp_path, "c.eml", mailed.report("arf-abuse.eml", complained)),
        ],
    )
    shown = invoke(mailed.settings, "subscribers", "show", hard)
    assert "hard" in shown.output and "5.1.1" in shown.output and "User unknown" in shown.output
    document = json.loads(invoke(mailed.settings, "subscribers", "show", "--json", hard).output)
    (report,) = document["bounces"]
    assert (report["kind"], report["status"], report["decision"]) == ("hard", "5.1.1", "bounced")

    status = invoke(mailed.settings, "send-status", str(built_example))
    assert "Reported back: 1 bounced, 1 soft-bounced, 1 complained" in status.output
    assert f"hard      {hard}: 5.1.1 smtp; 550 5.1.1" in status.output
    assert f"soft      {soft_one}: 4.2.2" in status.output

    stats = invoke(mailed.settings, "subscribers", "stats")
    assert f"{LIST}, last 30 days: 4 messages, 2 bounced (50.0%), 1 complaints (25.00%)" in (
        stats.output
    )
    assert "bounced (over 2 %)" in stats.output and "reported as spam (over 0.1 %" in stats.output


def test_stats_do_not_warn_below_the_thresholds(db, mailed):
    rates = roster.delivery_rates(db)
    assert rates[LIST]["messages"] == 4 and rates[LIST]["warnings"] == []


def test_erasure_removes_the_persons_bounce_reports(db, mailed, tmp_path):
    target, other = mailed.addresses[:2]
    import_bounces(
        mailed.settings,
        [
            write(tmp_path, "a.eml", mailed.report("dsn-hard.eml", target)),
            write(tmp_path, "b.eml", mailed.report("dsn-hard.eml", other)),
        ],
    )
    consent.erase_subscriber(db, mailed.settings, target)
    remaining = events(db)
    assert len(remaining) == 1 and target not in remaining[0]["diagnostic"]
    assert consent.is_suppressed(db, mailed.settings, target)
    assert target.encode() not in mailed.settings.db_path.read_bytes()


def test_soft_bounces_before_a_reactivation_do_not_count_again(db, mailed, tmp_path):
    target = mailed.addresses[0]
    paths = [write(tmp_path, f"s{n}.eml", soft(mailed, target, n, day=n)) for n in (1, 2, 3, 4)]
    import_bounces(mailed.settings, paths[:3])
    assert status_of(db, target) == "bounced"
    roster.reactivate_address(db, target)
    assert status_of(db, target) == "active"
    summary = import_bounces(mailed.settings, paths[3:])
    assert (summary.soft, summary.changed) == (1, 0) and status_of(db, target) == "active"
