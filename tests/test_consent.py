"""The consent log (append-only), consent texts, access export, erasure to the last byte, purge."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mailer.audience import consent
from mailer.audience.importer import import_csv
from mailer.audience.roster import add_subscriber, unsubscribe_address
from mailer.audience.subscribers import get_subscriber, update_profile
from mailer.errors import SubscriberError
from mailer.store.db import open_db, transaction, utc_now

from .fixtures_subscribers import CONSENT_TEXT, write_csv

ERASED = "zebulon.quixote@example.se"
ERASED_NAME = "Zebulon Quixote-Wernersson"
# where the coordinator noted the consent: another address of the same person
ERASED_SOURCE = "mejl från zeb.q.private@gmail.com 2026-11-20"
ERASED_CSV = "Zebulon Q anmälan.csv"  # a file named after the person


def _deliver(db, subscriber_id, issue, state="sent", reply="250 ok"):
    now = utc_now()
    with transaction(db):
        db.execute(
            "INSERT INTO deliveries (issue, subscriber_id, list_id, state, attempts, last_reply, "
            "message_id, queued_at, updated_at, sent_at) VALUES (?, ?, 1, ?, 1, ?, ?, ?, ?, ?)",
            [
                issue,
                subscriber_id,
                state,
                reply,
                f"<{issue}.{subscriber_id}@example.se>",
                now,
                now,
                now if state == "sent" else None,
            ],
        )


def test_log_rows_cannot_be_updated_or_deleted(db, settings):
    add_subscriber(db, settings, "log@example.se")
    for sql in (
        "UPDATE consent_log SET action = 'confirm'",
        "UPDATE consent_log SET at = '2000-01-01T00:00:00Z'",
        "UPDATE consent_log SET ip = NULL",  # partial anonymisation is not erasure
        "DELETE FROM consent_log",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), transaction(db):
            db.execute(sql)
    assert db.execute("SELECT action FROM consent_log").fetchall() == [("add",)]


def test_anonymisation_is_allowed_once_and_only_whole(db, settings, csv_file):
    add_subscriber(db, settings, "anon@example.se", source="sheet from anon.home@example.se")
    import_csv(db, settings, csv_file([["anon@example.se", "A", "sv"]]), list_name="events")
    whole = (
        "UPDATE consent_log SET subscriber_id = NULL, ip = NULL, user_agent = NULL, "
        "detail = NULL, source = NULL, channel = {channel}, anonymised = 1"
    )
    for partial in (
        whole.replace("source = NULL, ", ""),  # the source would still name the person
        whole.format(channel="channel"),  # and so would the file name and row
        whole.format(channel="'web'"),  # the kind of channel is kept, not made up
        whole.format(channel="'csv'").replace("detail = NULL, ", ""),
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), transaction(db):
            db.execute(partial.format(channel=consent.CHANNEL_KIND_SQL))
    with transaction(db):
        db.execute(whole.format(channel=consent.CHANNEL_KIND_SQL))
    rows = db.execute("SELECT action, channel, source, anonymised FROM consent_log ORDER BY id")
    assert rows.fetchall() == [("add", "cli", None, 1), ("import", "csv", None, 1)]
    for sql in (
        "UPDATE consent_log SET anonymised = 0",
        "UPDATE consent_log SET channel = 'web'",
        "UPDATE consent_log SET source = 'made up later'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), transaction(db):
            db.execute(sql)


def test_source_and_channel_of_a_kept_person_cannot_be_cleared(db, settings, csv_file):
    add_subscriber(db, settings, "kept@example.se", source="fair")
    import_csv(db, settings, csv_file([["kept@example.se", "K", "sv"]]), list_name="events")
    for sql in (
        "UPDATE consent_log SET source = NULL",
        f"UPDATE consent_log SET channel = {consent.CHANNEL_KIND_SQL}",  # noqa: S608 - fixed text
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), transaction(db):
            db.execute(sql)
    rows = db.execute("SELECT channel, source, anonymised FROM consent_log ORDER BY id")
    assert rows.fetchall() == [("cli", "fair", 0), ("csv:members.csv:2", None, 0)]


def test_consent_text_is_stored_once_with_hash_and_version(db):
    first = consent.consent_text_id(db, CONSENT_TEXT)
    assert consent.consent_text_id(db, CONSENT_TEXT) == first
    second = consent.consent_text_id(db, CONSENT_TEXT + " Ny version.")
    rows = db.execute(
        "SELECT id, version, length(sha256) FROM consent_texts ORDER BY id"
    ).fetchall()
    assert rows == [(first, 1, 64), (second, 2, 64)]
    with pytest.raises(sqlite3.IntegrityError, match="immutable"), transaction(db):
        db.execute("UPDATE consent_texts SET body = 'changed'")


def test_access_export_has_profile_lists_history_texts_and_issues(db, settings, signup):
    token = signup("subject@example.se", lists=("newsletter", "events"), name="Sub Ject")
    from mailer.audience.optin import confirm

    assert confirm(db, settings, token, ip="198.51.100.7", user_agent="Firefox")
    person = get_subscriber(db, "subject@example.se")
    _deliver(db, person["id"], "2026-11-first")
    _deliver(db, person["id"], "2026-12-second", state="failed", reply="550 <subject@...> no")
    _deliver(db, person["id"], "2027-01-third", state="deferred", reply="451 try later")
    document = consent.export_subject(db, person["id"])
    json.dumps(document)  # machine-readable as it is
    assert document["profile"]["email"] == "subject@example.se"
    assert document["profile"]["name"] == "Sub Ject"
    assert {s["list"]: s["status"] for s in document["subscriptions"]} == {
        "events": "active",
        "newsletter": "active",
    }
    actions = [(e["action"], e["list"], e["channel"]) for e in document["consent_history"]]
    assert sorted(actions[:2]) == [
        ("subscribe", "events", "web"),
        ("subscribe", "newsletter", "web"),
    ]
    assert sorted(actions[2:]) == [("confirm", "events", "web"), ("confirm", "newsletter", "web")]
    confirm_event = document["consent_history"][-1]
    assert confirm_event["ip"] == "198.51.100.7" and confirm_event["user_agent"] == "Firefox"
    assert confirm_event["text_shown"]["text"] == CONSENT_TEXT
    assert confirm_event["text_shown"]["version"] == 1
    assert [i["issue"] for i in document["issues_sent"]] == ["2026-11-first"]
    assert document["issues_sent"][0]["message_id"].startswith("<2026-11-first.")
    # every ledger row held, whatever its state, with the server's reply (it may quote them)
    held = [(d["issue"], d["list"], d["state"], d["last_reply"]) for d in document["deliveries"]]
    assert held == [
        ("2026-11-first", "newsletter", "sent", "250 ok"),
        ("2026-12-second", "newsletter", "failed", "550 <subject@...> no"),
        ("2027-01-third", "newsletter", "deferred", "451 try later"),
    ]
    assert document["deliveries"][1]["sent_at"] is None
    assert document["deliveries"][1]["attempts"] == 1


def test_cli_show_json_is_the_access_document(db, settings, run_cli):
    add_subscriber(db, settings, "json@example.se", name="Jay Son")
    result = run_cli("subscribers", "show", "json@example.se", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["format"] == "newsletter-subject-access/1"
    assert document["profile"]["name"] == "Jay Son"
    assert document["consent_history"][0]["action"] == "add"


def _history_for_erasure(db, settings):
    """Someone with a long history: rows in many pages of the WAL, deliveries, tokens, a
    source quoting another address of theirs and an import from a file named after them."""
    add_subscriber(db, settings, ERASED, name=ERASED_NAME, source=ERASED_SOURCE)
    folder = settings.db_path.parent
    import_csv(db, settings, write_csv(folder / ERASED_CSV, [[ERASED, "", ""]]), list_name="events")
    for n in range(30):
        add_subscriber(db, settings, f"neighbour{n}@example.se", name=f"Neighbour {n}")
    import_csv(
        db,
        settings,
        write_csv(folder / "members.csv", [["neighbour.imported@example.se", "", ""]]),
        source="fair",
    )
    person = get_subscriber(db, ERASED)
    update_profile(
        db,
        person["id"],
        name=ERASED_NAME + " Jr",
        channel="web",
        ip="203.0.113.5",
        user_agent="Agent/" + ERASED,
    )
    update_profile(db, person["id"], name=ERASED_NAME, channel="web")
    _deliver(db, person["id"], "2026-11-first", state="failed", reply=f"550 <{ERASED}> unknown")
    _deliver(db, person["id"], "2026-12-second")
    from mailer.audience.tokens import issue_token

    issue_token(db, "unsubscribe", person["id"])
    return person


def _file_bytes(path):
    data = b""
    for suffix in ("", "-wal", "-journal"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            data += file.read_bytes()
    return data


def test_erase_leaves_no_trace_of_the_address_in_the_database_or_wal_bytes(db, settings):
    person = _history_for_erasure(db, settings)
    traces = [ERASED, ERASED_NAME, "zeb.q.private@gmail.com", ERASED_CSV]
    before = _file_bytes(settings.db_path)
    assert all(t.encode() in before for t in traces)  # the check below can fail
    consent.erase_subscriber(db, settings, ERASED)
    data = _file_bytes(settings.db_path)  # read while the connection is still open
    assert [t for t in traces if t.encode() in data] == []
    assert get_subscriber(db, ERASED) is None
    assert (
        db.execute(
            "SELECT count(*) FROM subscriptions WHERE subscriber_id = ?", [person["id"]]
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT count(*) FROM consent_log WHERE subscriber_id = ?", [person["id"]]
        ).fetchone()[0]
        == 0
    )
    anonymised = db.execute(
        "SELECT action, list_id, channel, source, ip, user_agent, detail, lawful_basis "
        "FROM consent_log WHERE anonymised = 1 ORDER BY id"
    ).fetchall()
    assert anonymised == [
        ("add", 1, "cli", None, None, None, None, "consent"),
        ("import", 2, "csv", None, None, None, None, "consent"),
        ("rectify", None, "web", None, None, None, None, "consent"),
        ("rectify", None, "web", None, None, None, None, "consent"),
    ]
    assert db.execute(
        "SELECT subscriber_id, last_reply FROM deliveries WHERE issue = '2026-11-first'"
    ).fetchone() == (None, None)
    suppressed = db.execute("SELECT address_hmac, reason FROM suppressions").fetchall()
    assert suppressed == [(consent.address_hmac(settings, ERASED), "erased")]
    assert db.execute(
        "SELECT action, subscriber_id FROM consent_log ORDER BY id DESC LIMIT 1"
    ).fetchone() == ("erase", None)
    # the neighbours are untouched, their log rows included
    assert get_subscriber(db, "neighbour7@example.se")["name"] == "Neighbour 7"
    assert db.execute(
        "SELECT channel, source, anonymised FROM consent_log WHERE action = 'import' "
        "AND subscriber_id IS NOT NULL"
    ).fetchall() == [("csv:members.csv:2", "fair", 0)]


def test_cli_erase_clears_the_source_and_the_csv_file_name(db, settings, csv_file, run_cli):
    """The audit's case: a source quoting the person's private address and a file named after
    them stayed readable in the anonymised rows."""
    source = "mejl från lena.berg@gmail.com 2026-11-20"
    assert run_cli("subscribers", "add", "lena@example.se", "--source", source).exit_code == 0
    sheet = csv_file([["lena@example.se", "Lena Berg", "sv"]], name="Lena Berg anmälan.csv")
    imported = run_cli("subscribers", "import", str(sheet), "--list", "events")
    assert imported.exit_code == 0, imported.output
    add_subscriber(db, settings, "other@example.se", source="fair")
    shown = run_cli("subscribers", "show", "lena@example.se").output
    assert f"cli ({source})" in shown and "csv:Lena Berg anmälan.csv:2" in shown
    assert run_cli("subscribers", "erase", "lena@example.se", "--yes").exit_code == 0
    rows = db.execute(
        "SELECT action, channel, source FROM consent_log WHERE anonymised = 1 ORDER BY id"
    ).fetchall()
    assert rows == [("add", "cli", None), ("import", "csv", None)]
    data = _file_bytes(settings.db_path)
    for trace in ("lena.berg@gmail.com", "Lena Berg anm", "lena@example.se"):
        assert trace.encode() not in data, trace
    # someone else's history still reads as before
    shown = run_cli("subscribers", "show", "other@example.se").output
    assert "add         nyhetsbrev     cli (fair)" in shown


def test_erased_address_is_refused_by_add_and_import(db, settings, csv_file, run_cli):
    add_subscriber(db, settings, ERASED)
    consent.erase_subscriber(db, settings, ERASED)
    with pytest.raises(SubscriberError, match="erased on request"):
        add_subscriber(db, settings, ERASED.upper())
    result = run_cli("subscribers", "add", ERASED)
    assert result.exit_code != 0 and "double opt-in" in result.output
    report = import_csv(db, settings, csv_file([[ERASED, "Z", "sv"], ["new@example.se", "N", ""]]))
    assert report.suppressed == 1 and report.added == 1
    assert "row 2: zebulon.quixote@example.se was erased on request" in report.describe()
    assert get_subscriber(db, ERASED) is None


def test_erased_person_may_come_back_through_double_opt_in(db, settings, signup):
    add_subscriber(db, settings, ERASED)
    consent.erase_subscriber(db, settings, ERASED)
    token = signup(ERASED)
    assert token is not None
    assert consent.is_suppressed(db, settings, ERASED)  # not until they confirm
    from mailer.audience.optin import confirm

    assert confirm(db, settings, token, ip=None, user_agent=None)
    assert not consent.is_suppressed(db, settings, ERASED)
    assert get_subscriber(db, ERASED)["subscriptions"] == {"newsletter": "active"}


def test_cli_erase_asks_first_and_then_erases(db, settings, run_cli):
    add_subscriber(db, settings, ERASED)
    result = run_cli("subscribers", "erase", ERASED, input="n\n")
    assert result.exit_code != 0
    assert get_subscriber(db, ERASED) is not None
    result = run_cli("subscribers", "erase", ERASED, input="y\n")
    assert result.exit_code == 0, result.output
    assert get_subscriber(db, ERASED) is None
    again = run_cli("subscribers", "erase", ERASED, "--yes")
    assert again.exit_code != 0 and "already erased" in again.output


def test_erase_needs_the_secret_key(db, settings):
    import dataclasses

    from mailer.errors import ConfigError

    add_subscriber(db, settings, ERASED)
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET_KEY"):
        consent.erase_subscriber(db, dataclasses.replace(settings, secret_key=""), ERASED)
    assert get_subscriber(db, ERASED) is not None


def _age_pending(db, days):
    old = "2000-01-01T00:00:00.000000Z" if days else utc_now()
    with transaction(db):
        db.execute("UPDATE subscriptions SET created = ? WHERE status = 'pending'", [old])


def test_purge_removes_old_unconfirmed_sign_ups_only(db, settings, signup, run_cli):
    signup("old.pending@example.se")
    add_subscriber(db, settings, "active@example.se")
    add_subscriber(db, settings, "left@example.se")
    unsubscribe_address(db, "left@example.se")
    _age_pending(db, 30)
    signup("fresh.pending@example.se")
    result = run_cli("subscribers", "purge")
    assert result.exit_code == 0
    assert "Purged 1 unconfirmed sign-ups (1 people removed)" in result.output
    assert get_subscriber(db, "old.pending@example.se") is None
    assert get_subscriber(db, "fresh.pending@example.se") is not None
    assert get_subscriber(db, "active@example.se") is not None
    assert get_subscriber(db, "left@example.se")["subscriptions"] == {"nyhetsbrev": "unsubscribed"}
    assert b"old.pending@example.se" not in _file_bytes(settings.db_path)
    result = run_cli("subscribers", "purge", "--older-than", "0")
    assert "Purged 1 unconfirmed" in result.output
    assert get_subscriber(db, "fresh.pending@example.se") is None


def test_purge_keeps_a_person_who_has_another_list(db, settings, signup):
    add_subscriber(db, settings, "two@example.se")
    signup("two@example.se", lists=("events",))
    _age_pending(db, 30)
    assert consent.purge_pending(db, settings)["subscribers"] == 0
    assert get_subscriber(db, "two@example.se")["subscriptions"] == {"nyhetsbrev": "active"}


def test_a_second_process_sees_the_erasure(db, settings):
    add_subscriber(db, settings, ERASED)
    other = open_db(settings.db_path)
    consent.erase_subscriber(db, settings, ERASED)
    assert other.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
    other.close()


def test_erase_falls_back_to_vacuum_when_deleted_bytes_linger(db, settings):
    """Without secure_delete, freed cells keep their bytes: the scan finds them and VACUUMs."""
    db.execute("PRAGMA secure_delete = OFF")
    _history_for_erasure(db, settings)
    consent.erase_subscriber(db, settings, ERASED)
    data = _file_bytes(settings.db_path)
    for trace in (ERASED, "zeb.q.private@gmail.com", ERASED_CSV):
        assert trace.encode() not in data, trace


def test_erase_during_a_reading_process_says_so_quickly_and_purge_finishes_the_scrub(
    db, settings, run_cli
):
    """A running send holds a read snapshot: erasure commits, cannot truncate the WAL, and says
    so (in seconds: the 30 s busy timeout per attempt once made this test take five minutes);
    `purge` later finishes the job."""
    _history_for_erasure(db, settings)
    reader = open_db(settings.db_path)
    reader.conn.execute("BEGIN")
    reader.execute("SELECT count(*) FROM subscribers").fetchone()  # a snapshot the WAL must keep
    try:
        result = run_cli("subscribers", "erase", ERASED, "--yes")
    finally:
        reader.conn.execute("ROLLBACK")
        reader.close()
    assert result.exit_code != 0
    assert "the data is deleted" in result.output and "subscribers purge" in result.output
    assert get_subscriber(db, ERASED) is None
    assert run_cli("subscribers", "purge").exit_code == 0
    assert ERASED.encode() not in _file_bytes(settings.db_path)
