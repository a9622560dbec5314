"""A DSN written by a real MTA: the tool mails a local Postfix (loopback only, a throwaway
configuration) that accepts the message with 250, as a relay does, then fails to deliver it to
an unknown local user and mails its delivery status notification to the VERP return path. That
DSN, caught by the aiosmtpd sink Postfix relays to, goes through `newsletter bounces import`."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.audience import subscribers
from mailer.delivery.bounces import verp
from mailer.delivery.send import run_send
from tests.fixtures_bounces import (
    BOUNCE_ADDRESS,
    LIST,
    POSTFIX_DOMAIN,
    postfix_settings,
)
from tests.fixtures_send import add_subscribers

pytestmark = pytest.mark.slow


def test_a_real_postfix_bounce_ends_the_subscription(
    db, settings, mail_sink, postfix_relay, built_example, tmp_path
):
    smtp = postfix_settings(settings, postfix_relay)
    (dead,) = add_subscribers(db, smtp, 1, LIST, domain=POSTFIX_DOMAIN)
    summary = run_send(smtp, built_example)
    assert summary.sent == 1  # Postfix said 250, as relays do; the failure comes later by mail

    deadline = time.monotonic() + 60
    while not mail_sink.handler.received and time.monotonic() < deadline:
        time.sleep(0.2)
    assert mail_sink.handler.received, f"no DSN from Postfix: {postfix_relay.log()}"
    (dsn,) = mail_sink.handler.received
    row = db.execute("SELECT id FROM deliveries").fetchone()[0]
    assert dsn.mail_from in ("", "<>") and dsn.rcpt == verp.envelope_sender(smtp, row)
    message = dsn.parsed()
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    path = tmp_path / "postfix-dsn.eml"
    path.write_bytes(dsn.data)

    env = {"NEWSLETTER_SECRET_KEY": smtp.secret_key, "NEWSLETTER_BOUNCE_ADDRESS": BOUNCE_ADDRESS}
    result = CliRunner().invoke(
        cli, ["--db", str(smtp.db_path), "bounces", "import", str(path)], env=env
    )

    assert result.exit_code == 0, result.output
    assert f"hard bounce 5.1.1 for {dead} on {LIST} (2018-2, matched by token): bounced" in (
        result.output
    )
    assert "unknown user" in result.output
    assert subscribers.get_subscriber(db, dead)["subscriptions"][LIST] == "bounced"
    status, diagnostic = db.execute("SELECT status, diagnostic FROM bounce_events").fetchone()
    assert status == "5.1.1" and "unknown user" in diagnostic
