"""Reports anyone can write: with VERP on, forged reports of every kind (DSN, ARF, free text,
three soft bounces, an mbox of 50) change no subscription; the relay's reports for the same
people, carrying their messages' tokens, end them at once. Unverified reports that pile up send
the person a notice through the outbox, whose own bounce then acts. All through the real CLI,
a real SQLite file and the aiosmtpd sink (and a real Postfix for the relay's reports)."""

from __future__ import annotations

import mailbox
import time

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.audience import subscribers
from mailer.delivery.bounces import verp
from mailer.delivery.send import run_send
from mailer.store.db import transaction, utc_now
from tests.fixtures_bounces import (
    BOUNCE_ADDRESS,
    LIST,
    POSTFIX_DOMAIN,
    corpus,
    postfix_settings,
    sample,
    send_issue,
)
from tests.fixtures_send import add_subscribers, smtp_environment


def invoke(settings, *args, env=None):
    environment = {
        "NEWSLETTER_SECRET_KEY": settings.secret_key,
        "NEWSLETTER_FROM": settings.from_address,  # a notice needs a sender people can answer
        "NEWSLETTER_BOUNCE_ADDRESS": BOUNCE_ADDRESS,
        **(env or {}),
    }
    result = CliRunner().invoke(cli, ["--db", str(settings.db_path), *args], env=environment)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def state(db) -> tuple:
    """Every subscription and the consent log: what a forged report must not change."""
    return (
        db.execute(
            "SELECT subscriber_id, list_id, status FROM subscriptions ORDER BY id"
        ).fetchall(),
        db.execute("SELECT id, action FROM consent_log ORDER BY id").fetchall(),
    )


def forged(name: str, recipient: str, n: int = 0, **changes) -> bytes:
    """A report an outsider writes: the victim's address, no token (the bare bounce address,
    which anyone can see in a message's Return-Path domain), a made-up Message-ID."""
    values = {
        "recipient": recipient,
        "message_id": f"<guess{n}@example.se>",
        "return_path": BOUNCE_ADDRESS,
        **changes,
    }
    raw = sample(name, **values)
    return raw.replace(b"Date: ", f"X-Forgery: {n}\nDate: ".encode(), 1)  # distinct reports


def write(tmp_path, name: str, *reports: bytes):
    if len(reports) == 1:
        path = tmp_path / name
        path.write_bytes(reports[0])
        return path
    box = mailbox.mbox(tmp_path / name)
    for raw in reports:
        box.add(raw)
    box.close()
    return tmp_path / name


def test_forged_reports_of_every_kind_change_nothing_and_the_relays_act_at_once(
    db, settings, mail_sink, built_example, tmp_path
):
    mailed = send_issue(db, settings, mail_sink, built_example, 50, bounce_address=BOUNCE_ADDRESS)
    victim = mailed.addresses[0]
    soft = [
        forged("dsn-soft.eml", victim, n).replace(
            b"Date: Tue, 01 Dec 2026", f"Date: Tue, {n:02d} Dec 2026".encode()
        )
        for n in (1, 2, 3)
    ]
    files = [
        write(tmp_path, "dsn.eml", forged("dsn-hard.eml", victim, 10)),
        write(tmp_path, "arf.eml", forged("arf-abuse.eml", victim, 11)),
        write(tmp_path, "qmail.eml", forged("qmail.eml", victim, 12)),
        write(tmp_path, "exchange.eml", corpus("exchange-ndr.eml", victim)),
        write(tmp_path, "soft.mbox", *soft),
        write(
            tmp_path,
            "fifty.mbox",
            *(forged("dsn-hard.eml", a, 100 + n) for n, a in enumerate(mailed.addresses)),
        ),
    ]
    before = state(db)

    result = invoke(mailed.settings, "bounces", "import", *map(str, files))

    assert state(db) == before
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("57 messages read: recorded 0 hard bounces, 0 soft bounces, 0 ")
    assert "(0 subscriptions ended)" in summary and "57 unverified" in summary
    assert f"unverified: complaint abuse for {victim}" in result.output
    assert "unverified: no change" in result.output
    assert db.execute("SELECT count(*), min(unverified) FROM bounce_events").fetchone() == (57, 1)
    assert not db.execute("SELECT count(*) FROM service_mail").fetchone()[0]  # one day: no notice
    shown = invoke(mailed.settings, "subscribers", "show", victim).output
    assert "hard (unverified)" in shown and "complaint (unverified)" in shown
    assert f"{LIST}: active" in shown
    stats = invoke(mailed.settings, "subscribers", "stats").output
    assert f"{LIST}, last 30 days: 50 messages, 0 bounced (0.0%), 0 complaints" in stats
    assert "50 with unverified reports (not counted)" in stats
    status = invoke(mailed.settings, "send-status", str(built_example)).output
    assert "Reported back: 0 bounced, 0 soft-bounced, 0 complained, 50 unverified" in status

    # the relay's own reports about the same people carry their messages' tokens
    real = [mailed.report("dsn-hard.eml", address) for address in mailed.addresses]
    result = invoke(mailed.settings, "bounces", "import", str(write(tmp_path, "real.mbox", *real)))
    assert (
        "recorded 50 hard bounces" in result.output and "(50 subscriptions ended)" in result.output
    )
    statuses = {subscribers.get_subscriber(db, a)["subscriptions"][LIST] for a in mailed.addresses}
    assert statuses == {"bounced"}
    assert db.execute(
        "SELECT count(*) FROM bounce_events WHERE unverified = 0 AND matched_by = 'token'"
    ).fetchone() == (50,)


def test_a_subscribers_own_token_or_message_id_proves_only_their_own_message(db, mailed, tmp_path):
    """An attacker who is a subscriber sees the token (Return-Path) and Message-ID of their own
    copy; a report carrying them and naming someone else acts on the attacker alone."""
    attacker, victim = mailed.addresses[:2]
    own = mailed.copies[attacker]
    with_token = mailed.report("dsn-hard.eml", victim, return_path=own.mail_from)
    with_id = mailed.report(
        "arf-abuse.eml",
        victim,
        return_path=BOUNCE_ADDRESS,
        message_id=str(own.parsed()["Message-ID"]),
    )
    invoke(mailed.settings, "bounces", "import", str(write(tmp_path, "a.eml", with_token)))
    invoke(mailed.settings, "bounces", "import", str(write(tmp_path, "b.eml", with_id)))
    assert subscribers.get_subscriber(db, victim)["subscriptions"][LIST] == "active"
    assert subscribers.get_subscriber(db, attacker)["subscriptions"][LIST] == "unsubscribed"
    matched = db.execute("SELECT DISTINCT subscriber_id, matched_by FROM bounce_events").fetchall()
    attacker_id = subscribers.get_subscriber(db, attacker)["id"]
    assert sorted(matched) == [(attacker_id, "message-id"), (attacker_id, "token")]


def test_a_feedback_loop_that_redacts_the_recipient_still_works_through_the_message_id(
    db, mailed, tmp_path
):
    """Feedback loops mail the address registered with them (no token) and may redact the
    recipient; the complained-of message's own Message-ID proves who it was."""
    target = mailed.addresses[2]
    raw = corpus(
        "arf-redacted.eml",
        "redacted@provider.example",
        message_id=str(mailed.copies[target].parsed()["Message-ID"]),
    )
    result = invoke(mailed.settings, "bounces", "import", str(write(tmp_path, "fbl.eml", raw)))
    assert f"complaint abuse for {target} on {LIST} (2018-2, matched by message-id)" in (
        result.output
    )
    assert subscribers.get_subscriber(db, target)["subscriptions"][LIST] == "unsubscribed"


def _earlier_unverified(db, mailed, address: str, days_ago: int) -> None:
    """An unverified report recorded `days_ago` days ago, as an earlier `bounces import` run
    leaves it (one cannot wait for days in a test)."""
    delivery, person, list_id = db.execute(
        "SELECT d.id, d.subscriber_id, d.list_id FROM deliveries d "
        "JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = ?",
        [address],
    ).fetchone()
    with transaction(db):
        db.execute(
            "INSERT INTO bounce_events (delivery_id, subscriber_id, list_id, issue, kind, status, "
            "diagnostic, reported_at, recorded_at, matched_by, decision, source, report_hash, "
            "unverified, reader) VALUES (?, ?, ?, '2018-2', 'hard', '5.1.1', 'x', ?, ?, "
            "'address', 'unverified: no change', 'file', ?, 1, 'rfc3464')",
            [delivery, person, list_id, *[utc_now(-days_ago * 86400)] * 2, f"earlier{days_ago}"],
        )


def test_unverified_reports_on_three_days_send_one_notice_whose_bounce_acts(
    db, mailed, mail_sink, tmp_path
):
    target = mailed.addresses[0]
    for days_ago in (2, 1):
        _earlier_unverified(db, mailed, target, days_ago)
    result = invoke(
        mailed.settings,
        "bounces",
        "import",
        str(write(tmp_path, "f.eml", forged("dsn-hard.eml", target, 1))),
    )
    assert "3 of 3 days with such reports: a notice was queued to the person" in result.output
    assert subscribers.get_subscriber(db, target)["subscriptions"][LIST] == "active"
    again = invoke(
        mailed.settings,
        "bounces",
        "import",
        str(write(tmp_path, "g.eml", forged("qmail.eml", target, 2))),
    )
    assert "the person was sent a notice on" in again.output  # at most one per 7 days

    mail_sink.handler.received.clear()
    env = smtp_environment(mailed.settings, mail_sink.port)
    sent = invoke(mailed.settings, "outbox", "run", env=env)
    assert "Tried 1 service mails" in sent.output, sent.output
    (notice,) = mail_sink.handler.received
    row = db.execute(
        "SELECT id FROM deliveries WHERE message_id = ?",
        [str(mailed.copies[target].parsed()["Message-ID"])],
    ).fetchone()[0]
    assert notice.rcpt == target
    assert notice.mail_from == verp.envelope_sender(mailed.settings, row)
    message = notice.parsed()
    assert message["Subject"] == "Har våra nyhetsbrev kommit fram till dig?"
    assert "ingenting har ändrats" in message.get_content()
    assert subscribers.get_subscriber(db, target)["subscriptions"][LIST] == "active"

    # the address really is dead: the notice bounces, and its report carries the token
    bounce = sample(
        "dsn-hard.eml",
        recipient=target,
        message_id=str(message["Message-ID"]),
        return_path=notice.mail_from,
    )
    result = invoke(mailed.settings, "bounces", "import", str(write(tmp_path, "n.eml", bounce)))
    assert "matched by token): bounced" in result.output
    assert subscribers.get_subscriber(db, target)["subscriptions"][LIST] == "bounced"


@pytest.mark.slow
def test_real_postfix_reports_act_where_forged_ones_did_not(
    db, settings, mail_sink, postfix_relay, built_example, tmp_path
):
    smtp = postfix_settings(settings, postfix_relay)
    dead = add_subscribers(db, smtp, 3, LIST, domain=POSTFIX_DOMAIN)
    assert run_send(smtp, built_example).sent == 3
    forgeries = [forged("dsn-hard.eml", address, n) for n, address in enumerate(dead)]
    forgeries += [forged("exim.eml", address, 10 + n) for n, address in enumerate(dead)]
    before = state(db)
    invoke(smtp, "bounces", "import", str(write(tmp_path, "forged.mbox", *forgeries)))
    assert state(db) == before

    deadline = time.monotonic() + 60
    while len(mail_sink.handler.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(mail_sink.handler.received) == 3, postfix_relay.log()
    real = [item.data for item in mail_sink.handler.received]
    result = invoke(smtp, "bounces", "import", str(write(tmp_path, "real.mbox", *real)))
    assert "recorded 3 hard bounces" in result.output and "(3 subscriptions ended)" in result.output
    assert "[read by rfc3464]" in result.output
    assert {subscribers.get_subscriber(db, a)["subscriptions"][LIST] for a in dead} == {"bounced"}
