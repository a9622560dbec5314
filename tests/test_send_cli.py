"""`newsletter send` and `newsletter send-status` through the Click runner."""

from __future__ import annotations

import email
import email.policy

import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from cli import cli
from tests.fixtures_send import add_subscribers, free_port, smtp_environment, start_sink

LIST = "nyhetsbrev"


@pytest.fixture
def invoke(settings):
    """Run `newsletter --db <test db> ...` with SMTP settings pointing at `port`."""

    def run(port, *args, input=None, **env):
        environment = {**smtp_environment(settings, port), **env}
        return CliRunner().invoke(
            cli, ["--db", str(settings.db_path), *args], input=input, env=environment
        )

    return run


def deliveries(db) -> int:
    return db.execute("SELECT count(*) FROM deliveries").fetchone()[0]


def test_send_with_yes_mails_everyone_and_prints_a_summary(
    db, settings, mail_sink, built_example, invoke
):
    addresses = add_subscribers(db, settings, 4, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--yes")
    assert result.exit_code == 0, result.output
    assert "2018-2 to nyhetsbrev: 4 sent, 0 failed" in result.output
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)


def test_without_yes_the_plan_is_shown_and_no_means_nothing_is_sent(
    db, settings, mail_sink, built_example, invoke
):
    add_subscribers(db, settings, 3, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), input="n\n")
    assert result.exit_code != 0
    assert f"127.0.0.1:{mail_sink.port}" in result.output
    assert "Recipients: 3 to send now" in result.output
    assert "List:       nyhetsbrev" in result.output
    assert mail_sink.handler.count() == 0 and deliveries(db) == 0
    accepted = invoke(mail_sink.port, "send", str(built_example), input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert mail_sink.handler.count() == 3


def test_refused_connection_exits_non_zero_naming_host_port_and_leaves_the_ledger(
    db, settings, built_example, invoke
):
    add_subscribers(db, settings, 2, LIST)
    port = free_port()
    result = invoke(port, "send", str(built_example), "--yes")
    assert result.exit_code == 1
    assert f"cannot connect to SMTP server 127.0.0.1:{port}" in result.output
    assert deliveries(db) == 0


def test_a_garbled_dkim_key_is_a_clear_error_and_leaves_the_ledger(
    db, settings, mail_sink, built_example, invoke, tmp_path
):
    key_file = tmp_path / "dkim.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    add_subscribers(db, settings, 2, LIST)
    result = invoke(
        mail_sink.port,
        "send",
        str(built_example),
        "--yes",
        DKIM_DOMAIN="example.se",
        DKIM_SELECTOR="s1",
        DKIM_PRIVATE_KEY=str(key_file),
    )
    assert result.exit_code != 0 and "Error: DKIM_PRIVATE_KEY cannot sign" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert deliveries(db) == 0 and mail_sink.handler.count() == 0


def test_failed_login_exits_non_zero_and_leaves_the_ledger(db, settings, built_example, invoke):
    def refuse_everyone(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    controller, sink = start_sink(authenticator=refuse_everyone, auth_require_tls=False)
    try:
        add_subscribers(db, settings, 2, LIST)
        result = invoke(
            sink.port,
            "send",
            str(built_example),
            "--yes",
            SMTP_USERNAME="sender",
            SMTP_PASSWORD="not-this-one",
        )
    finally:
        controller.stop()
    assert result.exit_code == 1
    assert f"login to 127.0.0.1:{sink.port} as sender failed: 535" in result.output
    assert "not-this-one" not in result.output
    assert deliveries(db) == 0 and sink.handler.count() == 0


def test_to_sends_one_marked_test_copy_without_touching_the_ledger(
    db, settings, mail_sink, built_example, invoke
):
    add_subscribers(db, settings, 3, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--to", "Redaktor@Example.se")
    assert result.exit_code == 0, result.output
    [copy] = mail_sink.handler.received
    assert copy.rcpt == "redaktor@example.se"
    assert copy.parsed()["Subject"].startswith("[TEST] ")
    assert deliveries(db) == 0


def test_dry_run_writes_eml_files_and_sends_nothing(
    db, settings, mail_sink, built_example, invoke, tmp_path
):
    add_subscribers(db, settings, 5, LIST)
    tokens_before = db.execute("SELECT count(*) FROM tokens").fetchone()[0]
    out = tmp_path / "eml"
    result = invoke(
        mail_sink.port, "send", str(built_example), "--dry-run", str(out), "--limit", "4"
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.eml"))
    assert len(files) == 4
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "reader00000@example.org"
    assert message.get_content_type() == "multipart/alternative"
    assert mail_sink.handler.count() == 0 and deliveries(db) == 0
    assert db.execute("SELECT count(*) FROM tokens").fetchone()[0] == tokens_before


def test_limit_prints_how_to_send_the_rest(db, settings, mail_sink, built_example, invoke):
    add_subscribers(db, settings, 5, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--yes", "--limit", "2")
    assert result.exit_code == 0
    assert "3 still to send" in result.output
    assert f"Run 'newsletter send {built_example}' again" in result.output


def test_send_status_shows_counts_and_failures_with_replies(
    db, settings, mail_sink, built_example, invoke
):
    addresses = add_subscribers(db, settings, 4, LIST)
    mail_sink.handler.refuse[addresses[2]] = "550 5.1.1 No such user here"
    invoke(mail_sink.port, "send", str(built_example), "--yes")
    result = invoke(mail_sink.port, "send-status", str(built_example))
    assert result.exit_code == 0, result.output
    assert "2018-2: 3 sent, 1 failed" in result.output
    assert f"failed   {addresses[2]}: 550 5.1.1 No such user here" in result.output


def test_retry_failed_tries_refused_messages_again_but_never_a_bounced_address(
    db, settings, mail_sink, built_example, invoke
):
    addresses = add_subscribers(db, settings, 3, LIST)
    mail_sink.handler.refuse[addresses[0]] = "550 5.7.1 Message rejected as spam"
    mail_sink.handler.refuse[addresses[1]] = "550 5.1.1 No such user here"
    first = invoke(mail_sink.port, "send", str(built_example), "--yes")
    assert "1 sent, 2 failed (1 bounced)" in first.output
    shown = invoke(mail_sink.port, "subscribers", "show", addresses[0])
    assert "2018-2: failed: 550 5.7.1 Message rejected as spam" in shown.output

    mail_sink.handler.refuse.clear()  # the coordinator sorted out the spam verdict
    plain = invoke(mail_sink.port, "send", str(built_example), "--yes")
    assert "Nothing to send" in plain.output  # failed stays failed without the option
    again = invoke(mail_sink.port, "send", str(built_example), "--yes", "--retry-failed")
    assert again.exit_code == 0, again.output
    assert "2 failed message(s) of 2018-2 queued again" in again.output
    assert "1 sent" in again.output and "1 skipped" in again.output
    assert mail_sink.handler.copies() == {addresses[0]: 1, addresses[2]: 1}


def test_the_resume_hint_names_the_list_and_a_dry_run_shows_what_retry_failed_would_send(
    db, settings, mail_sink, built_example, invoke, tmp_path
):
    add_subscribers(db, settings, 3, "styrelse")
    first = invoke(mail_sink.port, "send", str(built_example), "--list", "styrelse", "--yes",
                   "--limit", "1")  # fmt: skip
    assert f"Run 'newsletter send {built_example} --list styrelse' again" in first.output
    addresses = add_subscribers(db, settings, 2, LIST, domain="lista.example.org")
    mail_sink.handler.refuse[addresses[0]] = "550 5.7.1 Message rejected as spam"
    invoke(mail_sink.port, "send", str(built_example), "--yes")
    plain = invoke(mail_sink.port, "send", str(built_example), "--dry-run", str(tmp_path / "a"))
    retry = invoke(mail_sink.port, "send", str(built_example), "--dry-run", str(tmp_path / "b"),
                   "--retry-failed")  # fmt: skip
    assert plain.exit_code == retry.exit_code == 0, retry.output
    assert len(list((tmp_path / "a").glob("*.eml"))) == 0
    assert len(list((tmp_path / "b").glob("*.eml"))) == 1


def test_the_plan_names_rows_queued_for_another_list(
    db, settings, mail_sink, built_example, invoke
):
    add_subscribers(db, settings, 4, LIST)
    add_subscribers(db, settings, 1, "styrelse", domain="styrelsen.example.org")
    assert (
        invoke(mail_sink.port, "send", str(built_example), "--yes", "--limit", "1").exit_code == 0
    )
    board = invoke(mail_sink.port, "send", str(built_example), "--list", "styrelse", "--yes")
    assert board.exit_code == 0, board.output
    assert "3 message(s) of 2018-2 queued for list nyhetsbrev are not part of this run" in (
        board.output
    )
    assert "0 skipped" in board.output or "skipped" not in board.output


def test_unknown_list_is_a_clear_error(db, settings, mail_sink, built_example, invoke):
    add_subscribers(db, settings, 1, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--list", "okand", "--yes")
    assert result.exit_code == 1
    assert "unknown list 'okand'" in result.output
    assert "subscribers import FILE.csv --list okand" in result.output
    assert "correct --list" in result.output


@pytest.mark.parametrize("command", ["send", "send-status"])
def test_commands_have_help(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "ISSUE_DIR" in result.output


def test_plan_warns_about_plain_http_links_and_unaligned_dkim(
    db, settings, mail_sink, example_issue, invoke, dkim_keys, tmp_path
):
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(dkim_keys[0])
    add_subscribers(db, settings, 1, LIST)
    result = invoke(
        mail_sink.port,
        "send",
        str(example_issue),  # its own copy: an http base URL rebuilds it
        "--force",  # check calls http:// images an error; this test is about the plan
        input="n\n",
        NEWSLETTER_BASE_URL="http://news.example.se",
        DKIM_DOMAIN="other.example",
        DKIM_SELECTOR="s1",
        DKIM_PRIVATE_KEY=str(key_file),
    )
    assert "is not HTTPS" in result.output
    assert "DKIM_DOMAIN=other.example does not match the From domain example.se" in result.output
    assert mail_sink.handler.count() == 0


def test_send_stops_on_check_errors_before_asking_and_force_sends_anyway(
    db, settings, mail_sink, example_issue, invoke
):
    (example_issue / "21-lokalt.md").write_text(
        "---\nlayout: text\n---\nProgrammet finns på [vår testserver](http://127.0.0.1:5000/program).\n",
        encoding="utf-8",
    )
    add_subscribers(db, settings, 2, LIST)

    stopped = invoke(mail_sink.port, "send", str(example_issue), "--yes")
    assert stopped.exit_code != 0
    assert "127.0.0.1:5000" in stopped.output
    assert "21-lokalt.md" in stopped.output
    assert "--force" in stopped.output
    assert "Send now?" not in stopped.output
    assert mail_sink.handler.count() == 0 and deliveries(db) == 0

    forced = invoke(mail_sink.port, "send", str(example_issue), "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert "1 error" in forced.output
    assert mail_sink.handler.count() == 2 and deliveries(db) == 2


def test_a_base_url_on_this_computer_stops_a_real_send_but_not_a_check(
    db, settings, mail_sink, example_issue, invoke
):
    """The .env.example default would mail unsubscribe links that lead nowhere."""
    add_subscribers(db, settings, 2, LIST)
    local = {"NEWSLETTER_BASE_URL": "http://127.0.0.1:8000"}
    checked = invoke(mail_sink.port, "check", str(example_issue), "--no-spam", **local)
    assert "base-url" not in checked.output and "is this computer" not in checked.output

    stopped = invoke(mail_sink.port, "send", str(example_issue), "--yes", **local)
    assert stopped.exit_code != 0
    assert "NEWSLETTER_BASE_URL=http://127.0.0.1:8000 is this computer" in stopped.output
    assert "public https address" in stopped.output
    assert mail_sink.handler.count() == 0 and deliveries(db) == 0

    test_copy = invoke(mail_sink.port, "send", str(example_issue), "--to", "me@example.se", **local)
    assert test_copy.exit_code == 0, test_copy.output  # a test copy to yourself is fine
    forced = invoke(mail_sink.port, "send", str(example_issue), "--yes", "--force", **local)
    assert forced.exit_code == 0, forced.output
    assert deliveries(db) == 2


def test_a_clean_issue_shows_the_check_summary_before_the_plan(
    db, settings, mail_sink, built_example, invoke
):
    add_subscribers(db, settings, 1, LIST)
    result = invoke(mail_sink.port, "send", str(built_example), "--yes")
    assert result.exit_code == 0, result.output
    summary = result.output.index("0 errors")
    assert summary < result.output.index("Recipients:")
    assert mail_sink.handler.count() == 1


def test_stop_at_quota_stops_says_when_and_how_to_resume_and_the_quota_survives(
    db, settings, mail_sink, built_example, invoke
):
    import time

    addresses = add_subscribers(db, settings, 5, LIST)
    quota = {"SEND_RATE_PER_DAY": "3"}
    started = time.time()
    first = invoke(mail_sink.port, "send", str(built_example), "--yes", "--stop-at-quota", **quota)
    assert first.exit_code == 75, first.output
    assert "Stopped: SEND_RATE_PER_DAY=3 reached" in first.output
    assert f"resume then with: newsletter send {built_example}" in first.output
    # the quota frees its first message 24 hours after the first message counted
    expected = {
        time.strftime("%Y-%m-%d %H:%M", time.localtime(started + 86400 + shift))
        for shift in (-60, 0, 60, 120)
    }
    assert any(f"next message at {when}" in first.output for when in expected), first.output
    assert mail_sink.handler.count() == 3
    again = invoke(mail_sink.port, "send", str(built_example), "--yes", "--stop-at-quota", **quota)
    assert again.exit_code == 75 and mail_sink.handler.count() == 3  # a restart resets nothing
    with db.conn:  # a day passes
        db.execute("UPDATE send_counts SET minute = minute - 1441")
    last = invoke(mail_sink.port, "send", str(built_example), "--yes", "--stop-at-quota", **quota)
    assert last.exit_code == 0, last.output
    assert mail_sink.handler.copies() == dict.fromkeys(addresses, 1)
