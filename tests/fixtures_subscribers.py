"""Fixtures for the subscribers tests: CSV files, the CLI runner, a mailbox, quick sign-ups."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

SECRET = "test-secret-key-0123456789abcdef"  # the same key conftest's `settings` uses
CONSENT_TEXT = "Ja, skicka mig nyhetsbrevet. Jag kan avsluta när jag vill."


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    header: list[str] | None = None,
) -> Path:
    """A CSV file as a spreadsheet program would write it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header or ["email", "name", "language"])
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def csv_file(tmp_path):
    """Factory: csv_file(rows, name=..., encoding=..., delimiter=..., header=...) -> Path."""

    def make(rows, name="members.csv", **kwargs):
        return write_csv(tmp_path / name, rows, **kwargs)

    return make


@pytest.fixture
def run_cli(settings):
    """Run `newsletter --db <test db> ...` through CliRunner with the test secret key.

    The test database exists (empty, migrated) first: read-only commands refuse a missing
    one rather than create it."""
    from cli import cli
    from mailer.store.db import open_db

    if not settings.db_path.exists():
        open_db(settings.db_path).close()

    def run(*args, input=None, db_path=None):
        runner = CliRunner()
        return runner.invoke(
            cli,
            ["--db", str(db_path or settings.db_path), *args],
            input=input,
            env={"NEWSLETTER_SECRET_KEY": SECRET},
            catch_exceptions=False,
        )

    return run


@pytest.fixture
def outbox():
    """A send_mail callable that keeps the messages, as the web app's outbox would queue them."""

    class Outbox(list):
        def __call__(self, message):
            self.append(message)

    return Outbox()


@pytest.fixture
def signup(db, settings, outbox):
    """Factory: start a double opt-in for an address on existing lists; returns the token."""
    from mailer.audience.optin import start_subscription
    from mailer.audience.subscribers import ensure_list

    def start(email, lists=("newsletter",), language="sv", name="Test Person", ip="192.0.2.1"):
        for list_name in lists:
            ensure_list(db, list_name)
        before = len(outbox)
        start_subscription(
            db,
            settings,
            email,
            name=name,
            language=language,
            lists=list(lists),
            consent_text=CONSENT_TEXT,
            channel="web",
            ip=ip,
            user_agent="Mozilla/5.0 (test)",
            send_mail=outbox,
        )
        if len(outbox) == before:
            return None
        body = outbox[-1].get_content()
        return body.split("/confirm/", 1)[1].split()[0]

    return start
