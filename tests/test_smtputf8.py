"""International addresses (RFC 6531): accepted on import, sent with SMTPUTF8 when the server
offers it, deferred with a reason (not failed) when it does not."""

from __future__ import annotations

import email
import email.policy

from click.testing import CliRunner

from cli import cli
from mailer.audience import roster, subscribers
from mailer.audience.importer import import_csv
from mailer.delivery.send import run_send, send_status
from mailer.store.db import transaction
from tests.fixtures_send import add_subscribers, smtp_environment, start_sink

LIST = "nyhetsbrev"
ASA = "åsa.lindström@exempel.se"
MARTA = "märta@exempel.se"


def add_international(db, settings):
    with transaction(db):
        roster.add_subscriber(db, settings, "Åsa.Lindström@exempel.se", name="Åsa", list_name=LIST)
        roster.add_subscriber(db, settings, MARTA, name="Märta", list_name=LIST)


def test_international_addresses_are_valid_and_stored_lower_case_nfc():
    assert subscribers.normalise_email("Åsa.Lindström@Exempel.se") == ASA
    decomposed = "a\u030asa@exempel.se"  # å as a + combining ring
    assert subscribers.normalise_email(decomposed) == "åsa@exempel.se"
    assert subscribers.normalise_email("märta@bücher.de") == "märta@xn--bcher-kva.de"


def test_a_row_with_an_international_address_no_longer_rejects_the_import(db, settings, tmp_path):
    path = tmp_path / "medlemmar.csv"
    path.write_bytes(
        "e-post;namn\r\nanna@exempel.se;Anna\r\nåsa.lindström@exempel.se;Åsa\r\n".encode("cp1252")
    )
    report = import_csv(db, settings, path, list_name=LIST)
    assert (report.added, report.invalid) == (2, 0)
    assert subscribers.get_subscriber(db, ASA)["name"] == "Åsa"


def test_server_with_smtputf8_gets_international_mail_with_smtputf8(db, settings, built_example):
    controller, sink = start_sink(enable_SMTPUTF8=True)
    try:
        add_subscribers(db, settings, 2, LIST)
        add_international(db, settings)
        summary = run_send(sink.settings(settings), built_example)
    finally:
        controller.stop()
    assert (summary.sent, summary.deferred, summary.failed) == (4, 0, 0)
    copies = {r.rcpt: r for r in sink.handler.received}
    assert set(copies) >= {ASA, MARTA}
    message = email.message_from_string(copies[ASA].data.decode(), policy=email.policy.SMTPUTF8)
    assert message["To"].addresses[0].addr_spec == ASA
    assert ASA.encode() in copies[ASA].data  # raw UTF-8 header (RFC 6532), not an encoded word


def test_smtputf8_is_asked_for_only_by_international_messages(db, settings, built_example):
    seen: dict[str, list[str]] = {}
    controller, sink = start_sink(enable_SMTPUTF8=True)
    handle_rcpt = sink.handler.handle_RCPT

    async def note_options(server, session, envelope, address, rcpt_options):
        seen[address] = list(envelope.mail_options)
        return await handle_rcpt(server, session, envelope, address, rcpt_options)

    sink.handler.handle_RCPT = note_options
    try:
        ascii_addresses = add_subscribers(db, settings, 2, LIST)
        add_international(db, settings)
        run_send(sink.settings(settings), built_example)
    finally:
        controller.stop()
    assert "SMTPUTF8" in seen[ASA] and "SMTPUTF8" in seen[MARTA]
    assert all("SMTPUTF8" not in seen[a] for a in ascii_addresses)


def test_server_without_smtputf8_defers_international_rows_with_a_reason(
    db, settings, built_example
):
    plans = []
    controller, sink = start_sink(enable_SMTPUTF8=False)  # aiosmtpd's Controller offers it
    try:
        ascii_addresses = add_subscribers(db, settings, 3, LIST)
        add_international(db, settings)
        summary = run_send(
            sink.settings(settings), built_example, confirm=lambda plan: plans.append(plan) or True
        )
    finally:
        controller.stop()
    assert "2 recipient(s) have international addresses" in plans[0].describe()
    assert (summary.sent, summary.deferred, summary.failed) == (3, 2, 0)
    assert summary.remaining == 2
    assert "2 deferred because the server does not offer SMTPUTF8" in summary.line()
    assert sorted(sink.handler.copies()) == sorted(ascii_addresses)
    rows = db.execute(
        "SELECT s.email, d.state, d.attempts, d.last_reply FROM deliveries d "
        "JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email IN (?, ?)",
        [ASA, MARTA],
    ).fetchall()
    assert len(rows) == 2
    for _email, state, attempts, reply in rows:
        assert state == "deferred" and attempts == 0
        assert "needs SMTPUTF8" in reply and f"{sink.host}:{sink.port}" in reply
    status = send_status(settings, built_example)
    assert status["smtputf8_deferred"] == 2 and status["counts"]["failed"] == 0

    # send-status says so, and a later run through a server that offers SMTPUTF8 sends them
    environment = smtp_environment(settings, sink.port)
    output = (
        CliRunner()
        .invoke(
            cli, ["--db", str(settings.db_path), "send-status", str(built_example)], env=environment
        )
        .output
    )
    assert f"deferred {ASA}: deferred: the address needs SMTPUTF8" in " ".join(output.split())
    assert "2 international address(es) deferred" in output
    controller, capable = start_sink(enable_SMTPUTF8=True)
    try:
        again = run_send(capable.settings(settings), built_example)
    finally:
        controller.stop()
    assert (again.sent, again.deferred) == (2, 0)
    assert sorted(capable.handler.copies()) == sorted([ASA, MARTA])


def test_a_web_sign_up_with_an_international_address_gets_its_confirmation(
    settings, db, lists, newsletters_dir
):
    """The service mail path: SMTPUTF8 when offered, waiting with the reason when not."""
    from mailer.delivery.service_worker import flush
    from tests.test_service_mail import make_app, outbox_rows
    from tests.test_web_subscribe import sign_up

    controller, plain = start_sink(enable_SMTPUTF8=False)
    try:
        app = make_app(plain.settings(settings), newsletters_dir, MAIL_IN_BACKGROUND=False)
        assert sign_up(app.test_client(), email="Åsa.Lindström@exempel.se").status_code == 200
        ((kind, state, recipient, _attempts, reply),) = outbox_rows(db)
        assert (kind, state, recipient) == ("confirmation", "waiting", ASA)
        assert "needs SMTPUTF8" in reply and plain.handler.count() == 0
    finally:
        controller.stop()
    controller, capable = start_sink(enable_SMTPUTF8=True)
    try:
        flushed = flush(capable.settings(settings))  # `newsletter outbox run`
        assert capable.handler.count() == 1, flushed
    finally:
        controller.stop()
    (received,) = capable.handler.for_rcpt(ASA)
    message = email.message_from_string(received.data.decode(), policy=email.policy.SMTPUTF8)
    assert message["To"].addresses[0].addr_spec == ASA
    assert "/confirm/" in message.get_body(("plain",)).get_content()
    assert outbox_rows(db) == []
