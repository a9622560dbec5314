"""One list, two machines: a "server" site running `newsletter serve` on 127.0.0.1 and a
"laptop" folder with no database driving its list through the JSON API (issue 19).

The server is a real `newsletter serve` process; the laptop runs the real CLI (CliRunner) in
the test's own folder with NEWSLETTER_SERVER and NEWSLETTER_API_TOKEN set.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.config import ENV_NAMES, load_settings
from mailer.errors import ConfigError
from mailer.remote.client import TOKEN_REFUSED
from mailer.store.db import open_db
from tests.fixtures_bounces import sample
from tests.fixtures_web import PROJECT_ROOT, free_port, stop_process, wait_for_port

pytestmark = pytest.mark.slow

SECRET = "remote-test-secret-0123456789"
FROM = "Region Örebro län <nyhetsbrev@example.se>"


def server_env(folder, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NEWSLETTER_DB=str(folder / "subscribers.db"),
        NEWSLETTER_SECRET_KEY=SECRET,
        NEWSLETTER_BASE_URL=f"http://127.0.0.1:{port}",
        NEWSLETTER_FROM=FROM,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(free_port()),
        SMTP_SECURITY="none",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


def on_server(server, *args, input=None):
    """A command run in the server's site folder (as its administrator would)."""
    old = os.getcwd()
    os.chdir(server["folder"])
    try:
        return CliRunner().invoke(cli, list(args), env=server["env"], input=input)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`newsletter serve` in its own site folder, with one token made by `tokens create`."""
    folder = tmp_path_factory.mktemp("server-site")
    (folder / "newsletters").mkdir()
    port = free_port()
    env = server_env(folder, port)
    info = {"folder": folder, "env": env, "url": f"http://127.0.0.1:{port}", "port": port}
    made = on_server(info, "tokens", "create", "anna-laptop")
    assert made.exit_code == 0, made.output
    info["token"] = made.stdout.strip()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        info["db"] = open_db(folder / "subscribers.db")
        yield info
    finally:
        stop_process(process)
        log.close()
    # the token never reached the server's log
    assert info["token"] not in (folder / "serve.log").read_text(errors="replace")


@pytest.fixture
def laptop(server, isolated_env):
    """Run the CLI in the laptop folder (the test's own, no database) against the server."""

    def run(*args, input=None, token=None, url=None, extra=None):
        env = {
            "NEWSLETTER_SERVER": url or server["url"],
            "NEWSLETTER_API_TOKEN": server["token"] if token is None else token,
            **(extra or {}),
        }
        return CliRunner().invoke(cli, list(args), env=env, input=input)

    yield run
    assert not (isolated_env / "subscribers.db").exists()  # the laptop never holds the list


def count_people(server) -> int:
    return server["db"].execute("SELECT count(*) FROM subscribers").fetchone()[0]


def write_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "language"])
        writer.writerows(rows)
    return path


def test_import_from_the_laptop_gives_the_local_row_report(server, laptop, isolated_env, tmp_path):
    people = [(f"imp{i}@example.se", f"Person {i}", "sv") for i in range(3)]
    members = write_csv(isolated_env / "members.csv", people)
    result = laptop("subscribers", "import", str(members), "--source", "register 2026")
    assert result.exit_code == 0, result.output
    # the same file imported locally into a fresh database prints the same report
    local = CliRunner().invoke(
        cli,
        [
            "--db",
            str(tmp_path / "local.db"),
            "subscribers",
            "import",
            str(members),
            "--source",
            "register 2026",
        ],
        env={"NEWSLETTER_SECRET_KEY": SECRET},
    )
    assert local.exit_code == 0, local.output
    assert result.stdout == local.stdout
    assert "3 new people" in result.stdout
    emails = {row[0] for row in server["db"].execute("SELECT email FROM subscribers")}
    assert {p[0] for p in people} <= emails
    # a second import changes nothing and says so, as locally
    again = laptop("subscribers", "import", str(members))
    assert "0 new people" in again.stdout and "3 already subscribed" in again.stdout
    audit = on_server(server, "audit", "--token", "anna-laptop")
    assert "subscribers import  (0 invalid, 3 new people, 3 new subscriptions, 3 rows)" in (
        audit.output
    )
    assert "imp0@example.se" not in audit.output  # the audit names no one


def test_dry_run_and_skip_invalid_come_back_with_the_rejected_rows(server, laptop, isolated_env):
    rows = [("skip1@example.se", "Ett", "sv"), ("not-an-address", "Två", "sv")]
    members = write_csv(isolated_env / "mixed.csv", rows)
    before = count_people(server)
    refused = laptop("subscribers", "import", str(members))
    assert refused.exit_code == 1
    assert "mixed.csv, row 3" in refused.output and "nothing was imported" in refused.output
    dry = laptop("subscribers", "import", str(members), "--dry-run", "--skip-invalid")
    assert dry.exit_code == 0 and "would import" in dry.stdout
    assert count_people(server) == before
    assert not (isolated_env / "mixed.rejected.csv").exists()
    done = laptop("subscribers", "import", str(members), "--skip-invalid")
    assert done.exit_code == 0, done.output
    rejected = (isolated_env / "mixed.rejected.csv").read_text(encoding="utf-8")
    assert "not-an-address" in rejected and "reason" in rejected.splitlines()[0]
    assert f"written to {isolated_env / 'mixed.rejected.csv'}" in done.stdout
    assert count_people(server) == before + 1


def test_the_list_commands_act_on_the_servers_list(server, laptop):
    email = "lista@example.se"
    added = laptop("subscribers", "add", email, "--name", "Lisa Andersson", "--source", "fair")
    assert added.exit_code == 0, added.output
    listed = laptop("subscribers", "list", "--status", "active")
    assert f"{email}\tLisa Andersson\tsv\tnyhetsbrev\tactive" in listed.stdout
    assert (
        laptop("subscribers", "set", email, "län=Örebro").stdout.strip() == f"{email}: län=Örebro"
    )
    shown = laptop("subscribers", "show", email, "--json")
    assert json.loads(shown.stdout)["fields"] == {"län": "Örebro"}
    assert "Lisa Andersson" in laptop("subscribers", "show", email).stdout
    exported = laptop("subscribers", "export", "--format", "csv")
    assert exported.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert email in {row["email"] for row in rows}
    assert f"{len(rows)} subscriptions exported" in exported.stderr
    stats = laptop("subscribers", "stats")
    assert stats.exit_code == 0 and "nyhetsbrev:" in stats.stdout
    lists = laptop("subscribers", "lists", "nyhetsbrev", "--title", "Nyhetsbrevet")
    assert "'Nyhetsbrevet'" in lists.stdout
    assert "Unsubscribed from nyhetsbrev." in laptop("subscribers", "unsubscribe", email).stdout
    status = (
        server["db"]
        .execute(
            "SELECT sub.status FROM subscriptions sub JOIN subscribers s "
            "ON s.id = sub.subscriber_id WHERE s.email = ?",
            [email],
        )
        .fetchone()[0]
    )
    assert status == "unsubscribed"
    reactivated = laptop("subscribers", "reactivate", email)
    assert "Nothing to change" in reactivated.stdout  # she unsubscribed herself: not reactivated
    # erase asks on the laptop, as locally; "no" leaves her be
    kept = laptop("subscribers", "erase", email, input="n\n")
    assert kept.exit_code == 1 and count_people_with(server, email) == 1
    erased = laptop("subscribers", "erase", email, input="y\n")
    assert erased.exit_code == 0 and "Erased" in erased.stdout
    assert count_people_with(server, email) == 0
    gone = laptop("subscribers", "show", email)
    assert gone.exit_code == 1 and gone.output.count("\n") == 1
    purged = laptop("subscribers", "purge", "--older-than", "14")
    assert purged.stdout.startswith("Purged 0 unconfirmed sign-ups")
    log = on_server(server, "audit").output
    assert "subscribers purge  (0 subscribers, 0 subscriptions, 0 tokens)" in log
    for action in ("subscribers add  (1 requests)", "subscribers set  (1 fields)",
                   "subscribers unsubscribe  (1 subscriptions)", "subscribers erase  (1 people)",
                   "subscribers lists  (1 lists)"):  # fmt: skip
        assert action in log


def count_people_with(server, email: str) -> int:
    return (
        server["db"]
        .execute("SELECT count(*) FROM subscribers WHERE email = ?", [email])
        .fetchone()[0]
    )


def test_bounces_import_uploads_the_files_and_reports_as_locally(server, laptop, isolated_env):
    report = isolated_env / "returned.eml"
    report.write_bytes(
        sample(
            "dsn-hard.eml",
            recipient="someone@example.org",
            message_id="<x@example.se>",
            return_path="bounces@example.se",
        )
    )
    remote = laptop("bounces", "import", str(report), "--dry-run")
    assert remote.exit_code == 0, remote.output
    local_db = isolated_env.parent / "bounces-local.db"
    open_db(local_db).close()
    local = CliRunner().invoke(
        cli,
        ["--db", str(local_db), "bounces", "import", str(report), "--dry-run"],
        env={"NEWSLETTER_SECRET_KEY": SECRET},
    )
    assert remote.stdout == local.stdout
    assert str(report) in remote.stdout  # labelled with the laptop's path
    recorded = laptop("bounces", "import", str(report))
    assert recorded.exit_code == 0 and "1 messages read" in recorded.stdout
    assert "bounces import  (0 complaints, 0 ended, 0 hard, 1 read, 0 soft)" in (
        on_server(server, "audit").output
    )


def test_bounces_fetch_is_asked_of_the_servers_mailbox(server, laptop, tmp_path):
    remote = laptop("bounces", "fetch", "--dry-run")
    local_db = tmp_path / "local.db"
    open_db(local_db).close()
    local = CliRunner().invoke(
        cli,
        ["--db", str(local_db), "bounces", "fetch", "--dry-run"],
        env={"NEWSLETTER_SECRET_KEY": SECRET},
    )
    assert remote.exit_code == local.exit_code == 1
    assert remote.output == local.output  # the server has no mailbox set either: same line
    assert "BOUNCE_IMAP" in remote.output


def test_gdpr_record_comes_from_the_server(server, laptop):
    result = laptop("gdpr", "record")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("#") and "`subscribers`" in result.stdout
    assert server["token"] not in result.stdout


def test_wrong_revoked_or_missing_token_is_one_line_and_changes_nothing(server, laptop):
    before = count_people(server)
    wrong = laptop("subscribers", "add", "x1@example.se", token="nlt_wrong")
    assert wrong.exit_code == 1
    assert wrong.output == f"Error: {TOKEN_REFUSED}\n"
    made = on_server(server, "tokens", "create", "short-lived")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert laptop("subscribers", "stats", token=token).exit_code == 0
    listed = on_server(server, "tokens", "list").output
    assert "short-lived" in listed and token not in listed
    assert on_server(server, "tokens", "revoke", "short-lived").exit_code == 0
    revoked = laptop("subscribers", "add", "x2@example.se", token=token)
    assert revoked.exit_code == 1 and revoked.output == f"Error: {TOKEN_REFUSED}\n"
    missing = laptop("subscribers", "stats", token="")
    assert missing.exit_code == 1 and "NEWSLETTER_API_TOKEN is not set" in missing.output
    # the API itself: no header, a token in the query or a cookie is no token
    for url, headers in (
        ("/api/v1/whoami", {}),
        (f"/api/v1/whoami?token={server['token']}", {}),
        ("/api/v1/whoami", {"Cookie": f"token={server['token']}"}),
    ):
        request = urllib.request.Request(server["url"] + url, headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        assert json.loads(refused.value.read())["status"] == 401
    assert count_people(server) == before


def test_config_names_the_server_and_the_token_never_its_value(server, laptop):
    shown = laptop("config")
    assert f"Server:         {server['url']} (token 'anna-laptop'" in shown.stdout
    assert server["token"] not in shown.output


def test_server_unreachable_names_host_and_port(laptop):
    port = free_port()
    result = laptop("subscribers", "list", url=f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert f"cannot reach the server at 127.0.0.1:{port}" in result.output
    assert result.output.count("\n") == 1


def test_a_version_mismatch_names_both_versions(server, laptop, monkeypatch):
    monkeypatch.setattr("mailer.remote.client.API_VERSION", 2)
    result = laptop("subscribers", "stats")
    assert result.exit_code == 1
    assert "speaks API version 1" in result.output and "this computer version 2" in result.output
    assert "upgrade newsletter on the server" in result.output


def test_plain_http_to_another_host_is_refused():
    with pytest.raises(ConfigError, match="plain http://"):
        load_settings({"server_url": "http://news.example.org"}, env_file=None, environ={})
    for fine in ("https://news.example.org", "http://127.0.0.1:8000", "http://localhost:8000",
                 "http://[::1]:8000"):  # fmt: skip
        assert load_settings({"server_url": fine}, env_file=None, environ={}).server_url == fine
    result = CliRunner().invoke(
        cli, ["subscribers", "list"], env={"NEWSLETTER_SERVER": "http://10.0.0.5"}
    )
    assert result.exit_code == 1 and "plain http://" in result.output


def test_over_https_through_nginx_trusting_the_servers_ca(server, laptop, isolated_env, tmp_path,
                                                          certificate):  # fmt: skip
    """docs/nginx.conf with a self-signed certificate in front of serve; the laptop trusts it
    through REQUESTS_CA_BUNDLE, uploads an import bigger than the pages' 64 KB, and nginx's
    access log never holds the token."""
    import time

    from tests.test_nginx_conf import NGINX, local_copy

    cert, key = certificate
    http_port, https_port = free_port(), free_port()
    main = local_copy(tmp_path, cert, key, http_port, https_port, server["port"])
    proxy = subprocess.Popen(
        [NGINX, "-c", str(main), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"https://127.0.0.1:{https_port}"
    try:
        for _ in range(100):  # at most ~10 s for nginx to listen
            untrusted = laptop("subscribers", "stats", url=url)
            if "cannot reach" not in untrusted.output:
                break
            time.sleep(0.1)
        assert untrusted.exit_code == 1
        assert "TLS certificate is not trusted" in untrusted.output
        assert "REQUESTS_CA_BUNDLE" in untrusted.output
        trusted = {"REQUESTS_CA_BUNDLE": str(cert)}
        rows = [(f"tls{i}@example.se", f"Person {i}", "sv") for i in range(2000)]
        members = write_csv(isolated_env / "many.csv", rows)
        assert members.stat().st_size > 64 * 1024
        result = laptop("subscribers", "import", str(members), url=url, extra=trusted)
        assert result.exit_code == 0, result.output
        assert "2000 new people" in result.stdout
        assert laptop("config", url=url, extra=trusted).stdout.count("token 'anna-laptop'") == 1
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
    logged = (tmp_path / "newsletter.access.log").read_text(encoding="utf-8")
    assert "/api/v1/subscribers/import" in logged and server["token"] not in logged


def test_check_on_the_laptop_asks_the_server_about_the_list(server, laptop, isolated_env):
    """`check`'s list part is the server's: an unknown list is named with the server's lists,
    a list with people passes; without a token it is a note, never a guess."""
    import shutil

    from tests.fixtures_send import FIXTURE_ISSUES, copy_shared

    newsletters = isolated_env / "newsletters"
    shutil.copytree(
        FIXTURE_ISSUES / "2018-2", newsletters / "2018-2", ignore=shutil.ignore_patterns("build")
    )
    copy_shared(newsletters)
    people = write_csv(isolated_env / "check.csv", [("check1@example.se", "Ett", "sv")])
    assert laptop("subscribers", "import", str(people), "--list", "nyhetsbrev").exit_code == 0
    base = {"NEWSLETTER_BASE_URL": "https://news.example.se"}
    assert laptop("build", "newsletters/2018-2", extra=base).exit_code == 0
    args = ("check", "newsletters/2018-2", "--no-spam", "--no-render", "--json")

    def findings(report: dict) -> list[dict]:
        return report["errors"] + report["warnings"] + report["notes"]

    known = json.loads(laptop(*args, "--list", "nyhetsbrev", extra=base).output)
    codes = {f["code"] for f in findings(known)}
    assert not codes & {"list-unknown", "list-empty", "list-not-asked"}
    assert known["facts"]["recipients"] >= 1
    unknown = laptop(*args, "--list", "finns-inte", extra=base)
    found = {f["code"]: f for f in findings(json.loads(unknown.output))}
    assert "the server has no list 'finns-inte'" in found["list-unknown"]["message"]
    assert "nyhetsbrev" in found["list-unknown"]["message"]
    editor = laptop(*args, token="", extra={**base, "NEWSLETTER_API_TOKEN": ""})
    assert "list-on-server" in {f["code"] for f in findings(json.loads(editor.output))}
