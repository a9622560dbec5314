"""Headers, links, cookies, language and accessibility rules that hold on every public page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from mailer.errors import ConfigError
from mailer.web.ratelimit import RateLimiter


def public_pages(person, db) -> list[str]:
    from mailer.audience.tokens import issue_token

    download = issue_token(db, "preferences", person.id, scope="export", ttl_seconds=3600)
    erasure = issue_token(db, "preferences", person.id, scope="erase", ttl_seconds=3600)
    return [
        "/",
        "/subscribe",
        "/subscribe/nyhetsbrev",
        "/archive/",
        f"/unsubscribe/{person.unsubscribe}",
        f"/preferences/{person.preferences}",
        f"/preferences/{person.preferences}/erase",  # asks to mail an erasure link
        f"/preferences/{erasure}/erase",  # the mailed erasure link's page: "Erase all ...?"
        f"/preferences/{person.preferences}/export",  # asks to mail a download link
        f"/preferences/{download}/export",  # the mailed download link's page
        "/unsubscribe/unknown-token-unknown-token",
        "/nowhere",
    ]


class PageParser(HTMLParser):
    """Collects what the rules below look at: scripts, handlers, inputs, labels, links."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.inputs: list[dict] = []
        self.labels: set[str] = set()
        self.urls: list[str] = []
        self.html_lang = None
        self.external_loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag == "script" and "src" not in attrs:
            self.inline_scripts += 1
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.inputs.append(attrs)
        if tag == "label" and "for" in attrs:
            self.labels.add(attrs["for"])
        for name in ("href", "src", "action"):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag in ("link", "script", "img") and (attrs.get("href") or attrs.get("src", "")):
            url = attrs.get("href") or attrs.get("src")
            if not url.startswith(("https://news.example.se/", "data:")):
                self.external_loads.append(url)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def test_every_page_sends_the_security_headers(client, db, person):
    for path in public_pages(person, db):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src" not in csp and "unsafe-inline" not in csp, path
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_no_handlers_and_load_nothing_from_elsewhere(
    client, db, person
):
    for path in public_pages(person, db):
        page = parse(client.get(path).get_data(as_text=True))
        assert page.inline_scripts == 0 and page.handlers == [], path
        assert page.external_loads == [], path


def test_every_form_field_has_a_label_and_the_page_a_language(client, db, person):
    for path in public_pages(person, db):
        page = parse(client.get(path).get_data(as_text=True))
        assert page.html_lang in ("sv", "da", "en"), path
        for field in page.inputs:
            if field.get("name") == "website":  # the honeypot, hidden from people
                continue
            if field.get("type") == "checkbox":
                continue  # wrapped in their <label>
            assert field.get("id") in page.labels, (path, field)


def test_links_come_from_the_base_url_never_the_host_header(client, db, person):
    for path in public_pages(person, db):
        html = client.get(path, headers={"Host": "evil.example"}).get_data(as_text=True)
        assert "evil.example" not in html, path
        absolute = [u for u in parse(html).urls if "://" in u]
        assert absolute and all(u.startswith("https://news.example.se/") for u in absolute), path


def test_paths_without_a_trailing_slash_answer_without_a_redirect(client, person):
    for path in ("/archive", "/subscribe/", "//archive/", f"/preferences/{person.preferences}/"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert "Location" not in response.headers, path
        assert response.status_code in (200, 404), path


def test_no_page_redirects_to_a_url_given_in_the_request(client, person):
    for path in ("/subscribe?next=https://evil.example/", "/?redirect=//evil.example"):
        response = client.get(path)
        assert "Location" not in response.headers
        assert "evil.example" not in response.get_data(as_text=True)


def test_pages_without_forms_set_no_cookie(client, person):
    for path in ("/", "/archive/", f"/unsubscribe/{person.unsubscribe}", "/nowhere"):
        assert "Set-Cookie" not in client.get(path).headers, path


def test_wrong_method_gets_an_error_page_not_a_stack_trace(client, person):
    response = client.put(f"/unsubscribe/{person.unsubscribe}")
    assert response.status_code == 405
    assert "Traceback" not in response.get_data(as_text=True)


def test_oversized_post_is_refused(client, person):
    response = client.post(f"/unsubscribe/{person.unsubscribe}", data={"x": "a" * 100_000})
    assert response.status_code == 413


def test_public_app_refuses_to_start_without_a_secret_key(settings):
    import dataclasses

    from mailer.web import create_app

    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET_KEY"):
        create_app(dataclasses.replace(settings, secret_key=""))


def test_rate_limiter_forgets_hits_older_than_its_window():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert [limiter.hit("a"), limiter.hit("a"), limiter.hit("a"), limiter.hit("b")] == [
        True,
        True,
        False,
        True,
    ]
    now[0] = 61.0
    assert limiter.hit("a")


def test_a_failing_request_logs_neither_its_token_nor_the_error_message(
    web_settings, newsletters_dir, db, person, caplog
):
    """A real SQLite failure whose message quotes an address, on a URL holding a token."""
    from mailer.web import create_app

    app = create_app(  # not TESTING: errors are logged and answered, as in production
        web_settings, test_config={"MAIL_IN_BACKGROUND": False}, newsletters_dir=newsletters_dir
    )
    db.execute(
        "CREATE TRIGGER broken BEFORE UPDATE ON subscriptions BEGIN "
        f"SELECT RAISE(ABORT, 'cannot update {person.email}'); END"
    )
    with caplog.at_level("ERROR"):
        response = app.test_client().post(
            f"/unsubscribe/{person.unsubscribe}", data={"List-Unsubscribe": "One-Click"}
        )
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert person.email not in body and "Traceback" not in body
    logged = caplog.text  # messages and any traceback they carry
    assert "/unsubscribe/<token> [POST]: IntegrityError" in logged
    assert person.unsubscribe not in logged and person.email not in logged


HOSTILE = "<script>alert(1)</script>\"&'"


def test_names_titles_and_typed_input_are_escaped_on_every_page(
    web_settings, newsletters_dir, db, lists
):
    """Hostile text in every slot that comes from data: the subscriber's name, list titles, the
    organisation's name, and what was typed into the sign-up form."""
    import dataclasses

    from mailer.web import create_app
    from tests.fixtures_web import make_person
    from tests.test_web_subscribe import csrf_from

    db.execute("UPDATE lists SET title = ?", [f"List {HOSTILE}"])
    person = make_person(db, web_settings, "hostile@example.se", name=f"Name {HOSTILE}")
    hostile_org = dataclasses.replace(
        web_settings, from_address=f'"Org {HOSTILE}" <nyhetsbrev@example.se>'
    )
    app = create_app(hostile_org, test_config={"TESTING": True}, newsletters_dir=newsletters_dir)
    client = app.test_client()
    pages = {path: client.get(path) for path in public_pages(person, db)}
    form = pages["/subscribe"].get_data(as_text=True)
    pages["typed"] = client.post(
        "/subscribe",
        data={
            "email": f"x{HOSTILE}@",
            "name": f"Name {HOSTILE}",
            "lists": ["nyhetsbrev"],
            "csrf_token": csrf_from(form),
        },
    )
    for path, response in pages.items():
        html = response.get_data(as_text=True)
        assert "<script" not in html and "alert(1)</" not in html, path
        assert "\"&'" not in html, path  # quotes and ampersand are entities
    assert "&lt;script&gt;" in pages[f"/preferences/{person.preferences}"].get_data(as_text=True)
    assert "&lt;script&gt;" in pages[f"/unsubscribe/{person.unsubscribe}"].get_data(as_text=True)
    assert "&lt;script&gt;" in pages["typed"].get_data(as_text=True)


def test_a_dkim_key_that_cannot_sign_stops_the_public_app_at_start(
    settings, newsletters_dir, tmp_path
):
    import dataclasses

    from mailer.web import create_app

    key_file = tmp_path / "dkim.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    broken = dataclasses.replace(
        settings, dkim_domain="example.se", dkim_selector="s1", dkim_private_key=str(key_file)
    )
    with pytest.raises(ConfigError, match="DKIM_PRIVATE_KEY"):
        create_app(broken, newsletters_dir=newsletters_dir)


@pytest.mark.parametrize("step", ["export", "erase"])
def test_the_mailed_link_pages_and_mails_use_the_base_url_never_the_host_header(
    client, db, person, smtp_sink, step
):
    """The page after "E-mail me my data" (or "... a link to erase my data") follows the page
    rules, and the link in the mail is built from the base URL: a forged Host must not send the
    person's data or erasure link elsewhere."""
    from tests.test_web_subscribe import csrf_from

    forged = {"Host": "evil.example"}  # on both requests, so the CSRF cookie goes along
    form = client.get(f"/preferences/{person.preferences}/{step}", headers=forged)
    response = client.post(
        f"/preferences/{person.preferences}/{step}",
        data={"csrf_token": csrf_from(form.get_data(as_text=True))},
        headers=forged,
    )
    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    page = parse(html)
    assert page.inline_scripts == 0 and page.handlers == [] and page.external_loads == []
    assert "evil.example" not in html and page.html_lang == "sv"
    (message,) = smtp_sink.wait_for(1)
    body = message.get_body(("plain",)).get_content()
    assert "evil.example" not in body
    assert re.search(rf"\shttps://news\.example\.se/preferences/[\w-]+/{step}\s", body)
