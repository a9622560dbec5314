"""The sign-up form: consent text stored, same answer for every address state, limits, honeypot."""

from __future__ import annotations

import re

import pytest

from mailer.audience.consent import erase_subscriber
from mailer.audience.subscribers import get_subscriber
from tests.fixtures_web import consent_events, make_person


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)


def page_lang_from(page: str) -> str:
    return re.search(r'name="page_lang" value="([a-z]+)"', page).group(1)


def sign_up(client, path="/subscribe", headers=None, **fields):
    """GET the form, then POST it as a browser would (with its hidden fields) to the form's
    action, which is `path` without any `?lang=`."""
    page = client.get(path, headers=headers).get_data(as_text=True)
    data = {"email": "new@example.se", "name": "Nils", "language": "sv", "lists": ["nyhetsbrev"]}
    data.update(fields)
    data.setdefault("csrf_token", csrf_from(page))
    data.setdefault("page_lang", page_lang_from(page))
    return client.post(path.split("?")[0], data=data, headers=headers)


def test_subscribe_form_offers_every_list_and_shows_the_consent_text(client, lists):
    page = client.get("/subscribe").get_data(as_text=True)
    assert 'value="nyhetsbrev"' in page and 'value="kalender"' in page
    assert "samtycker" in page  # the Swedish consent text
    for field in ("email", "name", "language"):
        assert f'<label for="{field}">' in page


def test_subscribe_creates_a_pending_subscription_and_mails_a_confirm_link(
    client, db, lists, smtp_sink
):
    response = sign_up(client, headers={"User-Agent": "Form/1.0"})
    assert response.status_code == 200
    subscriber = get_subscriber(db, "new@example.se")
    assert subscriber["subscriptions"] == {"nyhetsbrev": "pending"}
    event = consent_events(db, subscriber["id"])[-1]
    assert (event["action"], event["channel"]) == ("subscribe", "web")
    text = db.execute(
        "SELECT body FROM consent_texts WHERE id = ?", [event["consent_text_id"]]
    ).fetchone()[0]
    assert "Nyhetsbrevet" in text and "samtycker" in text
    (message,) = smtp_sink.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "new@example.se"
    assert "https://news.example.se/confirm/" in message.get_body(("plain",)).get_content()


def test_subscribe_answers_identically_for_new_pending_active_unsubscribed_and_erased(
    client, db, settings, lists
):
    active = make_person(db, settings, "active@example.se")
    gone = make_person(db, settings, "gone@example.se")
    client.post(f"/unsubscribe/{gone.unsubscribe}", data={"action": "unsubscribe"})
    erased = make_person(db, settings, "erased@example.se")
    erase_subscriber(db, settings, erased.id)
    sign_up(client, email="pending@example.se")

    def answer(email):
        response = sign_up(client, email=email)
        page = response.get_data(as_text=True).replace(email, "ADDRESS")
        return response.status_code, page, tuple(sorted(response.headers.keys()))

    answers = {
        answer(email)
        for email in (
            "brand-new@example.se",
            "pending@example.se",
            active.email,
            gone.email,
            "erased@example.se",
        )
    }
    assert len(answers) == 1


def test_subscribe_with_an_invalid_address_shows_the_form_with_an_error(client, lists):
    response = sign_up(client, email="not an address")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and 'id="email-error"' in page


def test_subscribe_without_a_list_shows_an_error(client, db, lists):
    response = sign_up(client, lists=[])
    assert response.status_code == 400
    assert get_subscriber(db, "new@example.se") is None


def test_subscribe_without_the_csrf_field_is_refused(client, db, lists):
    response = sign_up(client, csrf_token="")
    assert response.status_code == 400
    assert get_subscriber(db, "new@example.se") is None


def test_subscribe_with_a_csrf_field_from_another_browser_is_refused(web_app, db, lists):
    other = web_app.test_client()
    foreign = csrf_from(other.get("/subscribe").get_data(as_text=True))
    response = sign_up(web_app.test_client(), csrf_token=foreign)
    assert response.status_code == 400
    assert get_subscriber(db, "new@example.se") is None


def test_filled_honeypot_gets_the_normal_answer_and_creates_nothing(client, db, lists, smtp_sink):
    response = sign_up(client, website="http://spam.example")
    assert response.status_code == 200
    assert get_subscriber(db, "new@example.se") is None
    assert smtp_sink.messages == []


def test_subscribe_is_rate_limited_per_address(client, lists):
    codes = [sign_up(client, email="same@example.se").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_subscribe_is_rate_limited_per_ip(web_settings, newsletters_dir, db, lists):
    from mailer.web import create_app

    app = create_app(
        web_settings,
        test_config={"MAIL_IN_BACKGROUND": False, "RATE_LIMIT_IP": (2, 60)},
        newsletters_dir=newsletters_dir,
    )
    client = app.test_client()
    codes = [sign_up(client, email=f"p{i}@example.se").status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert "Too many" in sign_up(client, headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_subscribe_page_for_one_list_fixes_that_list(client, db, lists):
    page = client.get("/subscribe/kalender").get_data(as_text=True)
    assert 'type="hidden" name="lists" value="kalender"' in page
    assert "Kalendariet" in page and "Nyhetsbrevet" not in page
    sign_up(client, path="/subscribe/kalender", lists=["nyhetsbrev"])
    assert get_subscriber(db, "new@example.se")["subscriptions"] == {"kalender": "pending"}


def test_subscribe_page_for_an_unknown_list_is_404(client, lists):
    assert client.get("/subscribe/nope").status_code == 404


@pytest.mark.parametrize(
    ("header", "word"),
    [("da", "Abonnér"), ("en", "Subscribe"), ("nb-NO", "Abonnér"), ("fr", "Prenumerera")],
)
def test_subscribe_page_language_follows_accept_language(client, lists, header, word):
    page = client.get("/subscribe", headers={"Accept-Language": header}).get_data(as_text=True)
    assert word in page


def test_lang_query_parameter_overrides_accept_language(client, lists):
    page = client.get("/subscribe?lang=en", headers={"Accept-Language": "da"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_confirmation_mail_can_be_sent_from_the_background_thread(
    web_settings, newsletters_dir, db, lists, smtp_sink
):
    from mailer.web import create_app

    app = create_app(web_settings, newsletters_dir=newsletters_dir)
    assert sign_up(app.test_client()).status_code == 200
    assert app.extensions["outbox"].join()
    app.extensions["outbox"].stop()
    assert len(smtp_sink.messages) == 1


def test_subscribe_answers_before_the_address_is_looked_up(
    web_settings, newsletters_dir, db, lists, smtp_sink
):
    """The timing must not tell who is subscribed: a new address costs writes and a message,
    an active one nothing. So the request writes the same one `signup` row for every address
    (committed before the page is sent, so nothing is lost if the server stops) and the outbox
    worker makes the sign-up afterwards; here the worker has not run yet when the pages are out."""
    from mailer.web import create_app

    active = make_person(db, web_settings, "active@example.se")
    app = create_app(web_settings, newsletters_dir=newsletters_dir)  # the background thread on
    outbox = app.extensions["outbox"]
    outbox.wake = lambda: None  # hold the worker back: nothing but the requests has run
    client = app.test_client()
    before = len(consent_events(db, active.id))
    for email in ("brand-new@example.se", active.email):
        assert sign_up(client, email=email).status_code == 200
    assert get_subscriber(db, "brand-new@example.se") is None  # not looked at yet
    queued = db.execute("SELECT kind, recipient, state FROM service_mail ORDER BY id").fetchall()
    assert queued == [
        ("signup", "brand-new@example.se", "waiting"),
        ("signup", active.email, "waiting"),
    ]
    assert outbox.worker.run_due() == 3  # two sign-ups, then the one confirmation they made
    assert get_subscriber(db, "brand-new@example.se")["subscriptions"] == {"nyhetsbrev": "pending"}
    assert len(consent_events(db, active.id)) == before  # active: nothing to record or send
    assert [m["To"].addresses[0].addr_spec for m in smtp_sink.wait_for(1)] == [
        "brand-new@example.se"
    ]
    assert db.execute("SELECT count(*) FROM service_mail").fetchone()[0] == 0


def test_a_name_with_a_line_break_is_refused_and_nothing_is_written_or_mailed(
    client, db, lists, smtp_sink
):
    response = sign_up(client, email="anna@example.se", name="Anna\r\nBcc: x@evil.example")
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert db["subscribers"].count == 0 and db["consent_log"].count == 0
    assert smtp_sink.messages == []


def test_confirmation_mail_is_dkim_signed_when_dkim_is_configured(
    settings, db, lists, newsletters_dir, mail_sink, dkim_keys, tmp_path
):
    import dkim

    from mailer.web import create_app

    private, txt_record = dkim_keys
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(private)
    dkim_settings = {"dkim_domain": "example.se", "dkim_selector": "nyhetsbrev"}
    signing = mail_sink.settings(settings, dkim_private_key=str(key_file), **dkim_settings)
    app = create_app(
        signing,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False},
        newsletters_dir=newsletters_dir,
    )
    assert sign_up(app.test_client()).status_code == 200
    (received,) = mail_sink.handler.received
    assert received.rcpt == "new@example.se" and b"/confirm/" in received.data
    assert received.data.startswith(b"DKIM-Signature:")
    assert dkim.verify(received.data, dnsfunc=lambda name, timeout=5: txt_record)


def test_without_a_sender_a_sign_up_waits_and_no_mail_goes_out_from_the_placeholder(
    web_settings, newsletters_dir, db, lists, smtp_sink
):
    import dataclasses

    from mailer.config import PLACEHOLDER_FROM
    from mailer.web import create_app

    unset = dataclasses.replace(web_settings, from_address=PLACEHOLDER_FROM)
    app = create_app(
        unset,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False},
        newsletters_dir=newsletters_dir,
    )
    response = sign_up(app.test_client())
    assert response.status_code == 200  # the same answer as always: nothing revealed
    assert smtp_sink.messages == []
    waiting = db.execute("SELECT count(*) FROM service_mail WHERE kind = 'signup'").fetchone()[0]
    assert waiting == 1  # kept, made once NEWSLETTER_FROM is set and serve restarted
