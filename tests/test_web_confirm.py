"""Confirm pages: GET shows a button, POST activates and records IP, agent and time."""

from __future__ import annotations

import re

from mailer.audience.subscribers import get_subscriber
from mailer.audience.tokens import issue_token
from tests.test_web_subscribe import sign_up


def confirm_token(client, smtp_sink, email="new@example.se") -> str:
    sign_up(client, email=email)
    body = smtp_sink.wait_for(1)[-1].get_body(("plain",)).get_content()
    return re.search(r"/confirm/([A-Za-z0-9_-]+)", body).group(1)


def test_confirm_get_shows_a_button_and_activates_nothing(client, db, lists, smtp_sink):
    token = confirm_token(client, smtp_sink)
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'method="post"' in page and "Nyhetsbrevet" in page
    assert get_subscriber(db, "new@example.se")["subscriptions"] == {"nyhetsbrev": "pending"}


def test_confirm_post_activates_and_records_ip_and_user_agent(client, db, lists, smtp_sink):
    token = confirm_token(client, smtp_sink)
    response = client.post(
        f"/confirm/{token}",
        headers={"User-Agent": "Phone/2.0"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 200
    subscriber = get_subscriber(db, "new@example.se")
    assert subscriber["subscriptions"] == {"nyhetsbrev": "active"}
    at, ip, agent = db.execute(
        "SELECT at, ip, user_agent FROM consent_log WHERE subscriber_id = ? AND action = 'confirm'",
        [subscriber["id"]],
    ).fetchone()
    assert (ip, agent) == ("192.0.2.7", "Phone/2.0")
    assert at.endswith("Z")


def test_used_confirm_link_gets_the_friendly_start_again_page(client, lists, smtp_sink):
    token = confirm_token(client, smtp_sink)
    client.post(f"/confirm/{token}")
    for response in (client.get(f"/confirm/{token}"), client.post(f"/confirm/{token}")):
        assert response.status_code == 404
        assert 'href="https://news.example.se/subscribe"' in response.get_data(as_text=True)


def test_expired_unknown_and_used_confirm_links_look_the_same(client, db, person, smtp_sink):
    expired = issue_token(db, "confirm", person.id, None, ttl_seconds=-1)
    token = confirm_token(client, smtp_sink)
    client.post(f"/confirm/{token}")
    pages = {client.get(f"/confirm/{t}").get_data() for t in (expired, token, "y" * 43)}
    assert len(pages) == 1
