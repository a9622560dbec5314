"""The public pages speak for the organisation in newsletter.yml (name, logo, readable accent,
address), not NEWSLETTER_FROM's display name; lists show their names and descriptions in the
page's language, and a page offers only the lists of its language."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from mailer.audience.subscribers import ensure_list
from mailer.compose.contrast import contrast_ratio, rgb_of
from mailer.compose.site_profile import read_profile
from mailer.errors import IssueError
from tests.fixtures_web import FIXTURE_ISSUES, make_person
from tests.test_web_consent_text import displayed_consent, stored_texts
from tests.test_web_subscribe import csrf_from, page_lang_from

SITE_YML = """\
organisation: Partnerskapet för social innovation
address: Box 100, 701 00 Örebro
email: info@example.se
phone: 019-10 20 30
logo: assets/logo.png
logo_alt: Partnerskapet
brand_color: "{color}"
lists:
  nyhetsbrev:
    language: sv
    name: Nyhetsbrevet om social innovation
    description: Fyra nummer om året.
  kalender:
    name: {{sv: Kalendariet, da: Kalenderen}}
    description: {{sv: Möten och seminarier., da: Møder og seminarer.}}
  partnere-dk:
    language: da
    name: {{da: Nyhedsbrev for partnere, sv: Nyhetsbrev för danska partner}}
"""


def write_site(newsletters_dir, color: str = "#0f5e6e") -> None:
    (newsletters_dir / "assets").mkdir(exist_ok=True)
    shutil.copy(FIXTURE_ISSUES / "assets" / "logo.png", newsletters_dir / "assets" / "logo.png")
    (newsletters_dir / "newsletter.yml").write_text(SITE_YML.format(color=color), encoding="utf-8")


@pytest.fixture
def site_lists(db, newsletters_dir) -> dict[str, int]:
    write_site(newsletters_dir)
    return {name: ensure_list(db, name) for name in ("nyhetsbrev", "kalender", "partnere-dk")}


@pytest.fixture
def branded_client(web_app, newsletters_dir):
    web_app.config["SETTINGS"] = dataclasses.replace(
        web_app.config["SETTINGS"], from_address="N <n@example.org>"
    )
    write_site(newsletters_dir)
    return web_app.test_client()


def test_every_page_carries_the_organisation_not_the_from_name(branded_client, db, settings):
    person = make_person(db, settings, "anna@example.se")
    for path in (
        "/",
        "/subscribe",
        "/archive/",
        f"/preferences/{person.preferences}",
        f"/unsubscribe/{person.unsubscribe}",
        "/unsubscribe/no-such-token-at-all",
    ):
        page = branded_client.get(path).get_data(as_text=True)
        assert "Partnerskapet för social innovation</span>" in page, path
        assert "Box 100, 701 00 Örebro" in page, path
        assert 'class="brand-logo" src="https://news.example.se/site/logo"' in page, path
        assert "/site.css" in page, path
        assert "<title>" in page and "– N</title>" not in page, path
    logo = branded_client.get("/site/logo")
    try:
        assert logo.status_code == 200 and logo.data.startswith(b"\x89PNG")
    finally:
        logo.close()


def test_the_accent_is_the_brand_colour_made_readable(web_app, newsletters_dir):
    client = web_app.test_client()
    write_site(newsletters_dir, "#0f5e6e")
    css = client.get("/site.css")
    assert css.mimetype == "text/css" and "--accent: #0f5e6e;" in css.get_data(as_text=True)
    write_site(newsletters_dir, "#ffcc00")  # white on yellow does not read: darkened
    accent = read_profile(newsletters_dir).accent
    assert accent != "#ffcc00" and contrast_ratio(rgb_of(accent), (255, 255, 255)) >= 4.5


def test_a_swedish_page_offers_swedish_and_all_language_lists_by_their_names(client, site_lists):
    swedish = client.get("/subscribe?lang=sv").get_data(as_text=True)
    assert "Nyhetsbrevet om social innovation" in swedish and "Kalendariet" in swedish
    assert "Fyra nummer om året." in swedish
    assert 'value="partnere-dk"' not in swedish and "partnere" not in swedish.lower()
    danish = client.get("/subscribe?lang=da").get_data(as_text=True)
    assert "Nyhedsbrev for partnere" in danish and "Kalenderen" in danish
    assert 'value="nyhetsbrev"' not in danish


def test_the_consent_stored_names_the_lists_as_shown(client, db, site_lists, smtp_sink):
    page = client.get("/subscribe?lang=da").get_data(as_text=True)
    shown = displayed_consent(page)
    assert "Nyhedsbrev for partnere" in shown and "Kalenderen" in shown
    answer = client.post(
        "/subscribe",
        data={
            "email": "kim@example.dk",
            "language": "da",
            "lists": ["partnere-dk"],
            "csrf_token": csrf_from(page),
            "page_lang": page_lang_from(page),
        },
    )
    assert answer.status_code == 200
    assert stored_texts(db, "kim@example.dk") == [shown]
    mail = smtp_sink.wait_for(1)[0].get_body(("plain",)).get_content()
    assert "nyhedsbreve fra Partnerskapet för social innovation" in mail
    assert "Det gælder: Nyhedsbrev for partnere." in mail


def test_preferences_show_list_names_in_the_readers_language(client, db, settings, site_lists):
    anna = make_person(db, settings, "anna@example.se", lists=("nyhetsbrev",))
    swedish = client.get(f"/preferences/{anna.preferences}").get_data(as_text=True)
    assert "Nyhetsbrevet om social innovation" in swedish and "Kalendariet" in swedish
    assert 'value="partnere-dk"' not in swedish
    kim = make_person(db, settings, "kim@example.dk", language="da", lists=("partnere-dk",))
    danish = client.get(f"/preferences/{kim.preferences}").get_data(as_text=True)
    assert "Nyhedsbrev for partnere" in danish and "Kalenderen" in danish
    assert 'value="nyhetsbrev"' not in danish  # the Swedish list is not offered to him


def test_a_list_with_an_unknown_language_names_its_line(newsletters_dir):
    (newsletters_dir / "newsletter.yml").write_text(
        "organisation: X\nlists:\n  nyhetsbrev:\n    language: fr\n", encoding="utf-8"
    )
    with pytest.raises(IssueError, match=r"newsletter.yml:3: list 'nyhetsbrev': language 'fr'"):
        read_profile(newsletters_dir)
