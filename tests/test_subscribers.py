"""Subscribers and lists: normalised unique addresses, recipients, unsubscribes, bounces."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mailer.audience.roster import add_subscriber, unsubscribe_address
from mailer.audience.subscribers import (
    active_consent_event,
    active_recipients,
    clean_name,
    ensure_list,
    get_subscriber,
    mark_bounced,
    normalise_email,
    unsubscribe,
    update_profile,
)
from mailer.errors import SubscriberError


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Anna.Svensson@Example.SE", "anna.svensson@example.se"),
        ("  anna@example.se \t", "anna@example.se"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("USER@XN--BCHER-KVA.DE", "user@xn--bcher-kva.de"),
        ("asa@Örebro.se", "asa@xn--rebro-iua.se"),
    ],
)
def test_addresses_are_normalised_to_one_form(typed, stored):
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "anna",
        "anna@",
        "@example.se",
        "a b@example.se",
        "anna@example",
        "anna@x.local",
        "anna@example.se\r\nBcc: x@example.se",
        "anna\x00@example.se",
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(bad):
    with pytest.raises(SubscriberError, match="e-mail address"):
        normalise_email(bad)


@pytest.mark.parametrize("bad", ["Anna\r\nBcc: x@example.se", "Anna\n", "A\x07nna", "A\u2028B"])
def test_names_with_line_breaks_or_control_characters_are_refused(bad):
    with pytest.raises(SubscriberError, match="line break or control"):
        clean_name(bad)


def test_list_title_with_a_line_break_is_refused_and_nothing_is_created(db):
    with pytest.raises(SubscriberError, match="line break or control"):
        ensure_list(db, "events", "Events\r\nBcc: x@example.se")
    assert db["lists"].count == 0
    assert ensure_list(db, "events", "  Evenemang  ") == ensure_list(db, "events")
    assert db.execute("SELECT title FROM lists").fetchone() == ("Evenemang",)


def test_same_address_in_another_case_is_the_same_person(db, settings):
    add_subscriber(db, settings, "Anna@Example.se", name="Anna")
    assert "already subscribed" in add_subscriber(db, settings, "anna@EXAMPLE.SE")
    assert db["subscribers"].count == 1
    assert get_subscriber(db, "ANNA@example.se")["subscriptions"] == {"nyhetsbrev": "active"}


def test_add_records_a_consent_event_with_channel_and_source(db, settings):
    add_subscriber(db, settings, "b@example.se", source="sign-up sheet, fair 2026-10-03")
    event = db.execute(
        "SELECT action, channel, source, lawful_basis, at FROM consent_log"
    ).fetchone()
    assert event[:4] == ("add", "cli", "sign-up sheet, fair 2026-10-03", "consent")
    assert event[4].endswith("Z")  # UTC


def test_active_recipients_are_only_active_subscriptions_of_that_list(db, settings, signup):
    add_subscriber(db, settings, "active@example.se", name="Active", language="da")
    add_subscriber(db, settings, "other-list@example.se", list_name="events")
    add_subscriber(db, settings, "gone@example.se")
    unsubscribe_address(db, "gone@example.se")
    signup("pending@example.se")
    recipients = list(active_recipients(db, "nyhetsbrev"))
    assert [(r.email, r.name, r.language) for r in recipients] == [
        ("active@example.se", "Active", "da")
    ]
    recipient = recipients[0]
    assert recipient.consent_event_id == active_consent_event(
        db, recipient.subscriber_id, "nyhetsbrev"
    )
    assert db.execute(
        "SELECT action FROM consent_log WHERE id = ?", [recipient.consent_event_id]
    ).fetchone() == ("add",)


def test_unknown_list_is_an_error_for_recipients(db):
    with pytest.raises(SubscriberError, match="unknown list 'nope'"):
        list(active_recipients(db, "nope"))


def test_unsubscribe_changes_status_logs_it_and_a_repeat_is_a_no_op(db, settings):
    add_subscriber(db, settings, "u@example.se")
    add_subscriber(db, settings, "u@example.se", list_name="events")
    sid = get_subscriber(db, "u@example.se")["id"]
    assert unsubscribe(db, sid, "nyhetsbrev", channel="web", ip="192.0.2.9") == ["nyhetsbrev"]
    assert unsubscribe(db, sid, "nyhetsbrev", channel="web") == []
    assert active_consent_event(db, sid, "nyhetsbrev") is None
    assert active_consent_event(db, sid, "events") is not None
    assert unsubscribe(db, sid, None, channel="one-click") == ["events"]
    log = db.execute(
        "SELECT action, channel, ip FROM consent_log WHERE action = 'unsubscribe' ORDER BY id"
    ).fetchall()
    assert log == [("unsubscribe", "web", "192.0.2.9"), ("unsubscribe", "one-click", None)]


def test_mark_bounced_stops_sending_and_keeps_the_reply(db, settings):
    add_subscriber(db, settings, "bounce@example.se")
    sid = get_subscriber(db, "bounce@example.se")["id"]
    mark_bounced(db, sid, "nyhetsbrev", reply="550 5.1.1 user unknown")
    assert get_subscriber(db, "bounce@example.se")["subscriptions"] == {"nyhetsbrev": "bounced"}
    assert list(active_recipients(db, "nyhetsbrev")) == []
    assert db.execute("SELECT detail FROM consent_log WHERE action='bounce'").fetchone() == (
        "550 5.1.1 user unknown",
    )


def test_update_profile_rectifies_and_sets_lists_with_log_events(db, settings):
    add_subscriber(db, settings, "p@example.se", name="Old Name")
    ensure_list(db, "events")
    sid = get_subscriber(db, "p@example.se")["id"]
    changes = update_profile(
        db, sid, name="New Name", language="en", lists=["events"], channel="web", ip="192.0.2.2"
    )
    assert changes == ["name", "language", "+events", "-nyhetsbrev"]
    person = get_subscriber(db, "p@example.se")
    assert (person["name"], person["language"]) == ("New Name", "en")
    assert person["subscriptions"] == {"events": "active", "nyhetsbrev": "unsubscribed"}
    assert update_profile(db, sid, name="New Name", channel="web") == []
    with pytest.raises(SubscriberError, match="line break"):
        update_profile(db, sid, name="x\r\nBcc: y", channel="web")
    with pytest.raises(SubscriberError, match="unknown language"):
        update_profile(db, sid, language="fi", channel="web")


def test_add_never_reactivates_someone_who_unsubscribed(db, settings):
    add_subscriber(db, settings, "left@example.se")
    unsubscribe_address(db, "left@example.se")
    with pytest.raises(SubscriberError, match="unsubscribed"):
        add_subscriber(db, settings, "left@example.se")
    assert get_subscriber(db, "left@example.se")["subscriptions"] == {"nyhetsbrev": "unsubscribed"}


def test_bad_input_writes_nothing(db, settings):
    for kwargs in (
        {"email": "not-an-address"},
        {"email": "ok@example.se", "name": "A\nB"},
        {"email": "ok@example.se", "language": "fi"},
        {"email": "ok@example.se", "list_name": "Bad List!"},
    ):
        with pytest.raises(SubscriberError):
            add_subscriber(db, settings, **kwargs)
    assert db["subscribers"].count == 0 and db["lists"].count == 0 and db["consent_log"].count == 0


# --- the command line ----------------------------------------------------------------------


def test_cli_add_list_show_unsubscribe_stats(run_cli):
    result = run_cli(
        "subscribers",
        "add",
        "Cli@Example.se",
        "--name",
        "Cli Person",
        "--list",
        "events",
        "--language",
        "da",
        "--source",
        "phone call",
    )
    assert result.exit_code == 0, result.output
    assert "added to events" in result.output
    listing = run_cli("subscribers", "list", "--list", "events", "--status", "active")
    assert "cli@example.se\tCli Person\tda\tevents\tactive" in listing.output
    shown = run_cli("subscribers", "show", "cli@example.se")
    assert "events: active" in shown.output and "add" in shown.output
    unsub = run_cli("subscribers", "unsubscribe", "cli@example.se")
    assert unsub.exit_code == 0 and "Unsubscribed from events" in unsub.output
    again = run_cli("subscribers", "unsubscribe", "cli@example.se")
    assert "Nothing to change" in again.output
    stats = run_cli("subscribers", "stats")
    assert "events: 0 pending, 0 active, 1 unsubscribed" in stats.output


def test_csv_export_defuses_spreadsheet_formulas_in_names(run_cli):
    run_cli("subscribers", "add", "f@example.se", "--name", '=HYPERLINK("http://x")')
    exported = list(csv.DictReader(io.StringIO(run_cli("subscribers", "export").stdout)))
    assert exported[0]["name"] == '\'=HYPERLINK("http://x")'
    rows = json.loads(run_cli("subscribers", "export", "--format", "json").stdout)
    assert rows[0]["name"] == '=HYPERLINK("http://x")'


def test_cli_export_csv_and_json(run_cli):
    run_cli("subscribers", "add", "e1@example.se", "--name", "Åsa Öberg")
    run_cli("subscribers", "add", "e2@example.se")
    as_csv = run_cli("subscribers", "export")
    assert as_csv.exit_code == 0
    assert as_csv.stdout.splitlines()[0] == "email,name,language,created,list,status,updated"
    assert "e1@example.se,Åsa Öberg,sv," in as_csv.stdout
    rows = json.loads(run_cli("subscribers", "export", "--format", "json").stdout)
    assert [r["email"] for r in rows] == ["e1@example.se", "e2@example.se"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "nobody"], "not a valid e-mail address"),
        (["add", "a@example.se", "--name", "A\nB"], "line break"),
        (["add", "a@example.se", "--language", "fi"], "Invalid value for '--language'"),
        (["show", "missing@example.se"], "no subscriber"),
        (["unsubscribe", "missing@example.se"], "no subscriber"),
        (["list", "--list", "nope"], "unknown list"),
    ],
)
def test_cli_bad_input_is_a_clear_error_and_non_zero_exit(run_cli, settings, args, message):
    result = run_cli("subscribers", *args)
    assert result.exit_code != 0
    assert message in result.output
    from mailer.store.db import open_db

    assert open_db(settings.db_path)["subscribers"].count == 0


def test_cli_reads_the_database_path_from_newsletter_db(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    path = tmp_path / "from-env.db"
    env = {"NEWSLETTER_DB": str(path), "NEWSLETTER_SECRET_KEY": "k" * 20}
    result = CliRunner().invoke(cli, ["subscribers", "add", "env@example.se"], env=env)
    assert result.exit_code == 0, result.output
    listing = CliRunner().invoke(cli, ["subscribers", "list"], env=env)
    assert listing.stdout.startswith("env@example.se\t")
    assert path.exists()


def test_every_subscribers_command_has_help(run_cli):
    commands = ["add", "import", "list", "show", "export", "unsubscribe", "erase", "purge", "stats"]
    for command in commands:
        result = run_cli("subscribers", command, "--help")
        assert result.exit_code == 0
        assert len(result.output.split("\n\n")[1].strip()) > 20, command
