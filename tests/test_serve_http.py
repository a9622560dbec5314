"""`newsletter serve` as a real process on 127.0.0.1, spoken to over HTTP with urllib."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest

from mailer.config import ENV_NAMES, load_settings
from mailer.store.db import open_db
from tests.fixtures_web import (
    PROJECT_ROOT,
    consent_events,
    free_port,
    make_person,
    mark_sent,
    statuses,
    stop_process,
    wait_for_port,
)

pytestmark = pytest.mark.slow


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url, data=None, headers=None, method=None):
    """(status, headers, body) without following redirects; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory, built_examples):
    import shutil

    folder = tmp_path_factory.mktemp("serve")
    shutil.copytree(built_examples, folder / "newsletters")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NEWSLETTER_DB=str(folder / "subscribers.db"),
        NEWSLETTER_SECRET_KEY="serve-test-secret-0123456789",
        NEWSLETTER_BASE_URL=base_url,
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(free_port()),
        SMTP_SECURITY="none",
    )
    settings = load_settings({}, env_file=None, environ=env)
    db = open_db(settings.db_path)
    from mailer.audience.subscribers import ensure_list

    ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
    slug = sorted(p.parent.name for p in (folder / "newsletters").glob("*/issue.md"))[0]
    mark_sent(db, slug)
    process = subprocess.Popen(
        [
            sys.executable,
            str(PROJECT_ROOT / "cli.py"),
            "serve",
            "--port",
            str(port),
            "--trusted-proxy",
            "127.0.0.1",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, process)
        yield {"url": base_url, "db": db, "settings": settings, "slug": slug}
    finally:
        stop_process(process)
        db.close()


@pytest.fixture
def someone(server):
    email = f"p{uuid.uuid4().hex[:10]}@example.se"
    return make_person(server["db"], server["settings"], email)


def test_archive_is_served_over_http_with_security_headers(server):
    status, headers, body = fetch(server["url"] + "/archive/")
    assert status == 200
    assert f"/archive/{server['slug']}/" in body
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"


def test_archived_issue_and_its_images_load_over_http(server):
    status, _, body = fetch(f"{server['url']}/archive/{server['slug']}/")
    assert status == 200
    images = sorted(set(part.split('"')[0] for part in body.split('src="')[1:]))
    built_for = "https://news.example.se"  # the base URL the examples were built with
    own = [
        server["url"] + src.removeprefix(built_for) for src in images if src.startswith(built_for)
    ]
    assert own
    assert all(fetch(src)[0] == 200 for src in own)


def test_one_click_urlencoded_post_over_http_answers_200_and_unsubscribes(server, someone):
    url = f"{server['url']}/unsubscribe/{someone.unsubscribe}"
    body = b"List-Unsubscribe=One-Click"
    for _ in range(2):  # repeating is harmless
        status, headers, _ = fetch(
            url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 200 and "Location" not in headers
    assert statuses(server["db"], someone.id)["nyhetsbrev"] == "unsubscribed"


def test_one_click_multipart_post_over_http_unsubscribes(server, someone):
    boundary = "----newsletter-test"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    ).encode()
    status, _, _ = fetch(
        f"{server['url']}/unsubscribe/{someone.unsubscribe}",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200
    assert statuses(server["db"], someone.id)["nyhetsbrev"] == "unsubscribed"


def test_unsubscribe_get_over_http_changes_nothing(server, someone):
    status, _, body = fetch(f"{server['url']}/unsubscribe/{someone.unsubscribe}")
    assert status == 200 and "Nyhetsbrevet" in body
    assert statuses(server["db"], someone.id)["nyhetsbrev"] == "active"


def test_forged_host_header_does_not_reach_the_page(server):
    status, _, body = fetch(server["url"] + "/subscribe", headers={"Host": "evil.example"})
    assert status == 200
    assert "evil.example" not in body and server["url"] + "/subscribe" in body


def test_subscribe_post_without_csrf_is_refused_over_http(server):
    form = b"email=a%40example.se&lists=nyhetsbrev"
    status, _, _ = fetch(server["url"] + "/subscribe", data=form)
    assert status == 400


def test_bad_token_over_http_is_the_generic_404(server):
    status, _, body = fetch(server["url"] + "/preferences/" + "q" * 43)
    assert status == 404 and "Traceback" not in body


def test_client_address_comes_from_the_trusted_proxy_header(server, someone):
    status, _, _ = fetch(
        f"{server['url']}/unsubscribe/{someone.unsubscribe}",
        data=b"action=unsubscribe",
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert status == 200
    (event,) = [e for e in consent_events(server["db"], someone.id) if e["action"] == "unsubscribe"]
    assert event["ip"] == "203.0.113.9"
