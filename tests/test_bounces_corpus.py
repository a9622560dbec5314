"""Every failed recipient of every report, with every reader: the hand-written corpus in
tests/bounce_corpus and tests/bounce_samples, a real Postfix's report about several recipients,
and a comparison with flufl.bounce alone (we find at least what it finds)."""

from __future__ import annotations

import email
import smtplib
import time

import flufl.bounce
import pytest
from click.testing import CliRunner

from cli import cli
from mailer.audience import subscribers
from mailer.delivery.bounces.classify import classify
from mailer.delivery.bounces.findings import mailbox_of
from tests.fixtures_bounces import (
    CORPUS,
    LIST,
    POSTFIX_DOMAIN,
    SAMPLES,
    corpus,
    sample,
    with_settings,
)

R1, R2, R3 = "anna.berg@example.org", "Bo.Ek@example.com", "cai@example.net"
ORIGINAL = "<2018-2.0123456789abcdef@example.se>"

# file: (the reader that decides, {recipient: (kind, status)}) - what each report must yield
EXPECTED = {
    "dsn-three-recipients.eml": (
        "rfc3464",
        {R1: ("hard", "5.1.1"), R2: ("hard", "5.7.1")},  # R3 is only delayed: no failure
    ),
    "dsn-cut-in-recipient.eml": (  # R2's fields cut off mid-word; its text still names it
        "rfc3464",
        {R1: ("hard", "5.1.1"), R2: ("hard", "5.0.0")},
    ),
    "dsn-without-status-part.eml": (
        "flufl.bounce",
        {R1: ("hard", "5.1.1"), R2: ("hard", "5.2.1")},
    ),
    "dsn-no-recipient-fields.eml": ("free-text", {R1: ("hard", "5.1.1")}),
    "exchange-ndr.eml": ("rfc3464", {R1: ("hard", "5.1.10")}),  # Final-Recipient in capitals
    "exim-two-recipients.eml": ("flufl.bounce", {R1: ("hard", "5.1.1"), R2: ("hard", "5.0.0")}),
    "qmail-two-recipients.eml": ("flufl.bounce", {R1: ("hard", "5.1.1"), R2: ("hard", "5.1.1")}),
    "sendmail-plain.eml": ("flufl.bounce", {R1: ("hard", "5.0.0")}),
    "yahoo-style.eml": ("flufl.bounce", {R1: ("hard", "5.0.0")}),
    "gmail-style.eml": ("free-text", {R1: ("hard", "5.1.1")}),
    "mailbox-full.eml": ("free-text", {R1: ("soft", "4.2.2")}),
    "arf-redacted.eml": ("rfc5965", {"redacted@provider.example": ("complaint", "abuse")}),
}


def read(name: str):
    return classify(
        corpus(name, R1, R2, R3, message_id=ORIGINAL, return_path="bounces+7-00@example.se")
    )


def test_every_corpus_file_has_an_expectation():
    assert {p.name for p in CORPUS.glob("*.eml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_failed_recipient_is_found_with_the_reader_that_decided(name):
    reader, wanted = EXPECTED[name]
    report = read(name)
    found = {f.recipient: (f.kind, f.status) for f in report.failures}
    assert found == {mailbox_of(address): value for address, value in wanted.items()}
    assert report.reader == reader
    assert all(f.diagnostic and f.reader for f in report.failures)


def test_each_failures_words_name_only_its_own_recipient():
    for name in ("exim-two-recipients.eml", "qmail-two-recipients.eml", "dsn-cut-in-recipient.eml"):
        first, second = read(name).failures
        assert mailbox_of(R2) not in first.diagnostic.lower(), name
        assert mailbox_of(R1) not in second.diagnostic.lower(), name


def test_erasing_someone_a_report_about_another_person_quotes_removes_them(db, mailed, tmp_path):
    """A relay's report on A's message about the address A forwards to (B, also a subscriber)
    is recorded for A and quotes B; erasing B leaves no copy of B's address in the file."""
    from mailer.audience import consent
    from mailer.delivery.bounces.run import import_bounces

    forwarder, forwarded_to = mailed.addresses[:2]
    raw = mailed.report(
        "dsn-hard.eml", forwarded_to, return_path=mailed.copies[forwarder].mail_from
    )
    (tmp_path / "fwd.eml").write_bytes(raw)
    assert import_bounces(mailed.settings, [tmp_path / "fwd.eml"]).hard == 1
    consent.erase_subscriber(db, mailed.settings, forwarded_to)
    (diagnostic,) = db.execute("SELECT diagnostic FROM bounce_events").fetchone()
    assert "[erased]" in diagnostic and forwarded_to not in diagnostic
    assert forwarded_to.encode() not in mailed.settings.db_path.read_bytes()


def test_the_original_message_id_is_found_when_the_report_quotes_it():
    for name in ("dsn-three-recipients.eml", "exim-two-recipients.eml", "arf-redacted.eml"):
        assert ORIGINAL in read(name).message_ids, name


def _flufl(raw: bytes) -> tuple[set[str], set[str]]:
    temporary, permanent = flufl.bounce.all_failures(email.message_from_bytes(raw))
    return {mailbox_of(a) for a in permanent} - {""}, {mailbox_of(a) for a in temporary} - {""}


def _whole_corpus() -> list[tuple[str, bytes]]:
    values = {"message_id": ORIGINAL, "return_path": "bounces+7-00@example.se"}
    reports = [(p.name, corpus(p.name, R1, R2, R3, **values)) for p in CORPUS.glob("*.eml")]
    reports += [(p.name, sample(p.name, recipient=R1, **values)) for p in SAMPLES.glob("*.eml")]
    return sorted(reports)


def test_we_find_at_least_what_flufl_bounce_alone_finds():
    """Every address flufl.bounce finds failed, we find failed too: hard, unless the report's
    own status is 4.x.x (flufl.bounce calls `Action: failed` with 4.2.2 permanent; we count it
    as a soft bounce, as BOUNCE_SOFT_LIMIT says); and what it calls temporary is a failure for
    us too, unless the DSN says it is only delayed."""
    ours = theirs = 0
    for name, raw in _whole_corpus():
        report = classify(raw)
        found = {f.recipient: f for f in report.failures}
        permanent, temporary = _flufl(raw)
        assert permanent <= set(found), name
        for address in permanent:
            assert found[address].kind == "hard" or found[address].status.startswith("4."), name
        assert temporary - set(report.settled) <= set(found), name
        ours += len(found)
        theirs += len(permanent | temporary)
    assert ours > theirs  # the corpus holds reports flufl.bounce cannot read


def test_a_report_naming_several_people_records_each_one(db, mailed, tmp_path):
    """One report about three people we mailed, quoting the first one's Message-ID: with VERP
    on the first is proven and bounced, the second recorded unverified, the third (delayed)
    left alone; without VERP both failed people are bounced."""
    first, second, third, _ = mailed.addresses
    copy = mailed.copies[first].parsed()
    raw = corpus(
        "dsn-three-recipients.eml",
        first,
        second,
        third,
        message_id=str(copy["Message-ID"]),
        return_path="nyhetsbrev@example.se",
    )
    path = tmp_path / "three.eml"
    path.write_bytes(raw)
    env = {"NEWSLETTER_SECRET_KEY": mailed.settings.secret_key}
    verp = CliRunner().invoke(
        cli,
        ["--db", str(mailed.settings.db_path), "bounces", "import", "--dry-run", str(path)],
        env={**env, "NEWSLETTER_BOUNCE_ADDRESS": mailed.settings.bounce_address},
    )
    assert verp.exit_code == 0, verp.output
    assert f"hard: hard bounce 5.1.1 for {first} on {LIST} (2018-2, matched by message-id): " in (
        verp.output
    )
    assert f"unverified: hard bounce 5.7.1 for {second}" in verp.output
    assert "[read by rfc3464]" in verp.output and third not in verp.output

    plain = CliRunner().invoke(
        cli, ["--db", str(mailed.settings.db_path), "bounces", "import", str(path)], env=env
    )
    assert plain.exit_code == 0, plain.output
    assert "recorded 2 hard bounces" in plain.output
    person = subscribers.get_subscriber
    assert [person(db, a)["subscriptions"][LIST] for a in mailed.addresses] == [
        "bounced",
        "bounced",
        "active",
        "active",
    ]
    readers = db.execute("SELECT DISTINCT reader, unverified FROM bounce_events").fetchall()
    assert readers == [("rfc3464", 0)]


def test_addresses_flufl_bounce_returns_are_matched_to_the_ones_we_mailed(db, mailed, tmp_path):
    """flufl.bounce answers bytes in the report's own case; Exchange writes capitals."""
    target = mailed.addresses[1]
    raw = mailed.report("exim.eml", target).replace(target.encode(), target.upper().encode())
    settings = with_settings(mailed.settings, bounce_address="")
    (tmp_path / "upper.eml").write_bytes(raw)
    from mailer.delivery.bounces.run import import_bounces

    summary = import_bounces(settings, [tmp_path / "upper.eml"])
    assert (summary.hard, summary.unmatched) == (1, 0)
    assert subscribers.get_subscriber(db, target)["subscriptions"][LIST] == "bounced"


@pytest.mark.slow
def test_a_real_postfix_report_about_three_recipients_names_all_three(
    settings, mail_sink, postfix_relay
):
    """One message to three unknown local users: Postfix writes one DSN naming all three."""
    dead = [f"nobody{n}@{POSTFIX_DOMAIN}" for n in range(3)]
    message = (
        "From: nyhetsbrev@example.se\r\nTo: undisclosed-recipients:;\r\n"
        "Subject: test\r\nMessage-ID: <three@example.se>\r\n\r\nHej!\r\n"
    )
    with smtplib.SMTP("127.0.0.1", postfix_relay.port, timeout=10) as smtp:
        smtp.sendmail("nyhetsbrev@example.se", dead, message)
    deadline = time.monotonic() + 60
    while not mail_sink.handler.received and time.monotonic() < deadline:
        time.sleep(0.2)
    assert mail_sink.handler.received, f"no DSN from Postfix: {postfix_relay.log()}"
    (dsn,) = mail_sink.handler.received
    report = classify(dsn.data)
    assert report.reader == "rfc3464"
    assert {(f.recipient, f.kind, f.status) for f in report.failures} == {
        (address, "hard", "5.1.1") for address in dead
    }
    assert "<three@example.se>" in report.message_ids
    permanent, _temporary = _flufl(dsn.data)
    assert permanent <= {f.recipient for f in report.failures}


@pytest.mark.parametrize(
    ("found", "mailed_as"),
    [
        (b"Anna.Berg@Example.ORG", "anna.berg@example.org"),
        ("rfc822; <anna.berg@example.org>", "anna.berg@example.org"),
        ('"Anna Berg" <ANNA.BERG@example.org>', "anna.berg@example.org"),
        ("utf-8; Åsa@Exämple.se", "Åsa@exämple.se"),
        ("<kalle@örebro.se>.", "kalle@örebro.se"),
    ],
)
def test_an_address_as_a_reader_returns_it_is_the_one_we_stored(found, mailed_as):
    from mailer.audience.subscriber_fields import normalise_email

    assert mailbox_of(found) == normalise_email(mailed_as)
