"""`bounces fetch` signing in to a real Dovecot with XOAUTH2: Dovecot's oauth2 passdb checks
every token with the stand-in identity provider (tests/fixtures_oauth.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.delivery.bounces.run import fetch_bounces
from mailer.errors import BounceError
from tests.fixtures_oauth import microsoft_settings


@pytest.mark.slow  # Dovecot makes each sign-in after a refused one wait about 4 s
def test_fetch_signs_in_with_a_microsoft_app_token(db, mailed, dovecot_xoauth2, identity_provider):
    dovecot_xoauth2.append(mailed.report("dsn-hard.eml", mailed.addresses[0]))
    app = microsoft_settings(identity_provider)
    app.pop("smtp_auth"), app.pop("smtp_username")
    settings = dovecot_xoauth2.settings(
        mailed.settings,
        bounce_imap_auth="oauth2-microsoft",
        bounce_imap_password="",
        **app,
    )
    summary = fetch_bounces(settings)
    assert (summary.read, summary.hard) == (1, 1)
    assert identity_provider.count("microsoft") == 1

    identity_provider.revoke_all()  # the cached token is refused: one fresh token, then on
    dovecot_xoauth2.append(mailed.report("qmail.eml", mailed.addresses[1]))
    assert fetch_bounces(settings).hard == 1
    assert identity_provider.count("microsoft") == 2

    identity_provider.app_mailbox = "someone-else"  # no permission on the mailbox
    identity_provider.revoke_all()
    with pytest.raises(BounceError) as caught:
        fetch_bounces(settings)
    message = str(caught.value)
    assert "IMAP sign-in (XOAUTH2)" in message and "Add-MailboxPermission" in message
    assert "\n" not in message and "tok-" not in message


def test_the_cli_fetches_with_the_imap_token_command(
    db, mailed, dovecot_xoauth2, identity_provider
):
    dovecot_xoauth2.append(mailed.report("dsn-hard.eml", mailed.addresses[2]))
    token = identity_provider.issue(f"user:{dovecot_xoauth2.user}")["access_token"]
    env = {
        "NEWSLETTER_SECRET_KEY": mailed.settings.secret_key,
        "NEWSLETTER_BOUNCE_ADDRESS": mailed.settings.bounce_address,
        "BOUNCE_IMAP_HOST": dovecot_xoauth2.host,
        "BOUNCE_IMAP_PORT": str(dovecot_xoauth2.port),
        "BOUNCE_IMAP_USERNAME": dovecot_xoauth2.user,
        "BOUNCE_IMAP_SECURITY": "none",
        "BOUNCE_IMAP_AUTH": "oauth2-command",
        "BOUNCE_IMAP_OAUTH2_TOKEN_COMMAND": f"printf '%s\\n' {token}",
    }
    args = ["--db", str(mailed.settings.db_path), "bounces", "fetch"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "1 messages read: recorded 1 hard bounces" in result.output
