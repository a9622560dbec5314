"""OAuth 2.0 sign-in (XOAUTH2) for sends, test copies and service mail: a real SMTP server over
STARTTLS checks every token with the stand-in identity provider that MSAL and google-auth
really talk to (tests/fixtures_oauth.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.delivery import oauth2
from mailer.delivery.send import run_send, send_test
from mailer.errors import SendError
from tests.fixtures_bounces import with_settings
from tests.fixtures_oauth import (
    MAILBOX,
    app_certificate_file,
    authorized_user_file,
    microsoft_settings,
    service_account_file,
)
from tests.fixtures_send import add_subscribers

LIST = "nyhetsbrev"


def sink_settings(sink, base, **values):
    return sink.settings(base, smtp_security="starttls", **values)


def test_a_send_signs_in_with_a_microsoft_app_token_shared_by_its_connections(
    db, settings, xoauth2_sink, identity_provider, built_example
):
    smtp = sink_settings(xoauth2_sink, settings, **microsoft_settings(identity_provider))
    addresses = add_subscribers(db, smtp, 4, LIST)
    summary = run_send(smtp, built_example, connections=2)
    assert summary.sent == 4, summary.line()
    assert sorted(xoauth2_sink.handler.copies()) == addresses
    assert xoauth2_sink.handler.logins == [MAILBOX, MAILBOX]  # two connections, one token
    assert identity_provider.count("microsoft") == 1


def test_a_token_that_expires_mid_send_is_replaced_and_the_send_goes_on(
    db, settings, xoauth2_sink, identity_provider, built_example
):
    smtp = sink_settings(xoauth2_sink, settings, **microsoft_settings(identity_provider))
    addresses = add_subscribers(db, smtp, 5, LIST)
    xoauth2_sink.handler.drop_after = 2  # then the token is revoked and the connection drops
    summary = run_send(smtp, built_example, retry_delays=(0.0,))
    assert summary.sent == 5, summary.line()
    assert xoauth2_sink.handler.copies() == {address: 1 for address in addresses}
    # the reconnect tried the cached token once (535), then a fresh one
    assert xoauth2_sink.handler.refusals == 1
    assert len(xoauth2_sink.handler.logins) == 2
    assert identity_provider.count("microsoft") == 2


def test_an_app_certificate_signs_in_instead_of_a_secret(
    settings, xoauth2_sink, identity_provider, built_example, tmp_path
):
    values = microsoft_settings(identity_provider)
    del values["smtp_oauth2_client_secret"]
    pem = app_certificate_file(identity_provider, tmp_path)
    smtp = sink_settings(xoauth2_sink, settings, smtp_oauth2_certificate=str(pem), **values)
    assert send_test(smtp, built_example, "editor@example.org").startswith("250")
    assert xoauth2_sink.handler.logins == [MAILBOX]

    identity_provider.app_certificate = None  # another certificate uploaded to the app
    oauth2._SOURCES.clear()
    with pytest.raises(SendError, match=r"AADSTS700027.*certificate"):
        send_test(smtp, built_example, "editor@example.org")


def test_a_token_near_its_expiry_is_renewed_before_it_is_used(
    settings, xoauth2_sink, identity_provider, tmp_path
):
    identity_provider.lifetime = 120  # google-auth renews tokens in their last minutes
    credentials = authorized_user_file(identity_provider, tmp_path)
    smtp = sink_settings(
        xoauth2_sink,
        settings,
        smtp_auth="oauth2-google",
        smtp_username=MAILBOX,
        smtp_oauth2_credentials_file=str(credentials),
    )
    source = oauth2.token_source(smtp, "SMTP")
    first, second = source.token(), source.token()
    assert first != second and identity_provider.valid(second)
    assert xoauth2_sink.handler.refusals == 0 and identity_provider.count("google") == 2


def test_send_to_signs_in_as_the_mailbox_through_a_google_service_account(
    settings, xoauth2_sink, identity_provider, built_example, tmp_path
):
    key_file = service_account_file(identity_provider, tmp_path)
    env = {
        "NEWSLETTER_SECRET_KEY": settings.secret_key,
        "NEWSLETTER_FROM": settings.from_address,
        "NEWSLETTER_BASE_URL": settings.base_url,
        "SMTP_HOST": xoauth2_sink.host,
        "SMTP_PORT": str(xoauth2_sink.port),
        "SMTP_SECURITY": "starttls",
        "SMTP_USERNAME": MAILBOX,
        "SMTP_AUTH": "oauth2-google",
        "SMTP_OAUTH2_CREDENTIALS_FILE": str(key_file),
    }
    args = ["--db", str(settings.db_path), "send", str(built_example), "--to", "editor@example.org"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert [r.rcpt for r in xoauth2_sink.handler.received] == ["editor@example.org"]
    assert xoauth2_sink.handler.logins == [MAILBOX]
    (claims,) = identity_provider.jwt_claims
    assert claims["sub"] == MAILBOX and claims["scope"] == oauth2.GOOGLE_SCOPE


def test_service_mail_signs_in_with_the_token_command(
    db, settings, xoauth2_sink, identity_provider, tmp_path
):
    from mailer.delivery import service_mail
    from mailer.delivery.service_worker import ServiceMailWorker

    token = identity_provider.issue(f"app:{MAILBOX}")["access_token"]
    script = tmp_path / "token.sh"
    script.write_text(f"#!/bin/sh\necho run >> {tmp_path / 'runs'}\necho {token}\n")
    script.chmod(0o755)
    smtp = sink_settings(
        xoauth2_sink,
        settings,
        smtp_auth="oauth2-command",
        smtp_username=MAILBOX,
        smtp_oauth2_token_command=str(script),
    )
    raw = (
        f"From: {MAILBOX}\r\nTo: person@example.org\r\nSubject: Bekräfta\r\n"
        "Message-ID: <c1@example.se>\r\n\r\nHej\r\n"
    ).encode()
    service_mail.queue_mail(db, "confirmation", "person@example.org", raw, subscriber_id=None)
    worker = ServiceMailWorker(smtp)
    assert worker.run_due() == 1
    assert [r.rcpt for r in xoauth2_sink.handler.received] == ["person@example.org"]
    assert xoauth2_sink.handler.logins == [MAILBOX]
    assert (tmp_path / "runs").read_text().count("run") == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"smtp_oauth2_tenant": "wrong.example"},
            r"AADSTS90002 \(invalid_tenant\).*SMTP_OAUTH2_TENANT",
        ),
        ({"smtp_oauth2_client_secret": "not-it"}, r"AADSTS7000215 \(invalid_client\).*Value"),
        ({"smtp_oauth2_client_id": "0000"}, r"AADSTS700016.*SMTP_OAUTH2_CLIENT_ID"),
        ({"consent": False}, r"AADSTS65001 \(invalid_grant\).*Grant admin consent"),
        ({"delegation": False}, r"unauthorized_client.*Domain-wide delegation.*mail.google.com"),
        ({"mailboxes": ()}, r"535 5\.7\.3.*New-ServicePrincipal.*Add-MailboxPermission"),
        (
            {"smtp_oauth2_token_command": "echo no >&2; exit 3"},
            r"SMTP_OAUTH2_TOKEN_COMMAND exited with status 3: no",
        ),
    ],
)
def test_a_refused_sign_in_is_one_line_naming_the_code_and_what_to_fix(
    settings, xoauth2_sink, identity_provider, built_example, tmp_path, change, expected
):
    values = microsoft_settings(identity_provider)
    if "delegation" in change:
        values = {
            "smtp_auth": "oauth2-google",
            "smtp_username": MAILBOX,
            "smtp_oauth2_credentials_file": str(service_account_file(identity_provider, tmp_path)),
        }
    if "smtp_oauth2_token_command" in change:
        values["smtp_auth"] = "oauth2-command"
    for name in ("consent", "delegation"):
        if name in change:
            setattr(identity_provider, name, change.pop(name))
    if "mailboxes" in change:
        xoauth2_sink.handler.mailboxes = change.pop("mailboxes")
    smtp = sink_settings(xoauth2_sink, settings, **{**values, **change})
    with pytest.raises(SendError, match=expected) as caught:
        send_test(smtp, built_example, "editor@example.org")
    message = str(caught.value)
    assert "\n" not in message and "tok-" not in message and "stand-in-client" not in message
    assert xoauth2_sink.handler.received == []


def test_the_cli_says_a_wrong_tenant_in_one_line_without_a_traceback(
    settings, xoauth2_sink, identity_provider, built_example
):
    env = {
        "NEWSLETTER_SECRET_KEY": settings.secret_key,
        "NEWSLETTER_FROM": settings.from_address,
        "SMTP_HOST": xoauth2_sink.host,
        "SMTP_PORT": str(xoauth2_sink.port),
        "SMTP_USERNAME": MAILBOX,
        "SMTP_AUTH": "oauth2-microsoft",
        "SMTP_OAUTH2_TENANT": "wrong.example",
        "SMTP_OAUTH2_CLIENT_ID": "x",
        "SMTP_OAUTH2_CLIENT_SECRET": "y",
        "SMTP_OAUTH2_AUTHORITY": identity_provider.url,
    }
    args = ["--db", str(settings.db_path), "send", str(built_example), "--to", "editor@example.org"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert "AADSTS90002" in line and "SMTP_OAUTH2_TENANT" in line


def test_config_masks_the_client_secret_and_the_token_commands(settings):
    configured = with_settings(
        settings,
        smtp_auth="oauth2-command",
        smtp_oauth2_client_secret="very-secret-value",
        smtp_oauth2_token_command="echo eyJ0eXAi",
        bounce_imap_oauth2_token_command="echo eyJ0eXAi",
    )
    from mailer.config import describe_settings

    shown = {name: value for name, value, _source in describe_settings(configured)}
    assert shown["SMTP_AUTH"] == "oauth2-command"
    for name in (
        "SMTP_OAUTH2_CLIENT_SECRET",
        "SMTP_OAUTH2_TOKEN_COMMAND",
        "BOUNCE_IMAP_OAUTH2_TOKEN_COMMAND",
    ):
        assert shown[name].startswith("********")
    assert "very-secret" not in repr(configured) and "eyJ0" not in repr(configured)


def test_an_unknown_auth_mode_is_refused_at_load(settings):
    from mailer.errors import ConfigError

    with pytest.raises(ConfigError, match=r"SMTP_AUTH='oauth'.*oauth2-microsoft"):
        with_settings(settings, smtp_auth="oauth")


def test_an_identity_provider_that_does_not_answer_is_one_line(settings, monkeypatch):
    from mailer.errors import SignInError
    from tests.fixtures_send import free_port

    monkeypatch.setattr(oauth2, "_SOURCES", {})
    values = microsoft_settings(None) | {
        "smtp_oauth2_authority": f"https://127.0.0.1:{free_port()}"
    }
    source = oauth2.token_source(with_settings(settings, **values), "SMTP")
    with pytest.raises(
        SignInError, match=r"failed: cannot reach https://127\.0\.0\.1:\d+/"
    ) as caught:
        source.token()
    assert "\n" not in str(caught.value) and "stand-in-client" not in str(caught.value)


def test_oauth_without_a_mailbox_user_says_which_setting(settings, xoauth2_sink, built_example):
    smtp = sink_settings(xoauth2_sink, settings, smtp_auth="oauth2-command")
    with pytest.raises(SendError, match="SMTP_USERNAME not set: XOAUTH2 signs in as"):
        send_test(smtp, built_example, "editor@example.org")
