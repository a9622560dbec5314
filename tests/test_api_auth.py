"""The JSON API's foundation: tokens (made, listed, revoked, kept hashed), bearer auth only,
failed authentications rate limited, JSON errors, no API in the preview, the laptop client's
one-line errors, and which commands may create a database."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.errors import RemoteError
from mailer.remote.client import ApiClient
from mailer.remote.tokens import create_token, find_token
from tests.fixtures_web import LiveServer


@pytest.fixture
def api_app(web_settings, newsletters_dir, db):
    from mailer.web import create_app

    return create_app(
        web_settings,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False, "RATE_LIMIT_API_AUTH": (3, 600)},
        newsletters_dir=newsletters_dir,
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_create_list_revoke_from_the_cli(run_cli, db):
    made = run_cli("tokens", "create", "anna-laptop")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("nlt_") and len(token) > 40
    stored = db.execute("SELECT token_hash FROM api_tokens").fetchone()[0]
    assert stored == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept
    listed = run_cli("tokens", "list")
    assert "anna-laptop" in listed.stdout and "never used" in listed.stdout
    assert token not in listed.stdout
    again = run_cli("tokens", "create", "anna-laptop")
    assert again.exit_code == 1 and "exists" in again.output
    assert run_cli("tokens", "revoke", "anna-laptop").exit_code == 0
    assert find_token(db, token) is None
    unknown = run_cli("tokens", "revoke", "anna-laptop")
    assert unknown.exit_code == 1 and unknown.output.count("\n") == 1
    bad = run_cli("tokens", "create", "bad name;")
    assert bad.exit_code == 1 and "token name" in bad.output


def test_a_token_works_as_a_bearer_header_only_and_is_touched(api_app, db):
    token = create_token(db, "anna-laptop")
    client = api_app.test_client()
    answer = client.get("/api/v1/whoami", headers=bearer(token))
    assert answer.status_code == 200 and answer.json["token"] == "anna-laptop"
    assert db.execute("SELECT last_used FROM api_tokens").fetchone()[0]
    client.set_cookie("token", token)
    for refused in (
        client.get(f"/api/v1/whoami?token={token}"),
        client.get("/api/v1/whoami", headers={"Authorization": f"Basic {token}"}),
        client.get("/api/v1/whoami", headers={"Authorization": token}),
    ):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json["status"] == 401


def test_failed_authentications_are_rate_limited_per_client(api_app, db):
    token = create_token(db, "anna-laptop")
    client = api_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/whoami", headers=bearer("nlt_guess")).status_code == 401
    limited = client.get("/api/v1/whoami", headers=bearer(token))  # even the right token waits
    assert limited.status_code == 429
    assert 500 < int(limited.headers["Retry-After"]) <= 600
    other = client.get(
        "/api/v1/whoami", headers=bearer(token), environ_base={"REMOTE_ADDR": "127.0.0.2"}
    )
    assert other.status_code == 200  # per client address


def test_api_errors_are_json_and_pages_keep_their_html(api_app, db):
    client = api_app.test_client()
    token = create_token(db, "anna-laptop")
    missing = client.get("/api/v1/no-such-thing", headers=bearer(token))
    assert missing.status_code == 404 and missing.json["error"] == "no such API endpoint"
    assert client.get("/no-such-page").content_type.startswith("text/html")
    library = client.post(
        "/api/v1/subscribers/show", json={"email": "x@y.se"}, headers=bearer(token)
    )
    assert library.status_code == 400 and "x@y.se" in library.json["error"]
    body = client.post("/api/v1/subscribers/show", data="not json", headers=bearer(token))
    assert body.status_code == 400 and "JSON object" in body.json["error"]
    version = client.get("/api/version")
    assert version.json["api"] == 1 and version.json["newsletter"]


def test_the_preview_has_no_api(settings, newsletters_dir):
    from mailer.web import create_app

    issue = newsletters_dir / "2026-1"
    issue.mkdir()
    app = create_app(settings, preview_issue=issue)
    assert app.test_client().get("/api/version").status_code == 404


def test_the_client_names_each_failure_in_one_line(api_app, db, live_port, monkeypatch):
    token = create_token(db, "anna-laptop")
    with LiveServer(api_app, live_port) as server:
        client = ApiClient(server.url, token)
        assert client.call("GET", "/whoami")["token"] == "anna-laptop"
        wrong = ApiClient(server.url, "nlt_wrong")
        for _ in range(3):
            with pytest.raises(RemoteError, match="token refused: wrong or revoked"):
                wrong.call("GET", "/whoami")
        with pytest.raises(RemoteError, match=r"refuses requests from this address for \d+ s"):
            wrong.call("GET", "/whoami")
        with pytest.raises(RemoteError, match="no such API endpoint"):
            client.call("GET", "/nothing-here")
        assert "nlt_" not in repr(client)


def test_a_read_never_creates_a_database_and_a_first_write_may(isolated_env, tmp_path):
    runner = CliRunner()
    env = {"NEWSLETTER_SECRET_KEY": "a-secret-key-0123456789"}
    (isolated_env / "newsletters" / "2026-1").mkdir(parents=True)
    for args in (["subscribers", "list"], ["subscribers", "stats"], ["gdpr", "record"],
                 ["subscribers", "import", "x.csv", "--dry-run"], ["audit"],
                 ["send-status", "newsletters/2026-1"], ["scheduled", "list"],
                 ["scheduled", "cancel", "2026-1"], ["outbox", "run"],
                 ["send", "newsletters/2026-1", "--yes"]):  # fmt: skip
        (isolated_env / "x.csv").write_text("email\na@example.se\n", encoding="utf-8")
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 1, args
        assert "start one with `newsletter subscribers add`" in result.output
        assert "NEWSLETTER_SERVER and NEWSLETTER_API_TOKEN" in result.output
        assert not (isolated_env / "subscribers.db").exists(), args
    added = runner.invoke(cli, ["subscribers", "add", "a@example.se"], env=env)
    assert added.exit_code == 0, added.output
    assert (isolated_env / "subscribers.db").exists()


def test_outside_a_site_folder_nothing_creates_a_database(tmp_path, monkeypatch):
    bare = tmp_path / "bare"
    bare.mkdir()
    monkeypatch.chdir(bare)
    result = CliRunner().invoke(cli, ["subscribers", "add", "a@example.se"])
    assert result.exit_code == 1
    assert "no site folder here" in result.output and "newsletter init" in result.output
    assert list(bare.iterdir()) == []


def test_tokens_are_made_on_the_server_not_the_laptop(isolated_env):
    env = {"NEWSLETTER_SERVER": "https://news.example.org", "NEWSLETTER_API_TOKEN": "nlt_x"}
    result = CliRunner().invoke(cli, ["tokens", "create", "x"], env=env)
    assert result.exit_code == 2 and "on the server" in result.output
    assert not (isolated_env / "subscribers.db").exists()


def test_settings_keep_the_token_out_of_repr(settings):
    with_token = dataclasses.replace(settings, api_token="nlt_secret-value")
    assert "nlt_secret-value" not in repr(with_token)


class Faulty:
    """A stand-in for a server that fails: /api/version answers, then each path misbehaves
    its own way (a 502 page from a proxy, a connection closed mid-answer)."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_GET(self):
                if self.path == "/api/version":
                    body = json.dumps({"api": 1, "newsletter": "0.1.0"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path.endswith("/proxy-error"):
                    self.send_response(502)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "12")
                    self.end_headers()
                    self.wfile.write(b"<h1>502</h1>")
                else:  # promises 1000 bytes, sends 10, hangs up
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"rows": [')
                    self.wfile.flush()
                    self.connection.shutdown(2)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_a_cut_connection_and_a_failing_proxy_are_one_line_each():
    with Faulty() as faulty:
        client = ApiClient(faulty.url, "nlt_x")
        with pytest.raises(RemoteError, match="was cut before the answer was complete"):
            client.call("GET", "/subscribers")
        with pytest.raises(RemoteError, match=r"failed \(HTTP 502\)"):
            client.call("GET", "/proxy-error")
        written = []
        with pytest.raises(RemoteError, match="was cut"):
            client.download("/subscribers/export", write=written.append)
