"""Double opt-in: pending until the mailed link is confirmed; the same answer for every address."""

from __future__ import annotations

import html
import smtplib
import socket
from email import message_from_bytes, policy

import pytest

from mailer.audience.consent import erase_subscriber
from mailer.audience.optin import confirm, confirmation_message, start_subscription
from mailer.audience.roster import add_subscriber, unsubscribe_address
from mailer.audience.subscribers import active_recipients, ensure_list, get_subscriber
from mailer.errors import SubscriberError

from .fixtures_subscribers import CONSENT_TEXT


def test_sign_up_is_pending_and_mails_one_confirmation_link(db, settings, signup, outbox):
    token = signup("new@example.se", name="Ny Person", ip="192.0.2.44")
    assert get_subscriber(db, "new@example.se")["subscriptions"] == {"newsletter": "pending"}
    assert list(active_recipients(db, "newsletter")) == []
    assert len(outbox) == 1
    message = outbox[0]
    assert message["To"] == "Ny Person <new@example.se>"
    assert f"https://news.example.se/confirm/{token}" in message.get_content()
    event = db.execute(
        "SELECT action, channel, ip, user_agent, lawful_basis, consent_text_id FROM consent_log"
    ).fetchone()
    assert event[:5] == ("subscribe", "web", "192.0.2.44", "Mozilla/5.0 (test)", "consent")
    assert db.execute("SELECT body FROM consent_texts WHERE id = ?", [event[5]]).fetchone() == (
        CONSENT_TEXT,
    )


def test_confirm_activates_logs_and_works_only_once(db, settings, signup):
    token = signup("c@example.se", lists=("newsletter", "events"))
    assert confirm(db, settings, token, ip="192.0.2.45", user_agent="Safari") is True
    assert get_subscriber(db, "c@example.se")["subscriptions"] == {
        "events": "active",
        "newsletter": "active",
    }
    recipient = next(active_recipients(db, "newsletter"))
    event = db.execute(
        "SELECT action, ip, user_agent, consent_text_id FROM consent_log WHERE id = ?",
        [recipient.consent_event_id],
    ).fetchone()
    assert event[:3] == ("confirm", "192.0.2.45", "Safari") and event[3] is not None
    assert confirm(db, settings, token, ip=None, user_agent=None) is False


def test_expired_or_unknown_confirm_links_do_nothing(db, settings, signup):
    token = signup("late@example.se")
    db.execute("UPDATE tokens SET expires = '2000-01-01T00:00:00.000000Z'")
    assert confirm(db, settings, token, ip=None, user_agent=None) is False
    assert (
        confirm(db, settings, "not-a-real-token-at-all-000000", ip=None, user_agent=None) is False
    )
    assert get_subscriber(db, "late@example.se")["subscriptions"] == {"newsletter": "pending"}


def _states(db, settings, signup):
    """One address in each state the web form may meet."""
    signup("pending@example.se")
    add_subscriber(db, settings, "active@example.se", list_name="newsletter")
    add_subscriber(db, settings, "left@example.se", list_name="newsletter")
    unsubscribe_address(db, "left@example.se")
    add_subscriber(db, settings, "erased@example.se", list_name="newsletter")
    erase_subscriber(db, settings, "erased@example.se")


@pytest.mark.parametrize(
    "email",
    [
        "brand.new@example.se",
        "pending@example.se",
        "active@example.se",
        "left@example.se",
        "erased@example.se",
    ],
)
def test_start_subscription_answers_the_same_whatever_the_address_state(
    db, settings, signup, outbox, email
):
    _states(db, settings, signup)
    outbox.clear()
    result = start_subscription(
        db,
        settings,
        email,
        name="Someone Else",
        language="en",
        lists=["newsletter"],
        consent_text=CONSENT_TEXT,
        channel="web",
        ip="192.0.2.1",
        user_agent="x",
        send_mail=outbox,
    )
    assert result is None
    # a link goes out unless the person is already active; an unconfirmed request never
    # renames someone who is on file (an erased address is a new person again)
    assert len(outbox) == (0 if email == "active@example.se" else 1)
    expected_name = (
        "Someone Else" if email in ("brand.new@example.se", "erased@example.se") else "Test Person"
    )
    if email in ("pending@example.se", "brand.new@example.se", "erased@example.se"):
        assert get_subscriber(db, email)["name"] == expected_name
    else:
        assert get_subscriber(db, email)["name"] == ""


def test_a_request_for_someone_who_unsubscribed_changes_nothing_until_confirmed(
    db, settings, signup
):
    add_subscriber(db, settings, "left@example.se", list_name="newsletter")
    unsubscribe_address(db, "left@example.se")
    token = signup("left@example.se")
    assert get_subscriber(db, "left@example.se")["subscriptions"] == {"newsletter": "unsubscribed"}
    assert confirm(db, settings, token, ip=None, user_agent=None)
    assert get_subscriber(db, "left@example.se")["subscriptions"] == {"newsletter": "active"}


def test_unsubscribing_voids_an_outstanding_confirm_link(db, settings, signup):
    token = signup("changed.mind@example.se")
    unsubscribe_address(db, "changed.mind@example.se")
    assert confirm(db, settings, token, ip=None, user_agent=None) is False
    assert get_subscriber(db, "changed.mind@example.se")["subscriptions"] == {
        "newsletter": "unsubscribed"
    }


def test_unknown_list_bad_name_or_language_are_refused_and_write_nothing(db, settings, outbox):
    ensure_list(db, "newsletter")
    base = {
        "name": "A",
        "language": "sv",
        "lists": ["newsletter"],
        "consent_text": CONSENT_TEXT,
        "channel": "web",
        "ip": None,
        "user_agent": None,
        "send_mail": outbox,
    }
    for change, message in (
        ({"lists": ["no-such-list"]}, "unknown list"),
        ({"lists": []}, "at least one list"),
        ({"name": "A\r\nBcc: victim@example.se"}, "line break"),
        ({"language": "de"}, "unknown language"),
    ):
        with pytest.raises(SubscriberError, match=message):
            start_subscription(db, settings, "x@example.se", **{**base, **change})
    with pytest.raises(SubscriberError, match="valid e-mail"):
        start_subscription(db, settings, "x@", **base)
    assert db["subscribers"].count == 0 and db["consent_log"].count == 0 and outbox == []


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("sv", "Bekräfta din prenumeration", "Länken gäller i 48 timmar"),
        ("da", "Bekræft dit abonnement", "Linket virker i 48 timer"),
        ("en", "Please confirm your subscription", "The link works for 48 hours"),
    ],
)
def test_confirmation_message_is_plain_localised_and_has_only_the_link(
    settings, language, subject, phrase
):
    url = "https://news.example.se/confirm/abc123"
    message = confirmation_message(settings, "asa@example.se", "Åsa Öberg", language, url)
    assert message["Subject"] == subject
    assert message["From"] == settings.from_address
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == language  # set_content used to drop it
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    body = message.get_content()
    assert phrase in body and url in body and "Region Örebro län" in body
    assert body.count("http") == 1  # no other links: nothing but the confirmation
    retention = {"sv": "efter 14 dagar", "da": "efter 14 dage", "en": "after 14 days"}
    assert retention[language] in body  # the retention period is stated


def test_confirmation_message_refuses_header_injection(settings):
    with pytest.raises(SubscriberError, match="line break"):
        confirmation_message(
            settings,
            "a@example.se",
            "Eve\r\nBcc: x@example.se",
            "sv",
            "https://news.example.se/confirm/t",
        )


def test_confirmation_message_goes_through_a_real_smtp_server(settings, signup, outbox):
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    handler = Keep()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        signup("smtp.test@example.se", language="da", name="Søren Ærø")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(outbox[0])
    finally:
        controller.stop()
    received = message_from_bytes(handler.envelopes[0].content, policy=policy.default)
    assert handler.envelopes[0].rcpt_tos == ["smtp.test@example.se"]
    assert str(received["To"]) == "Søren Ærø <smtp.test@example.se>"
    assert "Bekræft ved at åbne linket" in received.get_content()


@pytest.mark.browser
def test_confirmation_email_screenshots(settings, page, screenshot_dir):
    """The plain-text email as a mail client shows it, at phone and desktop widths."""
    for language in ("sv", "en"):
        message = confirmation_message(
            settings,
            "asa@example.se",
            "Åsa Öberg",
            language,
            "https://news.example.se/confirm/Xk3v9QpL2mN8rT5wY7zA1bC4dE6fG0hJ-uV_sW3xZ9",
        )
        page.set_content(
            "<html><body style='font-family:sans-serif;margin:16px'>"
            f"<p><b>{html.escape(message['Subject'])}</b><br>From: "
            f"{html.escape(message['From'])}<br>To: {html.escape(message['To'])}</p><hr>"
            "<pre style='white-space:pre-wrap;overflow-wrap:anywhere;font-family:inherit'>"
            f"{html.escape(message.get_content())}</pre></body></html>"
        )
        for width in (375, 600):
            page.set_viewport_size({"width": width, "height": 700})
            page.screenshot(
                path=screenshot_dir / f"confirm-email-{language}-{width}.png", full_page=True
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= width
