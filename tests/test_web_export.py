"""'Download my data': the newsletter's long-lived preferences link only mails a short-lived
download link to the subscriber; that link's page shows a button; its POST downloads, once.

Real parts: the Flask test client, a real SQLite file, mail read back from the SMTP sink."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from mailer.audience.consent import export_subject
from mailer.audience.subscribers import get_subscriber
from tests.fixtures_web import consent_events, make_person
from tests.test_web_subscribe import csrf_from

LINK = r"https://news\.example\.se/preferences/([A-Za-z0-9_-]+)/{step}(?=\s)"


def ask_for_link(client, token: str, step: str = "export"):
    """Open the preferences page and press "E-mail me my data" (or, with `step="erase"`, open
    its erase page and press "E-mail me a link to erase my data"), as a browser would."""
    page = client.get(
        f"/preferences/{token}" if step == "export" else f"/preferences/{token}/{step}"
    )
    assert page.status_code == 200
    return client.post(
        f"/preferences/{token}/{step}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )


def mailed_token(message, step: str = "export") -> str:
    body = message.get_body(("plain",)).get_content()
    (token,) = re.findall(LINK.format(step=step), body)
    return token


def download(client, token: str):
    """Open the mailed link's page and press its Download button."""
    page = client.get(f"/preferences/{token}/export")
    assert page.status_code == 200
    return client.post(
        f"/preferences/{token}/export", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )


def export_tokens(db, subscriber_id: int, scope: str = "export") -> list[dict]:
    cursor = db.execute(
        "SELECT id, purpose, scope, created, expires, used_at FROM tokens "
        "WHERE subscriber_id = ? AND scope = ? ORDER BY id",
        [subscriber_id, scope],
    )
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def shift(db, column: str, token_id: int, seconds: int) -> None:
    """Move a token's `created` or `expires` by `seconds` (negative: into the past)."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    db.execute(
        f"UPDATE tokens SET {column} = ? WHERE id = ?",  # noqa: S608 - column chosen by the test
        [moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), token_id],
    )
    db.conn.commit()


def is_download(response) -> bool:
    return response.mimetype == "application/json" or "Content-Disposition" in response.headers


def test_the_newsletter_link_mails_a_download_link_and_shows_no_data(client, db, person, smtp_sink):
    response = ask_for_link(client, person.preferences)
    assert response.status_code == 200
    assert response.mimetype == "text/html" and not is_download(response)
    page = response.get_data(as_text=True)
    assert "a•••@example.se" in page and "anna@example.se" not in page
    assert "60 minuter" in page and "consent_history" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]

    (message,) = smtp_sink.wait_for(1)
    assert [a.addr_spec for a in message["To"].addresses] == ["anna@example.se"]
    assert message["Subject"] == "Ladda ner dina uppgifter"
    assert message["Content-Language"] == "sv" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"  # plain, no HTML part, no attachment
    body = message.get_content()
    assert "anna@example.se" in body and "60 minuter" in body and "consent_history" not in body
    token = mailed_token(message)
    assert token != person.preferences

    (row,) = export_tokens(db, person.id)
    assert (row["purpose"], row["used_at"]) == ("preferences", None)
    expires = dt.datetime.strptime(row["expires"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    left = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=59) < left <= dt.timedelta(minutes=60)


def test_a_second_request_within_ten_minutes_sends_nothing_more(client, db, person, smtp_sink):
    first = ask_for_link(client, person.preferences)
    second = ask_for_link(client, person.preferences)
    assert second.status_code == 200
    assert second.get_data(as_text=True) == first.get_data(as_text=True)
    assert len(smtp_sink.wait_for(2, timeout=1)) == 1
    assert len(export_tokens(db, person.id)) == 1

    (row,) = export_tokens(db, person.id)
    shift(db, "created", row["id"], -9 * 60)  # still inside the window
    ask_for_link(client, person.preferences)
    assert len(smtp_sink.wait_for(2, timeout=1)) == 1
    shift(db, "created", row["id"], -11 * 60)  # the window has passed: a new mail
    ask_for_link(client, person.preferences)
    messages = smtp_sink.wait_for(2)
    assert len(messages) == 2 and len(export_tokens(db, person.id)) == 2
    assert mailed_token(messages[0]) != mailed_token(messages[1])


def test_the_limit_is_per_subscriber(client, db, settings, lists, person, smtp_sink):
    bo = make_person(db, settings, "bo@example.dk", name="Bo", language="da")
    ask_for_link(client, person.preferences)
    ask_for_link(client, bo.preferences)
    messages = smtp_sink.wait_for(2)
    assert [m["To"].addresses[0].addr_spec for m in messages] == [
        "anna@example.se",
        "bo@example.dk",
    ]


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("sv", "Ladda ner dina uppgifter", "fungerar en gång och gäller i 60 minuter"),
        ("da", "Hent dine oplysninger", "virker én gang og i 60 minutter"),
        ("en", "Download your data", "works once, for 60 minutes"),
    ],
)
def test_the_mail_and_the_pages_are_in_the_subscribers_language(
    client, db, settings, lists, smtp_sink, language, subject, words
):
    someone = make_person(db, settings, "kim@example.dk", name="Kim", language=language)
    sent = ask_for_link(client, someone.preferences)
    assert f'<html lang="{language}">' in sent.get_data(as_text=True)
    (message,) = smtp_sink.wait_for(1)
    assert message["Subject"] == subject and message["Content-Language"] == language
    assert words in message.get_content()
    page = client.get(f"/preferences/{mailed_token(message)}/export")
    assert f'<html lang="{language}">' in page.get_data(as_text=True)


def test_the_mailed_link_shows_a_button_and_changes_nothing(client, db, person, smtp_sink):
    ask_for_link(client, person.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    tokens_before = db.execute("SELECT * FROM tokens ORDER BY id").fetchall()
    events_before = consent_events(db, person.id)
    for _ in range(2):  # a mail scanner, then the person
        response = client.get(f"/preferences/{token}/export")
        assert response.status_code == 200 and not is_download(response)
        page = response.get_data(as_text=True)
        assert f'action="https://news.example.se/preferences/{token}/export"' in page
        assert 'name="csrf_token"' in page
        assert '<button type="submit">Ladda ner mina uppgifter (JSON)</button>' in page
        assert "a•••@example.se" in page and "anna@example.se" not in page
        assert "consent_history" not in page
    assert db.execute("SELECT * FROM tokens ORDER BY id").fetchall() == tokens_before
    assert consent_events(db, person.id) == events_before
    assert len(smtp_sink.messages) == 1


def test_the_button_downloads_the_document_of_the_right_person_once(
    client, db, settings, lists, person, smtp_sink
):
    bo = make_person(db, settings, "bo@example.dk", name="Bo", language="da")
    ask_for_link(client, bo.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    page = client.get(f"/preferences/{token}/export").get_data(as_text=True)
    response = client.post(f"/preferences/{token}/export", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    document = json.loads(response.get_data(as_text=True))
    expected = export_subject(db, bo.id)
    document.pop("generated_at"), expected.pop("generated_at")
    assert document == expected and document["profile"]["email"] == "bo@example.dk"
    assert export_tokens(db, bo.id)[0]["used_at"] is not None

    again = client.post(f"/preferences/{token}/export", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 404 and not is_download(again)
    assert client.get(f"/preferences/{token}/export").status_code == 404


def test_the_download_needs_the_csrf_field(client, db, person, smtp_sink):
    ask_for_link(client, person.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    client.get(f"/preferences/{token}/export")  # the cookie is set; the field is missing
    response = client.post(f"/preferences/{token}/export")
    assert response.status_code == 400 and not is_download(response)
    assert export_tokens(db, person.id)[0]["used_at"] is None
    assert is_download(download(client, token))  # the link still works from its own page


def test_an_expired_link_is_the_generic_404(client, db, person, smtp_sink):
    ask_for_link(client, person.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    page = client.get(f"/preferences/{token}/export").get_data(as_text=True)
    shift(db, "expires", export_tokens(db, person.id)[0]["id"], -1)  # the hour is over
    response = client.post(f"/preferences/{token}/export", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404 and not is_download(response)
    assert "Länken fungerar inte" in response.get_data(as_text=True)
    assert client.get(f"/preferences/{token}/export").status_code == 404


def test_a_tampered_link_is_the_generic_404(client, person, smtp_sink):
    ask_for_link(client, person.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    page = client.get(f"/preferences/{token}/export").get_data(as_text=True)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/preferences/{tampered}/export").status_code == 404
    response = client.post(f"/preferences/{tampered}/export", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404 and not is_download(response)
    assert "Länken fungerar inte" in response.get_data(as_text=True)


def test_a_long_lived_token_can_never_download(client, db, person, smtp_sink):
    shown = client.get(f"/preferences/{person.preferences}/export")  # a language link's GET
    assert shown.status_code == 200 and not is_download(shown)
    page = shown.get_data(as_text=True)
    assert "Mejla mig mina uppgifter" in page and "consent_history" not in page
    assert smtp_sink.wait_for(1, timeout=0.5) == [] and export_tokens(db, person.id) == []
    for _ in range(3):
        response = ask_for_link(client, person.preferences)
        assert response.status_code == 200 and not is_download(response)
        shift(db, "created", export_tokens(db, person.id)[-1]["id"], -3600)
    assert len(smtp_sink.wait_for(3)) == 3  # each time a mail, never the data
    assert client.post(f"/preferences/{person.preferences}/export").status_code == 400
    other = client.post(f"/preferences/{person.unsubscribe}/export", data={"csrf_token": "x"})
    assert other.status_code == 404 and not is_download(other)


def test_the_mailed_link_opens_nothing_but_the_download(client, db, person, smtp_sink):
    ask_for_link(client, person.preferences)
    token = mailed_token(smtp_sink.wait_for(1)[0])
    csrf = csrf_from(client.get(f"/preferences/{token}/export").get_data(as_text=True))
    assert client.get(f"/preferences/{token}").status_code == 404
    assert client.get(f"/preferences/{token}/erase").status_code == 404
    saved = client.post(f"/preferences/{token}", data={"csrf_token": csrf, "name": "Mallory"})
    erased = client.post(f"/preferences/{token}/erase", data={"csrf_token": csrf})
    assert (saved.status_code, erased.status_code) == (404, 404)
    assert get_subscriber(db, person.email)["name"] == "Anna Berg"
    assert export_tokens(db, person.id)[0]["used_at"] is None


def test_the_download_mail_is_dkim_signed_when_dkim_is_configured(
    settings, db, lists, newsletters_dir, mail_sink, dkim_keys, tmp_path
):
    import dkim

    from mailer.web import create_app

    private, txt_record = dkim_keys
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(private)
    signing = mail_sink.settings(
        settings,
        dkim_private_key=str(key_file),
        dkim_domain="example.se",
        dkim_selector="nyhetsbrev",
    )
    app = create_app(
        signing,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False},
        newsletters_dir=newsletters_dir,
    )
    anna = make_person(db, signing, "anna@example.se")
    assert ask_for_link(app.test_client(), anna.preferences).status_code == 200
    (received,) = mail_sink.handler.received
    assert received.rcpt == "anna@example.se" and b"/export" in received.data
    assert received.data.startswith(b"DKIM-Signature:")
    assert dkim.verify(received.data, dnsfunc=lambda name, timeout=5: txt_record)


def test_every_page_string_exists_in_every_language_with_the_same_fields():
    from string import Formatter

    from mailer.locale import LANGUAGES, STRINGS

    keys = set(STRINGS["sv"])
    assert all(set(STRINGS[language]) == keys for language in LANGUAGES)

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    for key in keys:
        assert len({frozenset(fields(STRINGS[lang][key])) for lang in LANGUAGES}) == 1, key
