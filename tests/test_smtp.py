"""The SMTP transport against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import ssl

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailer.delivery.smtp import ConnectionLost, PermanentFailure, SmtpTransport, TemporaryFailure
from mailer.errors import SendError
from tests.fixtures_send import (
    FaultyHandler,
    client_context,
    count_sessions,
    free_port,
    start_sink,
)

MESSAGE = (
    b"From: a@example.se\r\nTo: b@example.org\r\nSubject: hej\r\n\r\n"
    b"first line\r\n.starts with a dot\r\n.\r\nlast line\r\n"
)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"sender", b"right password")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_sink(certificate):
    cert_path, key_path = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    controller, sink = start_sink(
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    yield sink
    controller.stop()


def test_refused_connection_names_host_and_port(settings, mail_sink):
    closed = mail_sink.settings(settings, smtp_port=free_port())
    with pytest.raises(SendError, match=rf"127\.0\.0\.1:{closed.smtp_port}"):
        SmtpTransport(closed).connect()


def test_message_arrives_unchanged_including_lines_that_start_with_a_dot(send_settings, mail_sink):
    transport = SmtpTransport(send_settings)
    reply = transport.send("a@example.se", "b@example.org", MESSAGE)
    transport.close()
    assert reply.startswith("250")
    [received] = mail_sink.handler.received
    assert received.rcpt == "b@example.org"
    assert received.data.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")


def test_one_connection_carries_many_messages(send_settings, mail_sink):
    sessions = count_sessions(mail_sink.handler)
    transport = SmtpTransport(send_settings)
    for n in range(5):
        transport.send("a@example.se", f"r{n}@example.org", MESSAGE)
    transport.close()
    assert mail_sink.handler.count() == 5
    assert len(sessions) == 1


def test_550_for_a_recipient_is_a_permanent_hard_bounce(send_settings, mail_sink):
    mail_sink.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    transport = SmtpTransport(send_settings)
    with pytest.raises(PermanentFailure) as caught:
        transport.send("a@example.se", "gone@example.org", MESSAGE)
    assert caught.value.hard_bounce and caught.value.reply == "550 5.1.1 No such user"
    # the session was reset and still works for the next recipient
    assert transport.send("a@example.se", "ok@example.org", MESSAGE).startswith("250")
    transport.close()
    assert [r.rcpt for r in mail_sink.handler.received] == ["ok@example.org"]


def test_451_is_temporary_and_keeps_the_connection(send_settings, mail_sink):
    mail_sink.handler.temporary["busy@example.org"] = ["451 4.3.0 Try later"]
    transport = SmtpTransport(send_settings)
    with pytest.raises(TemporaryFailure, match="451"):
        transport.send("a@example.se", "busy@example.org", MESSAGE)
    assert transport.connected
    assert transport.send("a@example.se", "busy@example.org", MESSAGE).startswith("250")
    transport.close()


def test_421_closes_the_connection_and_the_next_send_reconnects(send_settings, mail_sink):
    mail_sink.handler.temporary["x@example.org"] = ["421 4.7.0 Too many messages"]
    transport = SmtpTransport(send_settings)
    with pytest.raises(TemporaryFailure, match="421"):
        transport.send("a@example.se", "x@example.org", MESSAGE)
    assert not transport.connected
    assert transport.send("a@example.se", "x@example.org", MESSAGE).startswith("250")
    transport.close()
    assert mail_sink.handler.copies() == {"x@example.org": 1}


def test_connection_dropped_after_data_may_have_delivered(send_settings, mail_sink):
    mail_sink.handler.drop_after_data["lost@example.org"] = 1
    transport = SmtpTransport(send_settings)
    with pytest.raises(ConnectionLost) as caught:
        transport.send("a@example.se", "lost@example.org", MESSAGE)
    assert caught.value.after_data
    assert mail_sink.handler.copies() == {"lost@example.org": 1}
    transport.close()


def test_starttls_and_login_deliver(settings, tls_sink, certificate):
    secured = tls_sink.settings(
        settings, smtp_security="starttls", smtp_username="sender", smtp_password="right password"
    )
    transport = SmtpTransport(secured, ssl_context=client_context(certificate))
    assert transport.send("a@example.se", "b@example.org", MESSAGE).startswith("250")
    transport.close()
    assert tls_sink.handler.count() == 1


def test_failed_login_names_host_and_port_and_not_the_password(settings, tls_sink, certificate):
    secured = tls_sink.settings(
        settings, smtp_security="starttls", smtp_username="sender", smtp_password="wrong secret"
    )
    transport = SmtpTransport(secured, ssl_context=client_context(certificate))
    with pytest.raises(SendError, match=rf"login to 127\.0\.0\.1:{tls_sink.port} as sender") as e:
        transport.connect()
    assert "wrong secret" not in str(e.value)


def test_starttls_required_but_not_offered_is_a_clear_error(send_settings):
    plain_server = send_settings  # the plain sink offers no STARTTLS
    from mailer.config import load_settings

    wants_tls = load_settings(
        {
            "smtp_host": plain_server.smtp_host,
            "smtp_port": plain_server.smtp_port,
            "smtp_security": "starttls",
        },
        env_file=None,
        environ={},
    )
    with pytest.raises(SendError, match="does not offer STARTTLS"):
        SmtpTransport(wants_tls).connect()


def test_untrusted_certificate_is_refused(settings, tls_sink):
    secured = tls_sink.settings(settings, smtp_security="starttls")
    with pytest.raises(SendError, match=rf"127\.0\.0\.1:{tls_sink.port}"):
        SmtpTransport(secured).connect()  # default context: the self-signed cert is not trusted


def test_faulty_handler_counts_copies_per_recipient():
    handler = FaultyHandler()
    assert handler.copies() == {} and handler.count() == 0


@pytest.mark.parametrize(
    ("reply", "hard"),
    [
        ("550 5.1.1 No such user", True),
        ("550 5.2.1 Mailbox disabled", True),
        ("553 Invalid address", True),
        ("550 5.7.1 Rejected by policy", False),
        ("554 Transaction failed", False),
    ],
)
def test_only_address_problems_count_as_hard_bounces(send_settings, mail_sink, reply, hard):
    mail_sink.handler.refuse["x@example.org"] = reply
    transport = SmtpTransport(send_settings)
    with pytest.raises(PermanentFailure) as caught:
        transport.send("a@example.se", "x@example.org", MESSAGE)
    transport.close()
    assert caught.value.hard_bounce is hard


def test_implicit_tls_delivers(settings, certificate):
    cert_path, key_path = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    controller, sink = start_sink(ssl_context=server_context)
    try:
        secured = sink.settings(settings, smtp_security="ssl")
        transport = SmtpTransport(secured, ssl_context=client_context(certificate))
        assert transport.send("a@example.se", "b@example.org", MESSAGE).startswith("250")
        transport.close()
    finally:
        controller.stop()
    assert sink.handler.count() == 1
