"""The VERP return path: one HMAC-checked token per message in MAIL FROM; From unchanged."""

from __future__ import annotations

import re

import pytest

from mailer.config import load_settings
from mailer.delivery.bounces import verp
from mailer.errors import ConfigError
from tests.fixtures_bounces import BOUNCE_ADDRESS, send_issue

KEY = "test-secret-key-0123456789abcdef"


def test_a_token_names_its_row_and_only_with_the_right_key():
    token = verp.make_token(KEY, 42)
    assert verp.verify_token(KEY, token) == 42
    assert verp.verify_token(KEY, token.upper()) == 42  # servers may change the case
    assert verp.verify_token("another-secret-key-0123456789", token) is None
    row, mac = token.split("-")
    assert verp.verify_token(KEY, f"43-{mac}") is None  # another row with this MAC
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    assert verp.verify_token(KEY, f"{row}-{flipped}") is None
    for junk in ("", "42", "42-", "x-" + mac, f"{row}-{mac}0", "42-zzzzzzzzzzzzzzzz"):
        assert verp.verify_token(KEY, junk) is None


def test_each_message_goes_out_with_its_own_return_path(db, settings, mail_sink, built_example):
    mailed = send_issue(db, settings, mail_sink, built_example, 3, bounce_address=BOUNCE_ADDRESS)
    rows = dict(db.execute("SELECT subscriber_id, id FROM deliveries").fetchall())
    senders = set()
    for address, received in mailed.copies.items():
        person = db.execute("SELECT id FROM subscribers WHERE email = ?", [address]).fetchone()[0]
        local, _, domain = received.mail_from.partition("@")
        assert domain == "example.se" and local.startswith("bounces+")
        assert verp.verify_token(KEY, local.removeprefix("bounces+")) == rows[person]
        assert address.split("@")[0] not in received.mail_from  # the address is not in it
        assert received.parsed()["From"].addresses[0].addr_spec == "nyhetsbrev@example.se"
        senders.add(received.mail_from)
    assert len(senders) == 3


def test_without_a_bounce_address_the_from_address_is_the_envelope_sender(
    db, settings, mail_sink, built_example
):
    mailed = send_issue(db, settings, mail_sink, built_example, 2)
    assert {r.mail_from for r in mailed.copies.values()} == {"nyhetsbrev@example.se"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSLETTER_BOUNCE_ADDRESS", "bounces+x@example.se", "leave out the '+'"),
        ("NEWSLETTER_BOUNCE_ADDRESS", "Bounces <bounces@example.se>", "bare address"),
        ("NEWSLETTER_BOUNCE_ADDRESS", "bounces", "bare address"),
        ("BOUNCE_IMAP_SECURITY", "tls", "ssl, starttls, none"),
        ("BOUNCE_IMAP_PORT", "0", "not a port"),
        ("BOUNCE_SOFT_LIMIT", "3 per month", "COUNT/DAYS/ISSUES"),
        ("BOUNCE_SOFT_LIMIT", "0/30/3", "COUNT/DAYS/ISSUES"),
        ("BOUNCE_IMAP_FOLDER", "INBOX\nA1 DELETE INBOX", "line breaks"),
        ("BOUNCE_UNVERIFIED_LIMIT", "3", "DAYS/WITHIN"),
        ("BOUNCE_UNVERIFIED_LIMIT", "8/7", "1 <= DAYS <= WITHIN"),
    ],
)
def test_bad_bounce_settings_are_named(name, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_settings(env_file=None, environ={name: value})
    assert name in str(caught.value)


def test_the_soft_limit_reads_count_days_and_issues():
    settings = load_settings(env_file=None, environ={"BOUNCE_SOFT_LIMIT": "5/60"})
    assert settings.soft_limit == (5, 60, 5)
    assert load_settings(env_file=None, environ={}).soft_limit == (3, 30, 3)
    assert load_settings(env_file=None, environ={}).unverified_limit == (3, 7)


def test_the_send_plan_names_the_return_path_and_warns_when_it_cannot_align(db, settings):
    from mailer.delivery.report import make_plan
    from tests.fixtures_bounces import LIST, with_settings
    from tests.fixtures_send import add_subscribers

    add_subscribers(db, settings, 1, LIST)
    meta = {"title": "Nyhetsbrev", "subject": "Nyhetsbrev"}
    aligned = with_settings(settings, bounce_address="bounces@news.example.se")
    plan = make_plan(db, aligned, meta, "2018-2", LIST, None, 1, 0.0)
    assert "Bounces:    to bounces+TOKEN@news.example.se" in plan.describe()
    assert not any("NEWSLETTER_BOUNCE_ADDRESS" in w for w in plan.warnings)
    elsewhere = with_settings(settings, bounce_address="bounces@mailhost.example.net")
    plan = make_plan(db, elsewhere, meta, "2018-2", LIST, None, 1, 0.0)
    assert any("SPF will not align" in w for w in plan.warnings)


def test_without_verp_the_plan_and_check_say_bounces_can_be_forged(db, settings, built_example):
    from mailer.check import check_issue
    from mailer.delivery.report import make_plan
    from tests.fixtures_bounces import BOUNCE_ADDRESS, LIST, with_settings
    from tests.fixtures_send import add_subscribers

    add_subscribers(db, settings, 1, LIST)
    meta = {"title": "Nyhetsbrev", "subject": "Nyhetsbrev"}
    plan = make_plan(db, settings, meta, "2018-2", LIST, None, 1, 0.0).describe()
    assert "Bounces:    to the From address and matched by address, so anyone can forge" in plan
    report = check_issue(built_example, settings, spam=False, list_name=LIST)
    (note,) = [f for f in report.notes if f.code == "bounces-by-address"]
    assert "anyone can forge" in note.message and "NEWSLETTER_BOUNCE_ADDRESS" in note.advice

    verp = with_settings(settings, bounce_address=BOUNCE_ADDRESS)
    report = check_issue(built_example, verp, spam=False, list_name=LIST)
    assert not [f for f in report.notes if f.code == "bounces-by-address"]
