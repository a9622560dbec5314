"""The consent text stored with a web sign-up is the one the form showed (GDPR Art. 7(1)):
the form's language and every list it offered, byte for byte; and a database from a newer
version of the tool stops the app (and `newsletter serve`) at start, not at every request."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import subprocess
import sys

import pytest

from mailer.audience.subscribers import ensure_list, get_subscriber
from mailer.errors import DatabaseError
from mailer.store.db import utc_now
from tests.fixtures_web import PROJECT_ROOT, consent_events, free_port
from tests.test_web_subscribe import csrf_from, page_lang_from


def displayed_consent(page: str) -> str:
    """The consent paragraph as a reader sees it (HTML entities decoded)."""
    shown = re.search(r'<p class="consent" id="consent">(.*?)</p>', page, re.DOTALL).group(1)
    return html.unescape(shown)


def stored_texts(db, email: str) -> list[str]:
    """The consent texts recorded with `email`'s web sign-ups, oldest first."""
    subscriber = get_subscriber(db, email)
    query = "SELECT body FROM consent_texts WHERE id = ?"
    return [
        db.execute(query, [event["consent_text_id"]]).fetchone()[0]
        for event in consent_events(db, subscriber["id"])
        if event["action"] == "subscribe"
    ]


def test_consent_stored_is_the_english_text_shown_for_every_offered_list(
    client, db, lists, run_cli
):
    """Opened with ?lang=en, posted (to an action without ?lang) from a Swedish browser with
    one list ticked: the record holds the English text naming both lists, the answer is
    English, and the subscription covers only the ticked list."""
    swedish = {"Accept-Language": "sv-SE,sv;q=0.9"}
    page = client.get("/subscribe?lang=en", headers=swedish).get_data(as_text=True)
    shown = displayed_consent(page)
    assert "By subscribing" in shown and "Nyhetsbrevet" in shown and "Kalendariet" in shown
    response = client.post(
        "/subscribe",
        data={
            "email": "new@example.se",
            "name": "Nils",
            "language": "sv",
            "lists": ["kalender"],
            "csrf_token": csrf_from(page),
            "page_lang": page_lang_from(page),
        },
        headers=swedish,
    )
    assert response.status_code == 200
    answer = response.get_data(as_text=True)
    assert '<html lang="en">' in answer and "Check your inbox" in answer
    assert get_subscriber(db, "new@example.se")["subscriptions"] == {"kalender": "pending"}
    assert stored_texts(db, "new@example.se") == [shown]
    result = run_cli("subscribers", "show", "new@example.se", "--json")
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)["consent_history"]
    assert [e["text_shown"]["text"] for e in history if e["action"] == "subscribe"] == [shown]


def test_consent_stored_is_byte_identical_to_the_page_with_markup_characters(client, db, lists):
    """A list title with characters HTML escapes is stored as read, not as `&amp;`."""
    ensure_list(db, "kultur", 'Kultur & "Nöje" <Örebro>')
    page = client.get("/subscribe?lang=da").get_data(as_text=True)
    assert "&amp;" in page
    shown = displayed_consent(page)
    assert 'Kultur & "Nöje" <Örebro>' in shown
    response = client.post(
        "/subscribe",
        data={
            "email": "new@example.se",
            "lists": ["kultur", "nyhetsbrev"],
            "csrf_token": csrf_from(page),
            "page_lang": page_lang_from(page),
        },
    )
    assert response.status_code == 200 and '<html lang="da">' in response.get_data(as_text=True)
    texts = stored_texts(db, "new@example.se")
    assert len(texts) == 2 and set(texts) == {shown}


def test_consent_on_a_one_list_page_is_that_lists_text_in_the_form_language(client, db, lists):
    page = client.get("/subscribe/kalender?lang=da").get_data(as_text=True)
    assert page_lang_from(page) == "da"
    shown = displayed_consent(page)
    assert "Kalendariet" in shown and "Nyhetsbrevet" not in shown
    client.post(
        "/subscribe/kalender",
        data={
            "email": "new@example.se",
            "lists": "kalender",
            "csrf_token": csrf_from(page),
            "page_lang": "da",
        },
        headers={"Accept-Language": "en"},
    )
    assert stored_texts(db, "new@example.se") == [shown]


@pytest.mark.parametrize("value", ["fr", "", "../en", "EN", "en\n"])
def test_an_unknown_page_language_falls_back_to_the_browser_language(client, db, lists, value):
    page = client.get("/subscribe", headers={"Accept-Language": "en"}).get_data(as_text=True)
    response = client.post(
        "/subscribe",
        data={
            "email": "new@example.se",
            "lists": ["nyhetsbrev"],
            "csrf_token": csrf_from(page),
            "page_lang": value,
        },
        headers={"Accept-Language": "en"},
    )
    assert '<html lang="en">' in response.get_data(as_text=True)
    assert stored_texts(db, "new@example.se") == [displayed_consent(page)]


def test_a_form_with_errors_is_shown_again_in_the_form_language(client, db, lists):
    page = client.get("/subscribe?lang=en").get_data(as_text=True)
    response = client.post(
        "/subscribe",
        data={
            "email": "not an address",
            "lists": ["nyhetsbrev"],
            "csrf_token": csrf_from(page),
            "page_lang": "en",
        },
        headers={"Accept-Language": "sv"},
    )
    assert response.status_code == 400
    again = response.get_data(as_text=True)
    assert '<html lang="en">' in again and page_lang_from(again) == "en"
    assert displayed_consent(again) == displayed_consent(page)
    assert db["consent_log"].count == 0


def from_a_newer_version(db) -> None:
    """What a newer newsletter leaves behind: a migration this version does not know."""
    db["_sqlite_migrations"].insert(
        {"migration_set": "newsletter-subscribers", "name": "m999_future", "applied_at": utc_now()}
    )


def test_app_refuses_to_start_on_a_database_from_a_newer_version(web_settings, newsletters_dir, db):
    from mailer.web import create_app

    from_a_newer_version(db)
    with pytest.raises(DatabaseError, match="newer version") as error:
        create_app(web_settings, test_config={"TESTING": True}, newsletters_dir=newsletters_dir)
    assert str(web_settings.db_path) in str(error.value)


def test_preview_does_not_create_a_database_to_check_its_version(settings, tmp_path):
    from mailer.web import create_app

    missing = tmp_path / "none" / "subscribers.db"
    issue = tmp_path / "newsletters" / "2026-1"
    issue.mkdir(parents=True)
    local = dataclasses.replace(settings, db_path=missing)
    create_app(local, preview_issue=issue)
    assert not missing.parent.exists()


def test_newsletter_serve_exits_with_the_database_error(settings, db, tmp_path):
    """The real command in a real process: `Error: ...` and exit 1 instead of serving 500s."""
    from mailer.config import ENV_NAMES

    from_a_newer_version(db)
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NEWSLETTER_DB=str(settings.db_path),
        NEWSLETTER_SECRET_KEY="serve-test-secret-0123456789",
        NEWSLETTER_BASE_URL="https://news.example.se",
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        SMTP_HOST="127.0.0.1",
        SMTP_SECURITY="none",
    )
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--port", str(free_port())],
        cwd=tmp_path / "work",  # the test's project folder, with its .env
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a server that starts anyway fails the test here instead of hanging
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "newer version" in result.stderr
    assert str(settings.db_path) in result.stderr
    assert "Serving" not in result.stdout
