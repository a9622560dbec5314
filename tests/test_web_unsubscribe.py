"""Unsubscribe pages: GET changes nothing, POST and RFC 8058 one-click unsubscribe, resubscribe."""

from __future__ import annotations

from mailer.audience.subscribers import active_recipients
from mailer.audience.tokens import issue_token
from tests.fixtures_web import consent_events, make_person, statuses

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_unsubscribe_get_does_not_unsubscribe(client, db, person):
    response = client.get(f"/unsubscribe/{person.unsubscribe}")
    assert response.status_code == 200
    assert statuses(db, person.id) == {"nyhetsbrev": "active", "kalender": "active"}
    assert not [e for e in consent_events(db, person.id) if e["action"] == "unsubscribe"]


def test_unsubscribe_get_names_the_list_masks_the_address_and_offers_a_button(client, person):
    page = client.get(f"/unsubscribe/{person.unsubscribe}").get_data(as_text=True)
    assert "Nyhetsbrevet" in page
    assert "a•••@example.se" in page
    assert "anna@example.se" not in page
    assert 'method="post"' in page
    assert 'value="all"' in page  # "unsubscribe from all lists" when more than one


def test_unsubscribe_button_unsubscribes_that_list_and_logs_the_web_channel(client, db, person):
    response = client.post(
        f"/unsubscribe/{person.unsubscribe}",
        data={"action": "unsubscribe"},
        headers={"User-Agent": "TestBrowser/1.0"},
    )
    assert response.status_code == 200
    assert statuses(db, person.id) == {"nyhetsbrev": "unsubscribed", "kalender": "active"}
    event = [e for e in consent_events(db, person.id) if e["action"] == "unsubscribe"]
    assert [(e["channel"], e["user_agent"]) for e in event] == [("web", "TestBrowser/1.0")]
    page = response.get_data(as_text=True)
    assert "Kalendariet" in page  # still receives the other list
    assert 'value="resubscribe"' in page


def test_one_click_urlencoded_post_answers_200_without_redirect(client, db, person):
    response = client.post(f"/unsubscribe/{person.unsubscribe}", data=ONE_CLICK)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert statuses(db, person.id)["nyhetsbrev"] == "unsubscribed"
    channels = [e["channel"] for e in consent_events(db, person.id) if e["action"] == "unsubscribe"]
    assert channels == ["one-click"]


def test_one_click_multipart_post_unsubscribes(client, db, person):
    response = client.post(
        f"/unsubscribe/{person.unsubscribe}", data=ONE_CLICK, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert statuses(db, person.id)["nyhetsbrev"] == "unsubscribed"


def test_one_click_needs_no_cookie_and_sets_none(web_app, db, person):
    fresh = web_app.test_client(use_cookies=False)
    response = fresh.post(f"/unsubscribe/{person.unsubscribe}", data=ONE_CLICK)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert statuses(db, person.id)["nyhetsbrev"] == "unsubscribed"


def test_repeated_one_click_is_harmless(client, db, person):
    first = client.post(f"/unsubscribe/{person.unsubscribe}", data=ONE_CLICK)
    second = client.post(f"/unsubscribe/{person.unsubscribe}", data=ONE_CLICK)
    assert (first.status_code, second.status_code) == (200, 200)
    events = [e for e in consent_events(db, person.id) if e["action"] == "unsubscribe"]
    assert len(events) == 1


def test_unsubscribed_person_is_no_longer_a_recipient_once_the_post_returns(client, db, person):
    assert person.id in {r.subscriber_id for r in active_recipients(db, "nyhetsbrev")}
    client.post(f"/unsubscribe/{person.unsubscribe}", data=ONE_CLICK)
    assert person.id not in {r.subscriber_id for r in active_recipients(db, "nyhetsbrev")}
    assert person.id in {r.subscriber_id for r in active_recipients(db, "kalender")}


def test_unsubscribe_from_all_lists(client, db, person):
    response = client.post(f"/unsubscribe/{person.unsubscribe}", data={"action": "all"})
    assert response.status_code == 200
    assert set(statuses(db, person.id).values()) == {"unsubscribed"}


def test_resubscribe_after_a_mistaken_unsubscribe(client, db, person):
    client.post(f"/unsubscribe/{person.unsubscribe}", data={"action": "unsubscribe"})
    response = client.post(f"/unsubscribe/{person.unsubscribe}", data={"action": "resubscribe"})
    assert response.status_code == 200
    assert statuses(db, person.id)["nyhetsbrev"] == "active"
    last = consent_events(db, person.id)[-1]
    assert (last["action"], last["channel"], last["detail"]) == ("subscribe", "web", "resubscribe")
    assert last["consent_text_id"] is not None


def test_resubscribe_does_nothing_for_an_active_subscription(client, db, person):
    before = len(consent_events(db, person.id))
    client.post(f"/unsubscribe/{person.unsubscribe}", data={"action": "resubscribe"})
    assert len(consent_events(db, person.id)) == before


def test_unknown_tampered_and_wrong_purpose_tokens_get_the_same_404(client, person):
    tampered = person.unsubscribe[:-2] + ("AA" if person.unsubscribe[-2:] != "AA" else "BB")
    pages = []
    for token in ("x" * 43, tampered, person.preferences):
        response = client.get(f"/unsubscribe/{token}")
        assert response.status_code == 404
        pages.append(response.get_data())
        assert client.post(f"/unsubscribe/{token}", data=ONE_CLICK).status_code == 404
    assert pages[0] == pages[1] == pages[2]
    assert client.get("/no-such-page").get_data() == pages[0]


def test_expired_unsubscribe_token_is_404(client, db, person):
    expired = issue_token(db, "unsubscribe", person.id, None, ttl_seconds=-1)
    assert client.get(f"/unsubscribe/{expired}").status_code == 404


def test_unsubscribe_page_speaks_the_subscribers_language(client, db, settings, lists):
    dane = make_person(db, settings, "mette@example.dk", language="da")
    page = client.get(
        f"/unsubscribe/{dane.unsubscribe}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert '<html lang="da">' in page
    assert "Afmeld" in page


def test_token_for_all_lists_unsubscribes_from_all(client, db, person):
    token = issue_token(db, "unsubscribe", person.id, None)
    client.post(f"/unsubscribe/{token}", data=ONE_CLICK)
    assert set(statuses(db, person.id).values()) == {"unsubscribed"}


def test_signed_newsletter_links_unsubscribe_and_open_preferences_with_no_token_row(
    client, db, person, web_settings
):
    from mailer.audience.tokens import signed_token

    sid, created = db.execute(
        "SELECT id, created FROM subscribers WHERE id = ?", [person.id]
    ).fetchone()
    list_pk = db.execute("SELECT id FROM lists WHERE name = 'nyhetsbrev'").fetchone()[0]
    key = web_settings.secret_key
    rows_before = db.execute("SELECT count(*) FROM tokens").fetchone()[0]
    preferences = signed_token(key, "preferences", sid, list_pk, created)
    assert client.get(f"/preferences/{preferences}").status_code == 200
    unsubscribe = signed_token(key, "unsubscribe", sid, list_pk, created)
    assert client.get(f"/preferences/{unsubscribe}").status_code == 404  # one purpose each
    tampered = unsubscribe[:-2] + ("AA" if unsubscribe[-2:] != "AA" else "BB")
    assert client.post(f"/unsubscribe/{tampered}", data=ONE_CLICK).status_code == 404
    response = client.post(f"/unsubscribe/{unsubscribe}", data=ONE_CLICK)
    assert response.status_code == 200
    assert statuses(db, person.id)["nyhetsbrev"] == "unsubscribed"
    assert db.execute("SELECT count(*) FROM tokens").fetchone()[0] == rows_before
