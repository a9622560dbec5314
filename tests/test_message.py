"""Each recipient's message: structure, headers, encoding, personalisation, DKIM."""

from __future__ import annotations

import binascii
import email
import email.policy
import re

import dkim
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mailer.compose.personalize import load_built
from mailer.config import load_settings
from mailer.delivery.dkim import DkimSigner
from mailer.delivery.message import (
    EncodedTemplate,
    HeaderError,
    MessageFactory,
    RecipientValues,
    build_message,
    delivery_message_id,
)

UNSUB = "https://news.example.se/unsubscribe/" + "T" * 43
PREFS = "https://news.example.se/preferences/" + "P" * 43


def values(name="Åsa Öberg", address="asa@example.org"):
    return RecipientValues(address, name, UNSUB, PREFS)


@pytest.fixture
def built(built_example):
    return load_built(built_example)


def make(built, settings, recipient=None, **kwargs):
    return build_message(
        built,
        settings,
        recipient or values(),
        list_name="nyhetsbrev",
        message_id="<2018-2.abc@example.se>",
        **kwargs,
    )


def test_message_is_multipart_alternative_with_text_first_then_html(built, settings):
    message = make(built, settings)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert UNSUB in parts[0].get_content()
    assert "<html" in parts[1].get_content().lower()


def test_swedish_names_in_headers_are_encoded_and_decode_back(built, settings):
    message = make(built, settings, values(name="Åsa Öberg-Långström"))
    raw = message.as_bytes()
    assert raw.isascii()  # every header encoded for transport
    assert message["From"].addresses[0].display_name == "Region Örebro län"
    assert message["From"].addresses[0].addr_spec == "nyhetsbrev@example.se"
    assert message["To"].addresses[0].display_name == "Åsa Öberg-Långström"
    assert message["Subject"] == built.meta["subject"]
    assert "=?utf-8?" in message.as_string().split("\n\n")[0]


def test_required_headers_are_present(built, settings):
    message = make(built, settings)
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "MIME-Version"):
        assert message[name], name
    assert message["Message-ID"] == "<2018-2.abc@example.se>"
    assert message["List-Id"].endswith("<nyhetsbrev.example.se>")
    assert "Reply-To" not in message


def test_reply_to_comes_from_settings(built, settings):
    with_reply = load_settings(
        {**_base(settings), "reply_to": "Kansliet <kansli@example.se>"}, env_file=None, environ={}
    )
    assert make(built, with_reply)["Reply-To"] == "Kansliet <kansli@example.se>"


def _base(settings):
    return {
        "db_path": settings.db_path,
        "secret_key": settings.secret_key,
        "from_address": settings.from_address,
        "base_url": settings.base_url,
    }


def test_list_unsubscribe_holds_one_https_link_and_the_one_click_header(built, settings):
    message = make(built, settings)
    assert message["List-Unsubscribe"] == f"<{UNSUB}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_list_unsubscribe_adds_mailto_when_configured(built, settings):
    configured = load_settings(
        {**_base(settings), "unsubscribe_mailto": "avregistrera@example.se"},
        env_file=None,
        environ={},
    )
    header = make(built, configured)["List-Unsubscribe"]
    links = re.findall(r"<([^>]+)>", header)
    assert links == [UNSUB, "mailto:avregistrera@example.se?subject=unsubscribe"]


def test_personal_links_and_name_are_filled_into_both_parts(built, settings):
    message = make(built, settings)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert UNSUB in text and UNSUB in html
    assert PREFS in html
    assert "%%" not in text and "%%" not in html


def test_html_part_escapes_the_recipient_name_and_text_part_does_not(built, settings):
    message = make(built, settings, values(name='<b>Anna</b> & "Co"'))
    assert message["To"].addresses[0].display_name == '<b>Anna</b> & "Co"'
    html = EncodedTemplate("<p>Hej %%name|vän%%!</p>", escape_html=True)
    text = EncodedTemplate("Hej %%name|vän%%!", escape_html=False)
    filled = {"name": "<b>Anna</b>"}
    assert b"&lt;b&gt;Anna&lt;/b&gt;" in html.render(filled)
    assert b"<b>Anna</b>" in text.render(filled)
    assert b"Hej=20v=C3=A4n!" in html.render({"name": ""}).replace(b"=\r\n", b"")


@pytest.mark.parametrize(
    "name",
    ["Evil\r\nBcc: victim@example.org", "Trailing newline\n", "Tab\x0bchar", "Line\u2028sep"],
)
def test_line_breaks_in_header_values_are_refused(built, settings, name):
    with pytest.raises(HeaderError):
        make(built, settings, values(name=name))


def test_line_break_in_the_subject_is_refused(built, settings):
    built.meta["subject"] = "Nyhetsbrev\r\nBcc: victim@example.org"
    with pytest.raises(HeaderError):
        MessageFactory(built, settings, list_name="nyhetsbrev")


def test_test_copy_subject_is_marked(built, settings):
    message = make(built, settings, test=True)
    assert message["Subject"] == "[TEST] " + built.meta["subject"]


def test_message_id_is_stable_per_issue_and_subscriber_and_hides_the_address():
    first = delivery_message_id("k" * 20, "2018-2", 7, "example.se")
    assert first == delivery_message_id("k" * 20, "2018-2", 7, "example.se")
    assert first != delivery_message_id("k" * 20, "2018-2", 8, "example.se")
    assert first != delivery_message_id("k" * 20, "2018-3", 7, "example.se")
    assert re.fullmatch(r"<2018-2\.[0-9a-f]{32}@example\.se>", first)


def test_lines_are_crlf_and_at_most_76_characters_in_the_body(built, settings):
    factory = MessageFactory(built, settings, list_name="nyhetsbrev")
    data = factory.render(values(name="Å" * 120), message_id="<x@example.se>")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert max(len(line) for line in head.split(b"\r\n")) <= 998


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(st.characters(blacklist_categories=("Cs",)), max_size=120),
    address=st.emails(),
)
def test_encoded_parts_decode_to_exactly_what_template_fill_gives(built, name, address):
    recipient = {"name": name, "email": address, "unsubscribe_url": UNSUB, "preferences_url": PREFS}
    for template, escape_html in ((built.html, True), (built.text, False)):
        encoded = EncodedTemplate(template.source, escape_html=escape_html).render(recipient)
        assert max(len(line) for line in encoded.split(b"\r\n")) <= 76
        decoded = binascii.a2b_qp(encoded.replace(b"\r\n", b"\n")).decode("utf-8")
        expected = template.fill(recipient).replace("\r\n", "\n").replace("\r", "\n")
        assert decoded.rstrip("\n") == expected.rstrip("\n")


def test_dkim_signature_covers_both_unsubscribe_headers_and_verifies(built, settings, dkim_keys):
    private, txt_record = dkim_keys
    signer = DkimSigner("example.se", "nyhetsbrev", private)
    factory = MessageFactory(built, settings, list_name="nyhetsbrev")
    signed = signer.sign(factory.render(values(), message_id="<x@example.se>"))
    message = email.message_from_bytes(signed, policy=email.policy.default)
    tags = dict(
        part.strip().split("=", 1) for part in str(message["DKIM-Signature"]).split(";") if part
    )
    signed_headers = {h.strip().lower() for h in re.sub(r"\s", "", tags["h"]).split(":")}
    assert {"from", "list-unsubscribe", "list-unsubscribe-post"} <= signed_headers

    def dnsfunc(name, timeout=5):
        assert name == b"nyhetsbrev._domainkey.example.se."
        return txt_record

    assert dkim.verify(signed, dnsfunc=dnsfunc)
    tampered = signed.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"")
    assert not dkim.verify(tampered, dnsfunc=dnsfunc)
