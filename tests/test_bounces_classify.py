"""Classifying returned mail: RFC 3464, RFC 5965, free-text bounces (flufl.bounce), the rest."""

from __future__ import annotations

import pytest

from mailer.delivery.bounces.classify import classify
from tests.fixtures_bounces import sample

VALUES = {
    "recipient": "anna@example.org",
    "message_id": "<2018-2.0123456789abcdef@example.se>",
    "return_path": "bounces+7-0123456789abcdef@example.se",
}


def read(name: str):
    return classify(sample(name, **VALUES))


def test_a_dsn_gives_action_status_recipient_and_diagnostic():
    report = read("dsn-hard.eml")
    assert report.verdict == "dsn"
    (failure,) = report.failures
    assert (failure.kind, failure.status) == ("hard", "5.1.1")
    assert failure.recipient == "anna@example.org"
    assert failure.diagnostic.startswith("smtp; 550 5.1.1 <anna@example.org>")
    assert "User unknown in virtual mailbox table" in failure.diagnostic  # folded line joined
    assert report.message_ids == [VALUES["message_id"]]
    assert report.reported_at.startswith("2026-12-01T09:15:02")  # the report's Date, in UTC


def test_a_4xx_failure_is_soft_and_a_delay_warning_is_ignored():
    (failure,) = read("dsn-soft.eml").failures
    assert (failure.kind, failure.status) == ("soft", "4.2.2")
    delayed = read("dsn-delayed.eml")
    assert delayed.verdict == "ignored" and not delayed.failures
    assert "delayed" in delayed.reason


def test_an_arf_report_is_a_complaint_about_the_original_recipient():
    report = read("arf-abuse.eml")
    assert report.verdict == "arf"
    (failure,) = report.failures
    assert (failure.recipient, failure.kind, failure.status) == (
        "anna@example.org",
        "complaint",
        "abuse",
    )
    assert report.message_ids == [VALUES["message_id"]]


@pytest.mark.parametrize(
    ("name", "status"), [("exim.eml", "5.1.1"), ("qmail.eml", "5.1.1"), ("exchange.eml", "5.0.0")]
)
def test_free_text_bounces_of_the_big_servers_are_read_by_flufl_bounce(name, status):
    report = read(name)
    assert report.verdict == "bounce"
    (failure,) = report.failures
    assert (failure.recipient, failure.kind, failure.status) == ("anna@example.org", "hard", status)
    assert failure.diagnostic


def test_the_exchange_diagnostic_is_the_servers_reason_not_the_quoted_to_line():
    (failure,) = read("exchange.eml").failures
    assert "not recognized" in failure.diagnostic


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("autoreply.eml", "auto-reply"),
        ("not-a-bounce.eml", "not-bounce"),
    ],
)
def test_what_is_not_a_bounce_gives_no_failure(name, verdict):
    report = read(name)
    assert report.verdict == verdict and report.failures == [] and report.reason


def test_a_dsn_cut_short_is_read_from_its_words_and_says_so():
    report = read("dsn-truncated.eml")
    assert (report.verdict, report.reader) == ("bounce", "free-text")
    (failure,) = report.failures
    assert (failure.recipient, failure.kind, failure.status) == (
        "anna@example.org",
        "hard",
        "5.1.1",
    )
    assert "User unknown" in failure.diagnostic


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n",
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
        b"Final-Recipient: rfc822;",
        b"From: a@b\nContent-Type: multipart/report; report-type=feedback-report; boundary=y\n\n"
        b"--y\nContent-Type: message/feedback-report\n\nUser-Agent: x\n--y--\n",
    ],
)
def test_broken_input_is_unreadable_or_nothing_never_an_exception(raw):
    report = classify(raw)
    assert report.verdict in ("unreadable", "not-bounce") and not report.failures


def test_the_same_report_over_imap_or_from_a_file_has_one_hash():
    raw = sample("dsn-hard.eml", **VALUES)
    assert classify(raw).digest == classify(raw.replace(b"\n", b"\r\n")).digest


@pytest.mark.parametrize(
    "from_line",
    [
        b"From: MAILER-DAEMON@qmail.example.net\n",
        "From: Mail Delivery Återsändning <MAILER-DAEMON@qmail.example.net>\n".encode(),  # 8-bit
        b"",  # no From at all: one flufl.bounce detector crashed on that
    ],
)
def test_a_free_text_bounce_is_read_whatever_its_from_header(from_line, capsys):
    raw = sample("qmail.eml", **VALUES).replace(
        b"From: MAILER-DAEMON@qmail.example.net\n", from_line
    )
    report = classify(raw)
    assert report.verdict == "bounce" and report.failures[0].recipient == "anna@example.org"
    assert "Traceback" not in capsys.readouterr().err


def test_random_damage_never_raises_and_never_prints(capsys):
    import random

    rng = random.Random(7)
    raw = sample("exim.eml", **VALUES)
    for _ in range(200):  # bounded: a fixed number of damaged copies
        damaged = bytearray(raw)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        report = classify(bytes(damaged))
        assert report.verdict in ("bounce", "not-bounce", "unreadable", "auto-reply", "dsn")
        assert "cannot read the report" not in report.reason
    assert capsys.readouterr().err == ""
