"""`bounces fetch` against a real Dovecot IMAP server on 127.0.0.1, holding DSNs for messages
the tool sent to the local sink: each message is read once, nothing in the mailbox changes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.audience import subscribers
from mailer.delivery.bounces.run import fetch_bounces
from mailer.errors import BounceError
from tests.fixtures_bounces import LIST


def bounce_rows(db) -> int:
    return db.execute("SELECT count(*) FROM bounce_events").fetchone()[0]


def test_fetch_records_each_report_once_and_leaves_the_mailbox_alone(db, mailed, dovecot_imap):
    dead, full, complainer, fine = mailed.addresses
    dovecot_imap.append(
        mailed.report("dsn-hard.eml", dead),
        mailed.report("dsn-soft.eml", full),
        mailed.report("arf-abuse.eml", complainer),
        mailed.report("not-a-bounce.eml", fine),
        mailed.report("autoreply.eml", fine),
    )
    settings = dovecot_imap.settings(mailed.settings)

    first = fetch_bounces(settings)

    assert (first.read, first.hard, first.soft, first.complaints) == (5, 1, 1, 1)
    assert (first.not_bounces, first.ignored, first.changed) == (1, 1, 2)
    assert subscribers.get_subscriber(db, dead)["subscriptions"][LIST] == "bounced"
    assert subscribers.get_subscriber(db, full)["subscriptions"][LIST] == "active"
    assert subscribers.get_subscriber(db, complainer)["subscriptions"][LIST] == "unsubscribed"
    assert bounce_rows(db) == 3

    second = fetch_bounces(settings)
    assert second.read == 0 and bounce_rows(db) == 3
    assert second.line().startswith("0 messages read: recorded 0 hard bounces")

    flags = dovecot_imap.flags()
    assert len(flags) == 5  # nothing deleted, the unclassified mail included
    assert all("\\Seen" not in value and "\\Deleted" not in value for value in flags.values())

    dovecot_imap.append(mailed.report("exim.eml", fine))
    third = fetch_bounces(settings)
    assert (third.read, third.hard) == (1, 1) and bounce_rows(db) == 4


def test_a_dry_run_fetch_records_nothing_and_remembers_nothing(db, mailed, dovecot_imap):
    dovecot_imap.append(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    settings = dovecot_imap.settings(mailed.settings)
    dry = fetch_bounces(settings, dry_run=True)
    assert dry.hard == 1 and bounce_rows(db) == 0
    assert db.execute("SELECT count(*) FROM bounce_mailboxes").fetchone()[0] == 0
    assert fetch_bounces(settings).hard == 1  # the real run still sees it
    assert bounce_rows(db) == 1


def test_a_renumbered_folder_is_read_again_without_recording_twice(db, mailed, dovecot_imap):
    dovecot_imap.append(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    settings = dovecot_imap.settings(mailed.settings)
    fetch_bounces(settings)
    db.execute("UPDATE bounce_mailboxes SET uidvalidity = uidvalidity + 1")  # as after a rebuild
    db.conn.commit()
    again = fetch_bounces(settings)
    assert (again.read, again.hard, again.duplicates) == (1, 0, 1) and bounce_rows(db) == 1


def test_the_cli_fetches_with_the_settings_from_the_environment(db, mailed, dovecot_imap):
    dovecot_imap.append(mailed.report("qmail.eml", mailed.addresses[1]))
    env = {
        "NEWSLETTER_SECRET_KEY": mailed.settings.secret_key,
        "NEWSLETTER_BOUNCE_ADDRESS": mailed.settings.bounce_address,
        "BOUNCE_IMAP_HOST": dovecot_imap.host,
        "BOUNCE_IMAP_PORT": str(dovecot_imap.port),
        "BOUNCE_IMAP_USERNAME": dovecot_imap.user,
        "BOUNCE_IMAP_PASSWORD": dovecot_imap.password,
        "BOUNCE_IMAP_SECURITY": "none",
    }
    args = ["--db", str(mailed.settings.db_path), "bounces", "fetch"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert f"hard bounce 5.1.1 for {mailed.addresses[1]} on {LIST}" in result.output
    assert "1 messages read: recorded 1 hard bounces" in result.output
    again = CliRunner().invoke(cli, args, env=env)
    assert "0 messages read" in again.output


def test_a_wrong_password_names_the_server_and_not_the_password(mailed, dovecot_imap):
    settings = dovecot_imap.settings(mailed.settings, bounce_imap_password="wrong-password-123")
    with pytest.raises(BounceError) as caught:
        fetch_bounces(settings)
    message = str(caught.value)
    assert f"{dovecot_imap.host}:{dovecot_imap.port}" in message and "failed" in message
    assert "wrong-password-123" not in message


def test_an_unknown_folder_is_named(mailed, dovecot_imap):
    settings = dovecot_imap.settings(mailed.settings, bounce_imap_folder="Studsar")
    with pytest.raises(BounceError, match=r"no folder 'Studsar'.*BOUNCE_IMAP_FOLDER"):
        fetch_bounces(settings)


def test_no_imap_server_listening_is_a_clear_error(mailed):
    from tests.fixtures_bounces import with_settings
    from tests.fixtures_send import free_port

    port = free_port()
    settings = with_settings(
        mailed.settings,
        bounce_imap_host="127.0.0.1",
        bounce_imap_port=port,
        bounce_imap_security="none",
    )
    with pytest.raises(BounceError, match=f"cannot connect to the IMAP server 127.0.0.1:{port}"):
        fetch_bounces(settings)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_fetch_over_tls_checks_the_servers_certificate(db, mailed, dovecot_imap, security):
    from tests.fixtures_send import client_context

    dovecot_imap.append(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    port = dovecot_imap.ssl_port if security == "ssl" else dovecot_imap.port
    settings = dovecot_imap.settings(
        mailed.settings, bounce_imap_security=security, bounce_imap_port=port
    )
    with pytest.raises(BounceError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch_bounces(settings)  # the system's CAs do not know the test certificate
    summary = fetch_bounces(settings, ssl_context=client_context(dovecot_imap.certificate))
    assert summary.hard == 1 and bounce_rows(db) == 1


def test_fetch_without_an_imap_host_says_what_to_set(mailed):
    env = {"NEWSLETTER_SECRET_KEY": mailed.settings.secret_key}
    result = CliRunner().invoke(
        cli, ["--db", str(mailed.settings.db_path), "bounces", "fetch"], env=env
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "BOUNCE_IMAP_HOST is not set" in result.output


def test_fetch_reads_a_folder_with_a_non_ascii_name(db, mailed, dovecot_imap):
    """BOUNCE_IMAP_FOLDER=Återsänt travels in modified UTF-7 (RFC 3501 5.1.3)."""
    conn = dovecot_imap.connect()
    try:
        typ, data = conn.create("&AMU-ters&AOQ-nt")  # imaplib sends the name as given
        assert typ == "OK", data
    finally:
        conn.logout()
    dovecot_imap.folder = "&AMU-ters&AOQ-nt"
    dovecot_imap.append(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    settings = dovecot_imap.settings(mailed.settings, bounce_imap_folder="Återsänt")
    summary = fetch_bounces(settings)
    assert (summary.read, summary.hard) == (1, 1) and bounce_rows(db) == 1
    assert summary.details[0][0] == "Återsänt UID 1"
    assert fetch_bounces(settings).read == 0  # progress remembered under the folder's name
    flags = dovecot_imap.flags()
    assert list(flags) == [1] and "\\Seen" not in flags[1]  # still there, still unread
