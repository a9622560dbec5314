"""Faults from issue 21 end in one clear line, never a traceback: deeply nested front matter and
Markdown, a full disk during send, sign-up, import and bounce import, a database locked beyond
the limit."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

from mailer.audience.subscribers import ensure_list, get_subscriber
from mailer.compose.issue import read_issue
from mailer.compose.site import load_site
from mailer.errors import IssueError
from mailer.store.db import open_db
from tests.fixtures_bounces import BOUNCE_ADDRESS, send_issue
from tests.fixtures_faults import SmallDisk
from tests.fixtures_send import (
    PROJECT_ROOT,
    FaultyHandler,
    add_subscribers,
    smtp_environment,
    start_sink,
)
from tests.fixtures_web import LISTS

DEEP = 2000
CONNECTIONS = 2


def section(text: str) -> dict[str, str]:
    return {"01-intro.md": "---\nlayout: text\n---\nText.\n", "02-x.md": text}


@pytest.mark.parametrize(
    "nested",
    [
        "deep: " + "[" * DEEP + "x" + "]" * DEEP,
        "deep: " + "{a: " * DEEP + "x" + "}" * DEEP,
        "deep:\n" + "".join(" " * n + "- \n" for n in range(DEEP)),
        "deep:\n" + "".join(" " * (n + 1) + "a:\n" for n in range(DEEP)),
    ],
    ids=["flow-list", "flow-map", "block-list", "block-map"],
)
def test_front_matter_nested_2000_deep_is_an_error_naming_the_file(issue_factory, nested):
    issue = issue_factory(sections=section(f"---\nlayout: text\n{nested}\n---\nText.\n"))
    with pytest.raises(IssueError, match=r"02-x\.md:\d+: values are nested more than 50 levels"):
        read_issue(issue)


def test_a_deeply_nested_site_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "newsletter.yml").write_text("organisation: " + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(IssueError, match=r"newsletter\.yml:1: values are nested more than 50"):
        load_site(tmp_path)


@pytest.mark.parametrize("marker", ["> ", "- ", "1. ", "* > "])
def test_markdown_nested_2000_deep_builds_or_says_why_without_a_traceback(
    issue_factory, compose_cli, marker
):
    body = "".join(marker * n + "x\n" for n in range(1, 60)) + marker * DEEP + "deep\n"
    issue = issue_factory(sections=section("---\nlayout: text\n---\n" + body))
    result = compose_cli("build", issue)
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code in (0, 1), result.output + result.stderr
    if result.exit_code:
        assert "02-x.md" in result.stderr


# --- a full disk ---------------------------------------------------------------------------


class FillingHandler(FaultyHandler):
    """Accepts mail and fills the disk when the `at`-th message arrives."""

    def __init__(self, disk: SmallDisk, at: int) -> None:
        super().__init__()
        self.disk, self.at = disk, at

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.count() == self.at:
            self.disk.fill()
        return reply


def no_traceback(result) -> str:
    """The whole output of a CliRunner result, checked for a traceback and an escaped error."""
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return text


def run_newsletter(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`newsletter ARGS` in a process of its own (a lock it leaves behind is a dead pid's)."""
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-c", CLI_MAIN, str(PROJECT_ROOT), *map(str, args)],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


CLI_MAIN = "import sys; sys.path.insert(0, sys.argv[1]); from cli import cli; cli(sys.argv[2:])"


def one_error_line(process: subprocess.CompletedProcess, *expected: str) -> str:
    """The process failed with one `Error:` line holding `expected`, and no traceback."""
    output = process.stdout + process.stderr
    assert process.returncode != 0, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    for text in expected:
        assert text in errors[0], output
    return errors[0]


@pytest.mark.slow
def test_disk_full_during_send_is_one_line_and_the_rerun_duplicates_at_most_one_per_connection(
    small_disk, settings, built_example
):
    db_path = small_disk.path / "subscribers.db"
    db = open_db(db_path)
    addresses = add_subscribers(db, settings, 40, "nyhetsbrev")
    db.close()
    handler = FillingHandler(small_disk, at=10)
    controller, sink = start_sink(handler)
    try:
        env = smtp_environment(settings, sink.port)
        args = ["--db", db_path, "send", built_example, "--yes", "--connections", CONNECTIONS]
        first = run_newsletter(*args, env=env)
        one_error_line(first, "subscribers.db: the disk is full", "Free some space")
        small_disk.free()
        second = run_newsletter(*args, env=env)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "Traceback" not in second.stdout + second.stderr
    finally:
        controller.stop()
    copies = handler.copies()
    assert set(copies) == set(addresses)
    duplicates = sum(copies.values()) - len(addresses)
    assert duplicates <= CONNECTIONS, copies


def sign_up(client, page: str):
    """POST the sign-up form `page` as a browser would."""
    data = {"email": "new@example.se", "name": "Nils", "language": "sv", "lists": ["nyhetsbrev"]}
    data["csrf_token"] = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    data["page_lang"] = re.search(r'name="page_lang" value="([a-z]+)"', page).group(1)
    return client.post("/subscribe", data=data)


def signup_app(settings, newsletters_dir, db_path, **overrides):
    """The web app on the database at `db_path`, its lists made, mail sent inline."""
    from mailer.web import create_app

    db = open_db(db_path)
    for name, title in LISTS.items():
        ensure_list(db, name, title)
    db.close()
    app_settings = dataclasses.replace(settings, db_path=db_path, **overrides)
    return create_app(
        app_settings,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False},
        newsletters_dir=newsletters_dir,
    )


def stored_signups(db_path) -> int:
    db = open_db(db_path)
    try:
        return db.execute(
            "SELECT (SELECT count(*) FROM service_mail) + (SELECT count(*) FROM subscribers)"
        ).fetchone()[0]
    finally:
        db.close()


def assert_try_again(response) -> None:
    """A 503 asking the person to try again, with Retry-After; nothing of the request shown."""
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "försök igen" in page  # the Swedish page: "try again in a minute"
    assert "Traceback" not in page and "sqlite" not in page.lower()


def test_disk_full_during_a_web_signup_is_a_503_and_nothing_half_stored(
    small_disk, settings, newsletters_dir, smtp_sink, caplog
):
    db_path = small_disk.path / "subscribers.db"
    app = signup_app(
        settings,
        newsletters_dir,
        db_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_security="none",
    )
    client = app.test_client()
    page = client.get("/subscribe").get_data(as_text=True)  # reading needs no space
    small_disk.fill()
    response = sign_up(client, page)
    assert_try_again(response)
    small_disk.free()
    assert stored_signups(db_path) == 0
    response = sign_up(client, page)
    assert response.status_code == 200
    db = open_db(db_path)
    assert get_subscriber(db, "new@example.se")["subscriptions"] == {"nyhetsbrev": "pending"}
    db.close()
    assert "Traceback" not in caplog.text
    assert "503 on /subscribe [POST]: disk full" in caplog.text


def test_a_signup_the_locked_database_cannot_store_is_a_503_within_the_limit(
    settings, newsletters_dir, tmp_path, caplog
):
    db_path = tmp_path / "subscribers.db"
    app = signup_app(settings, newsletters_dir, db_path, db_busy_timeout=1)
    client = app.test_client()
    page = client.get("/subscribe").get_data(as_text=True)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write
    try:
        started = time.monotonic()
        response = sign_up(client, page)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_try_again(response)
    assert waited < 20  # the limit is 1 s here; never near nginx's 30 s
    assert stored_signups(db_path) == 0
    assert "Traceback" not in caplog.text
    assert "503 on /subscribe [POST]: database locked" in caplog.text


def test_the_web_waits_at_most_15_s_for_a_lock_whatever_the_setting(settings, tmp_path):
    from mailer.web.database import WEB_WAIT_LIMIT, wait_limit

    app = signup_app(settings, tmp_path, tmp_path / "s.db", db_busy_timeout=120)
    assert wait_limit(app) == WEB_WAIT_LIMIT == 15


def test_a_cli_command_on_a_locked_database_is_one_line(settings, tmp_path):
    db_path = tmp_path / "subscribers.db"
    open_db(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        added = run_newsletter(
            "--db",
            db_path,
            "subscribers",
            "add",
            "ny@example.se",
            env={"NEWSLETTER_SECRET_KEY": settings.secret_key, "NEWSLETTER_DB_BUSY_TIMEOUT": "1"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    one_error_line(added, "subscribers.db: still locked by another process after 1 s")


def test_disk_full_during_subscribers_import_is_one_line_and_writes_nothing(
    small_disk, settings, tmp_path
):
    db_path = small_disk.path / "subscribers.db"
    open_db(db_path).close()
    rows = ["email,name"] + [f"person{n:05d}@example.org,Person {n}" for n in range(3000)]
    csv_path = tmp_path / "members.csv"
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    env = {"NEWSLETTER_SECRET_KEY": settings.secret_key}
    args = ["--db", db_path, "subscribers", "import", csv_path, "--source", "register"]
    small_disk.fill(leave=256 * 1024)  # room for a few hundred rows, not 3,000
    failed = run_newsletter(*args, env=env)
    one_error_line(failed, "subscribers.db: the disk is full", "run the same command again")
    small_disk.free()
    assert count_rows(db_path, "subscribers") == 0
    assert count_rows(db_path, "consent_log") == 0
    imported = run_newsletter(*args, env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert count_rows(db_path, "subscribers") == 3000


def test_disk_full_during_bounces_import_is_one_line_and_the_rerun_counts_each_once(
    small_disk, settings, mail_sink, built_example, tmp_path
):
    db_path = small_disk.path / "subscribers.db"
    db = open_db(db_path)
    on_disk = dataclasses.replace(settings, db_path=db_path)
    mailed = send_issue(db, on_disk, mail_sink, built_example, 40, bounce_address=BOUNCE_ADDRESS)
    db.close()
    folder = tmp_path / "reports"
    folder.mkdir()
    for n, address in enumerate(mailed.addresses):
        (folder / f"{n:02d}.eml").write_bytes(mailed.report("dsn-hard.eml", address))
    env = {"NEWSLETTER_SECRET_KEY": settings.secret_key}
    args = ["--db", db_path, "bounces", "import", *sorted(folder.iterdir())]
    small_disk.fill(leave=96 * 1024)
    failed = run_newsletter(*args, env=env)
    line = one_error_line(failed, "subscribers.db: the disk is full", "run the same command again")
    small_disk.free()
    done = count_rows(db_path, "subscriptions", "status = 'bounced'")
    assert 0 < done < 40  # stopped part-way
    assert f"{done} of 40 reports were recorded" in line
    again = run_newsletter(*args, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{done} already recorded" in again.stdout
    assert count_rows(db_path, "subscriptions", "status = 'bounced'") == 40


def count_rows(db_path, table: str, where: str = "1") -> int:
    db = open_db(db_path)
    try:
        return db.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]  # noqa: S608
    finally:
        db.close()


def test_a_build_on_a_full_disk_is_one_line(small_disk, example_issue, compose_cli):
    issue = small_disk.path / "newsletters" / example_issue.name
    shutil.copytree(example_issue.parent, issue.parent)
    small_disk.fill()
    result = compose_cli("build", issue)
    assert result.exit_code == 1
    assert "Traceback" not in result.output + result.stderr
    assert "no space left on the device" in result.stderr or "disk is full" in result.stderr
