"""Ledger retention: per-recipient rows older than NEWSLETTER_LEDGER_RETENTION_DAYS are folded
into per-issue counts that keep send-status, the archive and the feeds true; a folded issue is
not sent twice; it runs by itself in serve and scheduled run, and on `ledger prune`."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.audience.consent import export_subject
from mailer.audience.subscribers import get_subscriber
from mailer.delivery.bounces.run import import_bounces
from mailer.delivery.retention import fold_old_deliveries
from mailer.delivery.send import run_send, send_status
from mailer.errors import ConfigError, SendError
from mailer.store.db import transaction, utc_now
from tests.fixtures_bounces import BOUNCE_ADDRESS, send_issue, with_settings

LONG_AGO = "2025-01-10T08:00:00.000000Z"


@pytest.fixture
def mailed(db, settings, mail_sink, built_example, tmp_path):
    """The example issue sent to 4 people, one hard bounce reported back for the first."""
    mailed = send_issue(db, settings, mail_sink, built_example, 4, bounce_address=BOUNCE_ADDRESS)
    report = tmp_path / "bounce.eml"
    report.write_bytes(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    assert import_bounces(mailed.settings, [report]).hard == 1
    return mailed


def age_ledger(db, stamp: str = LONG_AGO) -> None:
    with transaction(db):
        db.execute("UPDATE deliveries SET sent_at = ?, updated_at = ?, queued_at = ?", [stamp] * 3)


def rows(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def test_old_rows_fold_into_counts_that_keep_send_status_true(db, mailed, built_example):
    before = send_status(mailed.settings, built_example)
    assert fold_old_deliveries(db, 180).groups == 0  # sent today: kept
    assert rows(db, "deliveries") == 4
    age_ledger(db)
    summary = fold_old_deliveries(db, 180)
    assert (summary.groups, summary.rows, summary.bounce_reports) == (1, 4, 1)
    assert rows(db, "deliveries") == 0 and rows(db, "bounce_events") == 0
    after = send_status(mailed.settings, built_example)
    assert after["counts"] == before["counts"] and after["counts"]["sent"] == 4
    assert after["bounces"]["bounced"] == before["bounces"]["bounced"] == 1
    assert after["problems"] == [] and after["bounces"]["events"] == []
    # nothing left names a person: the counts are per issue
    assert db.execute("SELECT DISTINCT issue, outcome FROM delivery_counts").fetchall() == [
        ("2018-2", "bounced"),
        ("2018-2", "sent"),
    ]
    assert fold_old_deliveries(db, 180).groups == 0  # a second fold changes nothing
    assert send_status(mailed.settings, built_example)["counts"] == before["counts"]


def test_a_folded_issue_is_not_sent_again_and_a_late_bounce_is_unmatched(
    db, mailed, built_example, tmp_path
):
    age_ledger(db)
    fold_old_deliveries(db, 180)
    with pytest.raises(SendError, match=r"folded into counts.*mail everyone a second time"):
        run_send(mailed.settings, built_example)
    late = tmp_path / "late.eml"
    late.write_bytes(mailed.report("dsn-hard.eml", mailed.addresses[1]))
    summary = import_bounces(mailed.settings, [late])
    assert (summary.hard, summary.unmatched) == (0, 1)
    person = get_subscriber(db, mailed.addresses[1])
    document = export_subject(db, person["id"])
    assert document["deliveries"] == [] and document["issues_sent"] == []  # no longer held


def test_the_archive_and_feed_still_show_a_folded_issue(db, mailed, built_example):
    from mailer.web import archive, create_app

    app = create_app(mailed.settings, newsletters_dir=built_example.parent)
    client = app.test_client()
    assert client.get("/archive/2018-2/").status_code == 200
    feed_before = client.get("/feed.xml").get_data(as_text=True)
    age_ledger(db)
    fold_old_deliveries(db, 180)
    archive._sent_cache.clear()
    assert client.get("/archive/2018-2/").status_code == 200
    assert "/archive/2018-2/" in client.get("/archive/").get_data(as_text=True)
    feed_after = client.get("/feed.xml").get_data(as_text=True)
    assert "/archive/2018-2/" in feed_after
    assert feed_after.count("<entry") == feed_before.count("<entry") == 1


def test_ledger_prune_and_scheduled_run_fold_by_the_setting(db, mailed):
    age_ledger(db, utc_now(-60 * 86400))  # 60 days ago
    env = {
        "NEWSLETTER_SECRET_KEY": mailed.settings.secret_key,
        "NEWSLETTER_LEDGER_RETENTION_DAYS": "100000",
    }
    db_args = ["--db", str(mailed.settings.db_path)]
    kept = CliRunner().invoke(cli, [*db_args, "ledger", "prune"], env=env)
    assert kept.exit_code == 0, kept.output
    assert "nothing older than 100000 days" in kept.output
    assert rows(db, "deliveries") == 4
    env["NEWSLETTER_LEDGER_RETENTION_DAYS"] = "30"
    ran = CliRunner().invoke(cli, [*db_args, "scheduled", "run"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "Ledger: folded 4 per-recipient rows and 1 bounce reports of 1 issue" in ran.output
    assert rows(db, "deliveries") == 0


def test_serve_folds_in_a_thread_of_its_own(db, mailed):
    from mailer.web.retention import RetentionThread

    age_ledger(db)
    thread = RetentionThread(mailed.settings, interval=3600).start()
    try:
        for _ in range(300):  # bounded: at most ~30 s under load
            if thread.runs:
                break
            time.sleep(0.1)
    finally:
        thread.stop()
    assert thread.runs >= 1
    assert rows(db, "deliveries") == 0 and rows(db, "delivery_counts") == 2


def test_the_retention_cannot_be_set_below_30_days(settings):
    with pytest.raises(ConfigError, match="NEWSLETTER_LEDGER_RETENTION_DAYS must be at least 30"):
        with_settings(settings, ledger_retention_days=7)


def test_the_record_of_processing_states_the_ledger_retention(db, settings):
    from mailer.audience.processing_record import render_record

    record = render_record(db, with_settings(settings, ledger_retention_days=200), {})
    assert "Send ledger (who got which issue" in record
    assert "200 days after an issue's last delivery activity" in record
