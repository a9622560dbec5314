"""The sign-up form for the organisation's own site (`newsletter form`): accepted only from the
origins in NEWSLETTER_FORM_ORIGINS, only with a solved proof-of-work, the same answer for known
and unknown addresses, and a consent record naming the page and the text the form showed."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
import time

import pytest
from click.testing import CliRunner

from mailer.audience.consent import erase_subscriber
from mailer.audience.subscribers import get_subscriber
from mailer.config import load_settings
from mailer.errors import ConfigError
from mailer.web import create_app
from mailer.web.challenge import SolutionChecker, create_challenge, solve
from tests.conftest import SECRET_KEY
from tests.fixtures_web import LiveServer, free_port, make_person

SITE = "https://www.example.se"
PAGE = f"{SITE}/om-oss/nyhetsbrev"


@pytest.fixture
def form_settings(web_settings):
    return dataclasses.replace(web_settings, form_origins=f"{SITE}, https://intranet.example.se")


@pytest.fixture
def form_app(form_settings, newsletters_dir, db, lists):
    return create_app(
        form_settings,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False},
        newsletters_dir=newsletters_dir,
    )


@pytest.fixture
def form_client(form_app):
    return form_app.test_client()


def snippet_fields(app, list_name="nyhetsbrev", language="sv") -> dict[str, str]:
    """The hidden fields of the snippet `newsletter form` prints (consent fingerprint...)."""
    from mailer.web.embedded_form import make_snippet

    html = make_snippet(app.config["SETTINGS"], list_name, language)
    import re

    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


def solved(client, origin=SITE) -> str:
    answer = client.get("/form/challenge", headers={"Origin": origin})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    return solve(answer.get_json())


def post_form(client, app, *, email="new@example.se", origin=SITE, altcha=None, **extra):
    fields = snippet_fields(app)
    fields |= {"email": email, "name": "Nya Läsaren", "page": PAGE}
    fields["altcha"] = solved(client) if altcha is None else altcha
    fields |= extra
    return client.post("/form/subscribe", data=fields, headers={"Origin": origin})


def queued_signups(db) -> list[str]:
    """Sign-ups waiting in the outbox, and those it made (people the form brought in)."""
    waiting = [r[0] for r in db.execute("SELECT recipient FROM service_mail WHERE kind = 'signup'")]
    made = [
        r[0]
        for r in db.execute(
            "SELECT email FROM subscribers WHERE email LIKE '%@example.se'"
            " AND email NOT IN ('active@example.se', 'erased@example.se')"
        )
    ]
    return waiting + made


def test_a_form_from_an_allowed_site_signs_up_pending_with_the_page_in_the_record(
    form_client, form_app, db, smtp_sink
):
    answer = post_form(form_client, form_app)
    assert answer.status_code == 200
    person = get_subscriber(db, "new@example.se")
    assert person["subscriptions"] == {"nyhetsbrev": "pending"}
    channel, source, text = db.execute(
        "SELECT log.channel, log.source, texts.body FROM consent_log log "
        "JOIN consent_texts texts ON texts.id = log.consent_text_id WHERE subscriber_id = ?",
        [person["id"]],
    ).fetchone()
    assert (channel, source) == ("web-form", PAGE)
    from mailer.web.embedded_form import make_snippet

    assert text in make_snippet(form_app.config["SETTINGS"], "nyhetsbrev", "sv")  # as shown
    (message,) = smtp_sink.wait_for(1)
    assert "/confirm/" in message.get_body(("plain",)).get_content()  # double opt-in


def test_a_form_from_another_site_is_refused_and_nothing_is_queued(form_client, form_app, db):
    assert (
        form_client.get("/form/challenge", headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    challenge = solved(form_client)
    answer = post_form(form_client, form_app, origin="https://evil.example", altcha=challenge)
    assert answer.status_code == 403
    no_origin = form_client.post("/form/subscribe", data={"email": "x@example.se"})
    assert no_origin.status_code == 403
    assert queued_signups(db) == []


@pytest.mark.parametrize("altcha", ["", "bm90IGpzb24=", "forged"])
def test_a_form_without_the_proof_of_work_is_refused(form_client, form_app, db, altcha):
    answer = post_form(form_client, form_app, altcha=altcha)
    assert answer.status_code == 400
    assert queued_signups(db) == []


def test_a_solution_works_once_and_a_self_made_challenge_not_at_all(form_client, form_app, db):
    solution = solved(form_client)
    assert post_form(form_client, form_app, altcha=solution).status_code == 200
    again = post_form(form_client, form_app, email="second@example.se", altcha=solution)
    assert again.status_code == 400
    forged = create_challenge("another servers secret key 0123456789", max_number=10)
    assert post_form(form_client, form_app, altcha=solve(forged)).status_code == 400
    assert len(queued_signups(db)) == 1


def test_an_expired_solution_is_refused():
    challenge = create_challenge(SECRET_KEY, now=time.time() - 3600, max_number=10)
    assert not SolutionChecker(SECRET_KEY).verify(solve(challenge))
    fresh = create_challenge(SECRET_KEY, max_number=10)
    assert SolutionChecker(SECRET_KEY).verify(solve(fresh))


def test_known_and_unknown_addresses_get_identical_answers(form_client, form_app, db, web_settings):
    active = make_person(db, web_settings, "active@example.se")
    erased = make_person(db, web_settings, "erased@example.se")
    erase_subscriber(db, web_settings, erased.id)

    def answer(email):
        response = post_form(form_client, form_app, email=email)
        page = response.get_data(as_text=True).replace(email, "ADDRESS")
        return response.status_code, page, tuple(sorted(response.headers.keys()))

    answers = {answer(e) for e in ("brand-new@example.se", active.email, "erased@example.se")}
    assert len(answers) == 1
    assert next(iter(answers))[0] == 200


def test_the_honeypot_gets_the_normal_answer_and_queues_nothing(form_client, form_app, db):
    answer = post_form(form_client, form_app, website="https://spam.example")
    assert answer.status_code == 200
    assert queued_signups(db) == []


def test_a_thank_you_page_on_an_allowed_site_is_where_the_person_lands(form_client, form_app, db):
    thanks = f"{SITE}/tack"
    answer = post_form(form_client, form_app, thanks=thanks)
    assert answer.status_code == 303 and answer.headers["Location"] == thanks
    elsewhere = post_form(
        form_client, form_app, email="b@example.se", thanks="https://evil.example/x"
    )
    assert elsewhere.status_code == 200  # our own page, never an open redirect
    assert "evil.example" not in elsewhere.headers.get("Location", "")


def test_a_form_made_before_the_list_was_renamed_is_refused(form_client, form_app, db):
    fields = snippet_fields(form_app)
    db.execute("UPDATE lists SET title = 'Ett nytt namn' WHERE name = 'nyhetsbrev'")
    db.conn.commit()
    fields |= {"email": "x@example.se", "altcha": solved(form_client)}
    answer = form_client.post("/form/subscribe", data=fields, headers={"Origin": SITE})
    assert answer.status_code == 400
    assert queued_signups(db) == []


def test_the_json_variant_answers_with_cors_and_the_same_words_for_everyone(
    form_client, form_app, db, web_settings
):
    preflight = form_client.options(
        "/form/subscribe",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SITE
    make_person(db, web_settings, "active@example.se")
    replies = []
    for email in ("new@example.se", "active@example.se"):
        payload = snippet_fields(form_app) | {"email": email, "altcha": solved(form_client)}
        answer = form_client.post("/form/subscribe", json=payload, headers={"Origin": SITE})
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == SITE
        replies.append(answer.get_json())
    assert replies[0] == replies[1] and replies[0]["ok"] is True


def test_the_script_may_be_loaded_by_the_organisations_pages(form_client):
    with form_client.get("/form/form.js") as answer:
        assert answer.status_code == 200
        assert answer.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert "function sha256hex" in answer.get_data(as_text=True)


def test_newsletter_form_prints_the_snippet_and_refuses_without_origins(
    tmp_path, monkeypatch, db, lists, settings
):
    from cli import cli

    env = {
        "NEWSLETTER_DB": str(settings.db_path),
        "NEWSLETTER_SECRET_KEY": SECRET_KEY,
        "NEWSLETTER_BASE_URL": "https://news.example.se",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    refused = CliRunner().invoke(cli, ["form"])
    assert refused.exit_code != 0 and "NEWSLETTER_FORM_ORIGINS" in refused.output
    monkeypatch.setenv("NEWSLETTER_FORM_ORIGINS", SITE)
    result = CliRunner().invoke(cli, ["form", "--list", "kalender", "--language", "en"])
    assert result.exit_code == 0, result.output
    assert 'action="https://news.example.se/form/subscribe"' in result.output
    assert '<script src="https://news.example.se/form/form.js" defer>' in result.output
    assert "Kalendariet" in result.output and "E-mail address" in result.output
    unknown = CliRunner().invoke(cli, ["form", "--list", "nosuchlist"])
    assert unknown.exit_code != 0 and "nosuchlist" in unknown.output
    assert "Traceback" not in unknown.output


@pytest.mark.parametrize("value", ["www.example.se", "https://www.example.se/page", "ftp://x.se"])
def test_form_origins_must_be_origins(value):
    with pytest.raises(ConfigError, match="NEWSLETTER_FORM_ORIGINS"):
        load_settings({"form_origins": value}, env_file=None, environ={})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.browser
def test_the_snippet_works_in_a_real_browser_from_a_second_origin(
    browser, web_settings, newsletters_dir, db, lists, tmp_path, smtp_sink
):
    """The organisation's page on one local origin, the newsletter server on another: the
    browser fetches the challenge, solves it, posts; the person is pending, the record names
    the page. Without the allowed origin the same page gets nowhere."""
    site_port, server_port = free_port(), free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    settings = dataclasses.replace(
        web_settings, base_url=f"http://127.0.0.1:{server_port}", form_origins=site_origin
    )
    app = create_app(
        settings, test_config={"MAIL_IN_BACKGROUND": False}, newsletters_dir=newsletters_dir
    )
    from mailer.web.embedded_form import make_snippet

    snippet = make_snippet(settings, "nyhetsbrev", "sv")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(
        f"<!doctype html><html lang=sv><meta charset=utf-8><title>Om oss</title>"
        f"<h1>Vårt nyhetsbrev</h1>{snippet}</html>",
        encoding="utf-8",
    )
    handler = functools.partial(_QuietHandler, directory=str(tmp_path / "site"))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    page = browser.new_page()
    try:
        with LiveServer(app, server_port):
            page.goto(f"{site_origin}/index.html")
            page.fill("#nl-email", "webbsida@example.se")
            started = time.monotonic()
            with page.expect_navigation(url=f"http://127.0.0.1:{server_port}/form/subscribe"):
                page.click("button[type=submit]")
            seconds = time.monotonic() - started
            page.screenshot(path=str(tmp_path / "thanks.png"))
            assert "inkorg" in page.content()
        print(f"challenge fetched, solved and posted in {seconds:.2f} s")
    finally:
        page.close()
        site.shutdown()
        site.server_close()
    person = get_subscriber(db, "webbsida@example.se")
    assert person["subscriptions"] == {"nyhetsbrev": "pending"}
    source = db.execute(
        "SELECT source FROM consent_log WHERE subscriber_id = ?", [person["id"]]
    ).fetchone()[0]
    assert source == f"{site_origin}/index.html"
