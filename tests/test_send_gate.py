"""One gate: `newsletter check` says "ready to send" exactly when `newsletter send` would send.

Each reason send refuses an issue is tried through both commands on the same issue, settings
and database: check exits 1 without "ready to send", send stops before asking and mails nobody.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.compose.scaffold import SAMPLE_TEXT
from tests.fixtures_send import add_subscribers, smtp_environment

LIST = "nyhetsbrev"


@pytest.fixture
def issue(built_example, tmp_path):
    """A built copy of the example issue (2018-2, list nyhetsbrev) this test may change."""
    target = tmp_path / "newsletters"
    shutil.copytree(built_example.parent, target)
    return target / built_example.name


@pytest.fixture
def run(settings, mail_sink):
    """`newsletter --db <test db> ARGS` with the sink's SMTP settings; env overrides by name
    (None removes a setting)."""

    def invoke(*args, input=None, **env):
        environment = {**smtp_environment(settings, mail_sink.port), **env}
        return CliRunner().invoke(
            cli, ["--db", str(settings.db_path), *map(str, args)], input=input, env=environment
        )

    return invoke


def deliveries(db) -> int:
    return db.execute("SELECT count(*) FROM deliveries").fetchone()[0]


def write(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def no_sender(issue, db, settings):
    return {"NEWSLETTER_FROM": None}, "NEWSLETTER_FROM is not set"


def short_secret_key(issue, db, settings):
    return {"NEWSLETTER_SECRET_KEY": "abcde"}, "NEWSLETTER_SECRET_KEY is missing or shorter"


def loopback_any_port(issue, db, settings):
    return {"NEWSLETTER_BASE_URL": "http://127.0.0.1:8093"}, "is this computer"


def scaffold_text(issue, db, settings):
    intro = SAMPLE_TEXT["sv"]["intro"].split(". ")[0] + "."  # "Skriv inledningen här."
    write(issue / "02-inledning.md", "\n\n", f"\n\n{intro}\n\n")
    return {}, "sample text from `newsletter new`"


def scaffold_alt_and_contact(issue, db, settings):
    alt = SAMPLE_TEXT["en"]["describe"]  # any of the three languages
    write(issue / "10-bergverket.md", "image_alt: ", f"image_alt: {alt} ")
    write(issue / "19-kontakt.md", "name: ", f"name: {SAMPLE_TEXT['sv']['contact'][0]} #")
    return {}, "sample text from `newsletter new`"


def stale_build(issue, db, settings):
    write(issue / "02-inledning.md", "\n\n", "\n\nEn ny mening efter bygget.\n\n")
    return {}, "build does not match"


def failed_build(issue, db, settings):
    write(issue / "issue.md", "title:", "title: [trasig\nx:")
    return {}, "issue.md"  # check: "the sources no longer build (...issue.md...)"; send: same


def unknown_list(issue, db, settings):
    write(issue / "issue.md", f"list: {LIST}", "list: finnsinte")
    return {}, "unknown list 'finnsinte'"


def empty_list(issue, db, settings):
    from mailer.audience.roster import unsubscribe_address

    for (address,) in db.execute("SELECT email FROM subscribers").fetchall():
        unsubscribe_address(db, address, None)
    return {}, "has no active subscribers"


REASONS = [
    no_sender,
    short_secret_key,
    loopback_any_port,
    scaffold_text,
    scaffold_alt_and_contact,
    failed_build,
    unknown_list,
    empty_list,
]


@pytest.mark.parametrize("reason", REASONS, ids=lambda f: f.__name__)
def test_check_never_says_ready_for_what_send_refuses(reason, issue, db, settings, mail_sink, run):
    add_subscribers(db, settings, 2, LIST)
    env, message = reason(issue, db, settings)

    checked = run("check", issue, "--no-spam", **env)
    assert checked.exit_code == 1, checked.output
    assert message in checked.output
    assert "ready to send" not in checked.output
    assert "fix the errors before sending" in checked.output

    sent = run("send", issue, "--yes", **env)
    assert sent.exit_code != 0, sent.output
    assert message in sent.output
    assert "Error: Errors:" not in sent.output  # the report, then one line of "Error: ..."
    if reason not in (failed_build, unknown_list, empty_list, short_secret_key):  # no gate yet
        assert "Error: nothing was sent" in sent.output and "--force" in sent.output
    assert mail_sink.handler.count() == 0 and deliveries(db) == 0


def test_a_stale_build_is_an_error_for_check_and_send_rebuilds_before_its_gate(
    issue, db, settings, mail_sink, run
):
    add_subscribers(db, settings, 1, LIST)
    stale_build(issue, db, settings)
    checked = run("check", issue, "--no-spam")
    assert checked.exit_code == 1
    assert "build does not match" in checked.output and f"newsletter build {issue}" in (
        checked.output
    )
    assert "ready to send" not in checked.output
    sent = run("send", issue, "--yes")  # builds afresh, then checks that build
    assert sent.exit_code == 0, sent.output
    assert "En ny mening efter bygget." in mail_sink.handler.received[0].parsed().as_string()
    assert run("check", issue, "--no-spam").exit_code == 0


def test_a_clean_issue_is_ready_for_both_and_names_who_gets_it(issue, db, settings, mail_sink, run):
    add_subscribers(db, settings, 3, LIST)
    checked = run("check", issue, "--no-spam")
    assert checked.exit_code == 0, checked.output
    assert "0 errors" in checked.output
    assert "ready to send to 3 people on nyhetsbrev" in checked.output
    sent = run("send", issue, "--yes")
    assert sent.exit_code == 0, sent.output
    assert mail_sink.handler.count() == 3


def test_check_takes_the_list_send_would_use(issue, db, settings, run):
    add_subscribers(db, settings, 1, "styrelse")
    own = run("check", issue, "--no-spam")
    assert own.exit_code == 1 and "unknown list 'nyhetsbrev' (lists: styrelse)" in own.output
    board = run("check", issue, "--no-spam", "--list", "styrelse")
    assert board.exit_code == 0, board.output
    assert "ready to send to 1 person on styrelse" in board.output


def test_the_plan_names_sender_reply_to_list_count_server_and_base_url(
    issue, db, settings, mail_sink, run
):
    add_subscribers(db, settings, 2, LIST)
    result = run("send", issue, input="n\n", NEWSLETTER_REPLY_TO="svar@example.se")
    assert "From:       Region Örebro län <nyhetsbrev@example.se>" in result.output
    assert "Reply-To:   svar@example.se" in result.output
    assert "List:       nyhetsbrev" in result.output
    assert "Recipients: 2 to send now" in result.output
    assert f"SMTP:       127.0.0.1:{mail_sink.port}" in result.output
    assert "Links:      https://news.example.se" in result.output
    assert mail_sink.handler.count() == 0


def test_force_sends_a_local_trial_and_to_sends_one_copy_without_the_gate(
    issue, db, settings, mail_sink, run
):
    add_subscribers(db, settings, 2, LIST)
    local = {"NEWSLETTER_BASE_URL": "http://127.0.0.1:8093"}
    copy = run("send", issue, "--to", "me@example.se", **local)
    assert copy.exit_code == 0, copy.output
    forced = run("send", issue, "--yes", "--force", **local)
    assert forced.exit_code == 0, forced.output
    assert "--force: sending in spite of the errors" in forced.output
    assert deliveries(db) == 2


def test_a_test_copy_without_a_sender_is_refused_with_one_line(issue, db, settings, mail_sink, run):
    copy = run("send", issue, "--to", "me@example.se", NEWSLETTER_FROM="")
    assert copy.exit_code != 0
    assert "NEWSLETTER_FROM is not set" in copy.output and "Traceback" not in copy.output
    assert mail_sink.handler.count() == 0


def test_a_sender_without_angle_brackets_is_refused_with_how_to_write_it(issue, run):
    result = run("check", issue, "--no-spam", NEWSLETTER_FROM="Region Örebro nyhetsbrev@example.se")
    assert result.exit_code != 0
    assert "NEWSLETTER_FROM=Region Örebro <nyhetsbrev@example.se>" in result.output
    assert "not encoded for transport" not in result.output and "Traceback" not in result.output
