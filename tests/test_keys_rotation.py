"""Key rotation: old signatures keep verifying, the suppression list survives any key change."""

from __future__ import annotations

import dataclasses
import re
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from mailer.audience import consent, keys, tokens
from mailer.audience.importer import import_csv
from mailer.audience.roster import add_subscriber
from mailer.audience.subscribers import get_subscriber
from mailer.delivery.bounces import verp
from tests.conftest import SECRET_KEY
from tests.fixtures_subscribers import write_csv
from tests.fixtures_web import LiveServer

NEW_KEY = "a-brand-new-key-0123456789abcdefgh"
ERASED = "erased.person@example.se"


def rekeyed(settings, previous: str = ""):
    return dataclasses.replace(settings, secret_key=NEW_KEY, secret_key_previous=previous)


def run(settings, *args, previous: str = ""):
    from cli import cli

    env = {"NEWSLETTER_SECRET_KEY": NEW_KEY, "NEWSLETTER_SECRET_KEY_PREVIOUS": previous}
    return CliRunner().invoke(cli, ["--db", str(settings.db_path), *args], env=env)


@pytest.fixture
def erased(db, settings):
    add_subscriber(db, settings, ERASED)
    consent.erase_subscriber(db, settings, ERASED)
    return ERASED


def test_new_key_without_the_old_one_refuses_add_and_import_and_writes_nothing(
    db, settings, erased, tmp_path
):
    csv = write_csv(tmp_path / "people.csv", [[ERASED, "E", "sv"], ["new@example.se", "N", ""]])
    for args in (["subscribers", "import", str(csv)], ["subscribers", "add", ERASED]):
        result = run(settings, *args)
        assert result.exit_code != 0, result.output
        assert "NEWSLETTER_SECRET_KEY_PREVIOUS" in result.output
        assert "Traceback" not in result.output
    assert db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
    with pytest.raises(keys.SecretKeyMissing, match=keys.fingerprint(SECRET_KEY)):
        import_csv(db, rekeyed(settings), csv)


def test_new_key_with_the_old_one_declared_keeps_the_person_erased(db, settings, erased, tmp_path):
    csv = write_csv(tmp_path / "people.csv", [[ERASED, "E", "sv"], ["new@example.se", "N", ""]])
    result = run(settings, "subscribers", "import", str(csv), previous=SECRET_KEY)
    assert result.exit_code == 0, result.output
    assert get_subscriber(db, ERASED) is None
    assert get_subscriber(db, "new@example.se") is not None
    assert "1 erased" in result.output
    # erasures under the new key are checked too; both keys are listed with their rows
    both = rekeyed(settings, SECRET_KEY)
    add_subscriber(db, both, "second@example.se")
    consent.erase_subscriber(db, both, "second@example.se")
    assert consent.is_suppressed(db, both, "second@example.se")
    status = run(settings, "keys", "status", previous=SECRET_KEY)
    assert status.exit_code == 0
    assert f"{keys.fingerprint(NEW_KEY)}  current   1 suppressions" in status.output
    assert f"{keys.fingerprint(SECRET_KEY)}  previous  1 suppressions" in status.output
    missing = run(settings, "keys", "status")
    assert missing.exit_code != 0 and "MISSING" in missing.output


def test_rows_from_before_fingerprints_are_adopted_under_the_current_key(db, settings):
    db.execute(
        "INSERT INTO suppressions (address_hmac, reason, created) VALUES (?, 'erased', 'x')",
        [consent.address_hmac(settings, ERASED)],
    )
    assert consent.is_suppressed(db, settings, ERASED)
    with pytest.raises(keys.SecretKeyMissing):
        consent.is_suppressed(db, rekeyed(settings), ERASED)


def app_for(settings):
    from mailer.web import create_app

    return create_app(settings, test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False})


def csrf_field(app, client) -> str:
    """The form field a page of `app` would carry for this client's cookie."""
    from mailer.web.csrf import _sign

    client.get("/subscribe")
    with app.test_request_context():
        return _sign(client.get_cookie("newsletter_csrf").value)


def test_web_sign_up_answers_503_while_an_old_key_is_missing(
    db, settings, erased, web_settings, caplog
):
    for previous, expected in (("", 503), (SECRET_KEY, 200)):
        caplog.clear()
        app = app_for(rekeyed(web_settings, previous))
        warned = "sign-up will answer 503" in caplog.text
        assert warned == (expected == 503)  # said at start, not only at the first sign-up
        client = app.test_client()
        field = csrf_field(app, client)
        response = client.post(
            "/subscribe", data={"email": ERASED, "lists": "nyhetsbrev", "csrf_token": field}
        )
        assert response.status_code == expected, response.get_data(as_text=True)[:300]
        if expected == 503:
            assert int(response.headers["Retry-After"]) > 0


def test_confirming_answers_503_and_activates_nobody_while_an_old_key_is_missing(
    db, settings, erased, signup, web_settings, caplog
):
    token = signup("someone@example.se")
    response = app_for(rekeyed(web_settings)).test_client().post(f"/confirm/{token}")
    assert response.status_code == 503
    assert get_subscriber(db, "someone@example.se")["subscriptions"] == {"newsletter": "pending"}
    assert "NEWSLETTER_SECRET_KEY_PREVIOUS" in caplog.text and "Traceback" not in caplog.text
    again = app_for(rekeyed(web_settings, SECRET_KEY)).test_client().post(f"/confirm/{token}")
    assert again.status_code == 200
    assert get_subscriber(db, "someone@example.se")["subscriptions"] == {"newsletter": "active"}


def test_a_form_opened_before_the_rotation_still_posts(db, lists, web_settings):
    old_app = app_for(web_settings)
    client = old_app.test_client()
    field = csrf_field(old_app, client)  # the page was rendered under the old key
    form = {"email": "new@example.se", "lists": "nyhetsbrev", "csrf_token": field}
    for previous, expected in (("", 400), (SECRET_KEY, 200)):
        app = app_for(rekeyed(web_settings, previous))
        fresh = app.test_client()
        fresh.set_cookie("newsletter_csrf", client.get_cookie("newsletter_csrf").value)
        assert fresh.post("/subscribe", data=form).status_code == expected


def test_unsubscribe_link_of_an_issue_sent_under_the_old_key_works_while_it_is_declared(
    db, send_settings, mail_sink, built_example, live_port
):
    from mailer.delivery.send import run_send
    from mailer.web import create_app

    add_subscriber(db, send_settings, "anna@example.se")
    assert run_send(send_settings, built_example).sent == 1  # sent under the old key
    message = mail_sink.handler.received[0].parsed()
    header = message["List-Unsubscribe"]
    link = re.search(r"<(https://[^>]+)>", header).group(1)
    path = link.removeprefix(send_settings.base_url)
    assert path.startswith("/unsubscribe/")
    for previous, expected in (("", 404), (SECRET_KEY, 200)):
        app = create_app(
            rekeyed(send_settings, previous), test_config={"MAIL_IN_BACKGROUND": False}
        )
        with LiveServer(app, live_port) as server:
            request = urllib.request.Request(  # RFC 8058 one-click, as a mail provider sends it
                server.url + path, data=b"List-Unsubscribe=One-Click", method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
        assert status == expected
    assert get_subscriber(db, "anna@example.se")["subscriptions"]["nyhetsbrev"] == "unsubscribed"
    # new links are signed with the new key only
    person = get_subscriber(db, "anna@example.se")
    new_link = tokens.signed_token(NEW_KEY, "unsubscribe", person["id"], None, person["created"])
    assert tokens.lookup_token(db, "unsubscribe", new_link, (NEW_KEY, SECRET_KEY)) is not None
    assert tokens.lookup_token(db, "unsubscribe", new_link, SECRET_KEY) is None


def test_verp_tokens_of_old_messages_verify_with_the_previous_key():
    token = verp.make_token(SECRET_KEY, 42)
    assert verp.verify_token(NEW_KEY, token) is None
    assert verp.verify_token(NEW_KEY, token, previous=[SECRET_KEY]) == 42
    assert verp.verify_token(NEW_KEY, verp.make_token(NEW_KEY, 7), previous=[SECRET_KEY]) == 7


def test_keys_rotate_prints_the_env_lines_and_what_to_keep(settings):
    result = run(settings, "keys", "rotate", previous="an-even-older-key-0123456789")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    new = next(line for line in lines if line.startswith("NEWSLETTER_SECRET_KEY="))
    assert len(new.partition("=")[2]) >= 32 and NEW_KEY not in new
    assert f"NEWSLETTER_SECRET_KEY_PREVIOUS={NEW_KEY},an-even-older-key-0123456789" in lines
    assert "suppression list" in result.output and "a year" in result.output


def test_short_previous_keys_are_refused():
    from mailer.config import load_settings
    from mailer.errors import ConfigError

    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET_KEY_PREVIOUS"):
        load_settings(
            env_file=None,
            environ={"NEWSLETTER_SECRET_KEY": NEW_KEY, "NEWSLETTER_SECRET_KEY_PREVIOUS": "short"},
        )
