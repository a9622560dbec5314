"""'My subscription': name, language, lists; CSRF on every form. (Download my data is in
tests/test_web_export.py, erase me in tests/test_web_erase.py.)"""

from __future__ import annotations

from mailer.audience.subscribers import get_subscriber
from tests.fixtures_web import consent_events, statuses
from tests.test_web_subscribe import csrf_from


def open_form(client, person) -> str:
    response = client.get(f"/preferences/{person.preferences}")
    assert response.status_code == 200
    return csrf_from(response.get_data(as_text=True))


def test_preferences_page_shows_the_person_and_their_lists(client, person):
    page = client.get(f"/preferences/{person.preferences}").get_data(as_text=True)
    assert "anna@example.se" in page and 'value="Anna Berg"' in page
    assert page.count("checked") == 2
    assert '<html lang="sv">' in page


def test_names_are_escaped_on_the_preferences_page(client, db, person):
    db.execute("UPDATE subscribers SET name = ? WHERE id = ?", ['<b>"x"</b>', person.id])
    db.conn.commit()
    page = client.get(f"/preferences/{person.preferences}").get_data(as_text=True)
    assert "<b>" not in page
    assert 'value="&lt;b&gt;&#34;x&#34;&lt;/b&gt;"' in page


def test_saving_changes_name_language_and_lists_and_logs_them(client, db, person):
    token = open_form(client, person)
    response = client.post(
        f"/preferences/{person.preferences}",
        data={"csrf_token": token, "name": "Anna Lind", "language": "en", "lists": ["kalender"]},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and "Your changes are saved." in page
    subscriber = get_subscriber(db, person.email)
    assert (subscriber["name"], subscriber["language"]) == ("Anna Lind", "en")
    assert statuses(db, person.id) == {"nyhetsbrev": "unsubscribed", "kalender": "active"}
    actions = [(e["action"], e["channel"]) for e in consent_events(db, person.id)[-3:]]
    assert actions == [("rectify", "web"), ("rectify", "web"), ("unsubscribe", "web")]


def test_saving_without_the_csrf_field_changes_nothing(client, db, person):
    open_form(client, person)
    response = client.post(
        f"/preferences/{person.preferences}", data={"name": "Mallory", "lists": []}
    )
    assert response.status_code == 400
    assert get_subscriber(db, person.email)["name"] == "Anna Berg"


def test_a_csrf_field_without_its_cookie_is_refused(web_app, db, person):
    token = open_form(web_app.test_client(), person)
    cookieless = web_app.test_client(use_cookies=False)
    response = cookieless.post(
        f"/preferences/{person.preferences}", data={"csrf_token": token, "name": "Mallory"}
    )
    assert response.status_code == 400
    assert get_subscriber(db, person.email)["name"] == "Anna Berg"


def test_the_only_cookie_is_the_httponly_csrf_cookie(client, person):
    response = client.get(f"/preferences/{person.preferences}")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    assert cookies[0].startswith("newsletter_csrf=")
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0] and "Secure" in cookies[0]


def test_unknown_preferences_token_is_the_generic_404(client, person):
    assert client.get(f"/preferences/{'z' * 43}").status_code == 404
    assert client.get(f"/preferences/{person.unsubscribe}").status_code == 404


def test_a_name_with_a_line_break_is_refused_and_the_profile_kept(client, db, person):
    token = open_form(client, person)
    before = consent_events(db, person.id)
    response = client.post(
        f"/preferences/{person.preferences}",
        data={"csrf_token": token, "name": "Anna\nBcc: x@evil.example", "lists": ["kalender"]},
    )
    assert response.status_code == 400
    assert get_subscriber(db, person.email)["name"] == "Anna Berg"
    assert statuses(db, person.id) == {"nyhetsbrev": "active", "kalender": "active"}
    assert consent_events(db, person.id) == before
