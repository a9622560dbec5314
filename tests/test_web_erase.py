"""'Erase me': the newsletter's long-lived preferences link only mails a short-lived erasure link
to the subscriber; that link's page asks "Erase all your data?"; its Yes button erases, once.

Real parts: the Flask test client, a real SQLite file, mail read back from the SMTP sink, and a
real SQLite trigger where an erasure has to fail."""

from __future__ import annotations

import datetime as dt

import pytest

from mailer.audience.subscribers import get_subscriber
from tests.fixtures_web import consent_events, make_person
from tests.test_web_export import ask_for_link, export_tokens, mailed_token, shift
from tests.test_web_subscribe import csrf_from


def ask_for_erase_link(client, token: str):
    """Open the erase page of a newsletter's link and press "E-mail me a link ..."."""
    return ask_for_link(client, token, "erase")


def erase_tokens(db, subscriber_id: int) -> list[dict]:
    return export_tokens(db, subscriber_id, "erase")


def erase_link(smtp_sink, count: int = 1) -> str:
    """The token in the `count`th mail, which must be an erasure link's mail."""
    return mailed_token(smtp_sink.wait_for(count)[count - 1], "erase")


def press_yes(client, token: str):
    """Open the mailed link's confirmation page and press "Yes, erase me"."""
    page = client.get(f"/preferences/{token}/erase")
    assert page.status_code == 200
    return client.post(
        f"/preferences/{token}/erase", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )


def erasures(db) -> int:
    return db.execute("SELECT count(*) FROM consent_log WHERE action = 'erase'").fetchone()[0]


def production_app(web_settings, newsletters_dir):
    """Not TESTING: as in production, errors become pages."""
    from mailer.web import create_app

    return create_app(
        web_settings, test_config={"MAIL_IN_BACKGROUND": False}, newsletters_dir=newsletters_dir
    )


def test_the_newsletter_links_erase_page_explains_and_offers_only_the_mail(
    client, db, person, smtp_sink
):
    before = consent_events(db, person.id)
    for _ in range(2):  # a mail scanner, then the person
        response = client.get(f"/preferences/{person.preferences}/erase")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert '<button type="submit">Mejla mig en länk för att radera mina uppgifter</button>' in (
            page
        )
        assert "Ingenting raderas förrän du har öppnat länken" in page
        assert f'action="https://news.example.se/preferences/{person.preferences}/erase"' in page
        assert "a•••@example.se" in page and "anna@example.se" not in page
        assert "Ja, radera mig" not in page and 'class="danger"' not in page
    assert get_subscriber(db, person.email) is not None
    assert consent_events(db, person.id) == before
    assert smtp_sink.wait_for(1, timeout=0.5) == [] and erase_tokens(db, person.id) == []


def test_its_button_mails_an_erasure_link_and_erases_nothing(client, db, person, smtp_sink):
    response = ask_for_erase_link(client, person.preferences)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Titta i din inkorg</h1>" in page
    assert "en länk för att radera dina uppgifter till a•••@example.se" in page
    assert "60 minuter" in page and "anna@example.se" not in page
    assert f'href="https://news.example.se/preferences/{person.preferences}"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0

    (message,) = smtp_sink.wait_for(1)
    assert [a.addr_spec for a in message["To"].addresses] == ["anna@example.se"]
    assert message["Subject"] == "Radera dina uppgifter"
    assert message["Content-Language"] == "sv" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert "anna@example.se ska raderas" in body and "”Ja, radera mig”" in body
    assert "gäller i 60 minuter" in body
    assert "Gör du ingenting händer ingenting" in body
    token = mailed_token(message, "erase")
    assert token != person.preferences

    (row,) = erase_tokens(db, person.id)
    assert (row["purpose"], row["used_at"]) == ("preferences", None)
    expires = dt.datetime.strptime(row["expires"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    left = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=59) < left <= dt.timedelta(minutes=60)
    assert export_tokens(db, person.id) == []  # an erase token, not a download token


def test_one_erasure_mail_per_ten_minutes_apart_from_the_download_mail(
    client, db, person, smtp_sink
):
    first = ask_for_erase_link(client, person.preferences)
    second = ask_for_erase_link(client, person.preferences)
    assert second.get_data(as_text=True) == first.get_data(as_text=True)
    assert len(smtp_sink.wait_for(2, timeout=1)) == 1 and len(erase_tokens(db, person.id)) == 1

    ask_for_link(client, person.preferences)  # "E-mail me my data" has its own limit
    messages = smtp_sink.wait_for(2)
    assert len(messages) == 2 and messages[1]["Subject"] == "Ladda ner dina uppgifter"
    ask_for_erase_link(client, person.preferences)
    ask_for_link(client, person.preferences)
    assert len(smtp_sink.wait_for(3, timeout=1)) == 2

    (row,) = erase_tokens(db, person.id)
    shift(db, "created", row["id"], -9 * 60)  # still inside the window
    ask_for_erase_link(client, person.preferences)
    assert len(smtp_sink.wait_for(3, timeout=1)) == 2
    shift(db, "created", row["id"], -11 * 60)  # the window has passed: a new mail
    ask_for_erase_link(client, person.preferences)
    messages = smtp_sink.wait_for(3)
    assert len(messages) == 3 and len(erase_tokens(db, person.id)) == 2
    assert erase_link(smtp_sink, 1) != erase_link(smtp_sink, 3)


@pytest.mark.parametrize(
    ("language", "subject", "words", "title"),
    [
        ("sv", "Radera dina uppgifter", "Gör du ingenting händer ingenting", "Radera alla"),
        ("da", "Slet dine oplysninger", "Gør du ingenting, sker der ingenting", "Slet alle"),
        ("en", "Erase your data", "If you ignore this message, nothing happens", "Erase all"),
    ],
)
def test_the_mail_and_the_pages_are_in_the_subscribers_language(
    client, db, settings, lists, smtp_sink, language, subject, words, title
):
    someone = make_person(db, settings, "kim@example.dk", name="Kim", language=language)
    sent = ask_for_erase_link(client, someone.preferences)
    assert f'<html lang="{language}">' in sent.get_data(as_text=True)
    (message,) = smtp_sink.wait_for(1)
    assert message["Subject"] == subject and message["Content-Language"] == language
    assert words in message.get_content() and "60" in message.get_content()
    page = client.get(f"/preferences/{mailed_token(message, 'erase')}/erase")
    html = page.get_data(as_text=True)
    assert f'<html lang="{language}">' in html and f"<h1>{title}" in html


def test_the_mailed_link_asks_and_changes_nothing(client, db, person, smtp_sink):
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    tokens_before = db.execute("SELECT * FROM tokens ORDER BY id").fetchall()
    events_before = consent_events(db, person.id)
    for _ in range(2):  # a mail scanner, then the person
        response = client.get(f"/preferences/{token}/erase")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "<h1>Radera alla dina uppgifter?</h1>" in page
        assert "Det tar bort anna@example.se" in page
        assert f'action="https://news.example.se/preferences/{token}/erase"' in page
        assert '<button type="submit" class="danger">Ja, radera mig</button>' in page
        assert 'name="csrf_token"' in page
        assert person.preferences not in page  # Cancel leads home, not to the long-lived link
    assert db.execute("SELECT * FROM tokens ORDER BY id").fetchall() == tokens_before
    assert consent_events(db, person.id) == events_before
    assert get_subscriber(db, person.email) is not None and len(smtp_sink.messages) == 1


def test_yes_erases_the_right_person_once(client, db, settings, lists, person, smtp_sink):
    bo = make_person(db, settings, "bo@example.dk", name="Bo", language="da")
    ask_for_erase_link(client, bo.preferences)
    token = erase_link(smtp_sink)
    page = client.get(f"/preferences/{token}/erase").get_data(as_text=True)
    response = client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Dine oplysninger er slettet</h1>" in html and '<html lang="da">' in html
    assert get_subscriber(db, bo.email) is None and erasures(db) == 1
    assert get_subscriber(db, person.email) is not None  # Anna is untouched
    assert erase_tokens(db, bo.id) == []  # the link went with the person

    again = client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 404
    assert client.get(f"/preferences/{token}/erase").status_code == 404
    assert client.get(f"/preferences/{bo.preferences}").status_code == 404
    assert client.get(f"/unsubscribe/{bo.unsubscribe}").status_code == 404
    assert erasures(db) == 1


def test_the_erasure_needs_the_csrf_field(client, db, person, smtp_sink):
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    client.get(f"/preferences/{token}/erase")  # the cookie is set; the field is missing
    assert client.post(f"/preferences/{token}/erase").status_code == 400
    assert get_subscriber(db, person.email) is not None
    assert erase_tokens(db, person.id)[0]["used_at"] is None
    assert press_yes(client, token).status_code == 200  # the link still works from its page
    assert get_subscriber(db, person.email) is None


def test_an_expired_link_is_the_generic_404(client, db, person, smtp_sink):
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    page = client.get(f"/preferences/{token}/erase").get_data(as_text=True)
    shift(db, "expires", erase_tokens(db, person.id)[0]["id"], -1)  # the hour is over
    response = client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
    assert "Länken fungerar inte" in response.get_data(as_text=True)
    assert client.get(f"/preferences/{token}/erase").status_code == 404
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0


def test_a_used_link_is_the_generic_404(client, db, person, smtp_sink):
    """Used without erasing (as when another process's click won): 404, nothing erased."""
    from mailer.audience.tokens import consume_token

    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    page = client.get(f"/preferences/{token}/erase").get_data(as_text=True)
    assert consume_token(db, "preferences", token) is not None
    response = client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
    assert "Länken fungerar inte" in response.get_data(as_text=True)
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0


def test_a_tampered_link_is_the_generic_404(client, db, person, smtp_sink):
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    page = client.get(f"/preferences/{token}/erase").get_data(as_text=True)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/preferences/{tampered}/erase").status_code == 404
    response = client.post(f"/preferences/{tampered}/erase", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
    assert "Länken fungerar inte" in response.get_data(as_text=True)
    assert get_subscriber(db, person.email) is not None


def test_the_long_lived_token_can_never_erase(client, db, person, smtp_sink):
    for _ in range(3):
        response = ask_for_erase_link(client, person.preferences)
        assert response.status_code == 200
        assert "Titta i din inkorg" in response.get_data(as_text=True)
        shift(db, "created", erase_tokens(db, person.id)[-1]["id"], -3600)
    assert len(smtp_sink.wait_for(3)) == 3  # each time a mail, never an erasure
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0
    assert client.post(f"/preferences/{person.preferences}/erase").status_code == 400
    other = client.post(f"/preferences/{person.unsubscribe}/erase", data={"csrf_token": "x"})
    assert other.status_code == 404
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0


def test_the_erasure_link_opens_nothing_else(client, db, person, smtp_sink):
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    csrf = csrf_from(client.get(f"/preferences/{token}/erase").get_data(as_text=True))
    assert client.get(f"/preferences/{token}").status_code == 404
    assert client.get(f"/preferences/{token}/export").status_code == 404
    saved = client.post(f"/preferences/{token}", data={"csrf_token": csrf, "name": "Mallory"})
    exported = client.post(f"/preferences/{token}/export", data={"csrf_token": csrf})
    assert (saved.status_code, exported.status_code) == (404, 404)
    assert exported.mimetype == "text/html" and len(smtp_sink.wait_for(2, timeout=0.5)) == 1
    assert get_subscriber(db, person.email)["name"] == "Anna Berg"
    assert erase_tokens(db, person.id)[0]["used_at"] is None


def test_a_download_link_cannot_erase(client, db, person, smtp_sink):
    ask_for_link(client, person.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    csrf = csrf_from(client.get(f"/preferences/{token}/export").get_data(as_text=True))
    assert client.get(f"/preferences/{token}/erase").status_code == 404
    assert client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf}).status_code == 404
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0
    assert len(smtp_sink.wait_for(2, timeout=0.5)) == 1  # nor does it ask for an erasure mail


def test_a_failed_erasure_changes_nothing_and_the_link_works_again(
    web_settings, newsletters_dir, db, person, smtp_sink
):
    """A real SQLite failure inside the erasure: the error page, nobody erased, and the
    consumed link is usable again, so "try again" on the error page is true."""
    client = production_app(web_settings, newsletters_dir).test_client()
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    db.execute(
        "CREATE TRIGGER stuck BEFORE DELETE ON subscribers BEGIN "
        "SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    db.conn.commit()
    response = press_yes(client, token)
    assert response.status_code == 500 and "Något gick fel" in response.get_data(as_text=True)
    assert get_subscriber(db, person.email) is not None and erasures(db) == 0
    assert erase_tokens(db, person.id)[0]["used_at"] is None

    db.execute("DROP TRIGGER stuck")
    db.conn.commit()
    assert press_yes(client, token).status_code == 200
    assert get_subscriber(db, person.email) is None and erasures(db) == 1


def test_erase_while_another_process_reads_still_confirms_the_erasure(
    web_settings, newsletters_dir, db, person, smtp_sink, caplog
):
    """A running send keeps the WAL busy, so the file cannot be scrubbed at once; the person
    is erased all the same and must be told so, not shown an error page."""
    from mailer.store.db import connect

    client = production_app(web_settings, newsletters_dir).test_client()
    ask_for_erase_link(client, person.preferences)
    token = erase_link(smtp_sink)
    csrf = csrf_from(client.get(f"/preferences/{token}/erase").get_data(as_text=True))
    reader = connect(web_settings.db_path)
    try:
        reader.conn.execute("BEGIN")
        reader.execute("SELECT count(*) FROM subscribers").fetchone()  # holds a WAL snapshot
        with caplog.at_level("WARNING"):
            response = client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf})
    finally:
        reader.conn.execute("ROLLBACK")
        reader.close()
    assert response.status_code == 200
    assert "Dina uppgifter är raderade" in response.get_data(as_text=True)
    assert get_subscriber(db, person.email) is None
    assert "wal" in caplog.text.lower() and person.email not in caplog.text
    assert token not in caplog.text
    assert client.get(f"/preferences/{token}/erase").status_code == 404
