"""Bad input from issue 13: each gives a clear error naming file and line (or a right result),
never a traceback, a Python repr in an email, a silent cut or a leftover folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest

from mailer.audience.consent import erase_subscriber
from mailer.audience.roster import add_subscriber
from mailer.audience.subscriber_fields import clean_name
from mailer.audience.subscribers import get_subscriber
from mailer.compose.build import build_issue
from mailer.compose.issue import read_issue
from mailer.delivery.message import list_id
from mailer.errors import IssueError, SubscriberError
from tests.fixtures_compose import ISSUE_MD, compose_settings
from tests.fixtures_web import consent_events
from tests.test_web_preferences import open_form


def section(text: str) -> dict[str, str]:
    return {"01-intro.md": "---\nlayout: text\n---\nText.\n", "02-x.md": text}


# --- front matter -------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x07", "\x00"])
def test_a_control_character_in_front_matter_names_file_and_line(issue_factory, compose_cli, char):
    issue = issue_factory(issue_md=ISSUE_MD.replace("title: Testbrevet", f"title: Test{char}"))
    result = compose_cli("build", issue)
    assert result.exit_code == 1
    assert f"{issue / 'issue.md'}:2: the front matter holds the invisible control character" in (
        result.output
    )
    assert f"U+{ord(char):04X}" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("kind", ["folder", "dangling link"])
def test_a_folder_or_broken_link_named_like_a_section_is_a_clear_error(issue_factory, kind):
    issue = issue_factory()
    odd = issue / "21-x.md"
    if kind == "folder":
        odd.mkdir()
    else:
        odd.symlink_to(issue / "gone.md")
    with pytest.raises(IssueError, match=r"21-x\.md: is a (folder|link to a file that does)"):
        read_issue(issue)


@pytest.mark.parametrize(
    ("front", "what"),
    [
        ("place: [Örebro, Eskilstuna]", "place is a list, not text"),
        ("title: !!binary aGVq", "!!binary is not text"),
        ("title: {a: b}", "title is a set of keys, not text"),
    ],
)
def test_values_that_are_not_text_are_refused_not_printed_as_python(issue_factory, front, what):
    if front.startswith("place"):
        text = (
            "---\nlayout: events\ntitle: Kalender\nevents:\n  - date: 2026-10-01\n"
            f"    title: Möte\n    {front}\n---\n"
        )
    else:
        text = f"---\nlayout: text\n{front}\n---\nText.\n"
    issue = issue_factory(sections=section(text))
    with pytest.raises(IssueError, match=what) as caught:
        read_issue(issue)
    assert f"{issue / '02-x.md'}:" in str(caught.value)
    assert "['Örebro'" not in str(caught.value) and "b'hej'" not in str(caught.value)


@pytest.mark.parametrize(
    "email", ['"a@b.se\\r\\nBcc: x@evil.example"', "inte-en-adress", '"a@b.se\\nx"']
)
def test_a_contact_email_is_one_valid_address(issue_factory, email):
    text = f"---\nlayout: contact\nname: Lena Berg\nemail: {email}\n---\n"
    issue = issue_factory(sections=section(text))
    with pytest.raises(IssueError, match=r"02-x\.md:4: email"):
        read_issue(issue)


def test_yaml_aliases_are_refused_before_they_expand(issue_factory):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 8):
        levels.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]")
    text = "---\nlayout: text\n" + "\n".join(levels) + "\n---\nText.\n"
    issue = issue_factory(sections=section(text))
    started = time.monotonic()
    with pytest.raises(IssueError, match=r"02-x\.md:4: the alias \*a0 .* no anchors or aliases"):
        read_issue(issue)
    assert time.monotonic() - started < 2  # seven levels took 40 s and 1.8 GB before


# --- builds --------------------------------------------------------------------------------


def test_a_killed_builds_work_folder_is_removed_by_the_next_build(issue_factory):
    issue = issue_factory()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    leftover = issue / f".build-{dead.stdout.strip()}-abcd1234"
    (leftover / "images").mkdir(parents=True)
    (leftover / "email.html").write_text("half")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        running = issue / f".build-{sleeper.pid}-efgh5678"
        running.mkdir()
        build_issue(issue, compose_settings())
        assert not leftover.exists()
        assert running.is_dir()  # another build still at work
    finally:
        sleeper.kill()
        sleeper.wait()
    build_issue(issue, compose_settings())
    assert sorted(p.name for p in issue.glob(".build-*")) == []


# --- subscribers ---------------------------------------------------------------------------


def test_erase_reaches_the_address_in_another_persons_consent_channel(
    db, settings, csv_file, run_cli
):
    sheet = csv_file([["bo@example.se", "Bo", "sv"]], name="från anna@example.se.csv")
    assert run_cli("subscribers", "import", str(sheet)).exit_code == 0
    add_subscriber(db, settings, "anna@example.se", source="asked anna@example.se by phone")
    result = run_cli("subscribers", "erase", "anna@example.se", "--yes")
    assert result.exit_code == 0, result.output
    assert b"anna@example.se" not in settings.db_path.read_bytes()
    bo = get_subscriber(db, "bo@example.se")
    (channel,) = [e["channel"] for e in consent_events(db, bo["id"]) if e["action"] == "import"]
    assert channel == "csv:från [erased].csv:2"
    assert "send --dry-run" in result.output and ".eml" in result.output


def test_erase_help_names_the_secret_key_and_the_files_it_does_not_touch(run_cli):
    text = run_cli("subscribers", "erase", "--help").output
    assert "NEWSLETTER_SECRET_KEY" in text and ".eml" in text


def test_list_id_with_angle_brackets_and_quotes_stays_one_phrase_and_one_id():
    for title in ['Nyheter <från> "oss"', 'News <x> "y" \\ z', "A, B; C", "Nyhetsbrev"]:
        header = list_id("nyhetsbrev", title, "example.se")
        [(phrase, ident)] = getaddresses([header])
        assert (str(make_header(decode_header(phrase))), ident) == (
            title,
            "nyhetsbrev.example.se",
        ), header


@pytest.mark.parametrize("name", ["Anna\u202eaknaB", "An\u200bna", "\u2066Bo\u2069", "\u200dKim"])
def test_names_with_direction_or_zero_width_characters_are_refused(name, run_cli):
    with pytest.raises(SubscriberError, match="invisible character"):
        clean_name(name)
    result = run_cli("subscribers", "add", "x@example.se", "--name", name)
    assert result.exit_code == 1 and "invisible character" in result.output


def test_joiners_inside_a_name_are_kept():
    assert clean_name("👩\u200d💻 Dev") == "👩\u200d💻 Dev"
    assert clean_name("Mehr\u200cnaz") == "Mehr\u200cnaz"  # Persian needs the ZWNJ


def test_a_name_over_200_characters_is_refused_on_the_preferences_page_not_cut(client, db, person):
    token = open_form(client, person)
    response = client.post(
        f"/preferences/{person.preferences}",
        data={"csrf_token": token, "name": "A" * 201, "lists": ["nyhetsbrev"]},
    )
    assert response.status_code == 400
    assert get_subscriber(db, person.email)["name"] == "Anna Berg"  # not "AAAA...A"[:200]


def test_send_status_names_an_erased_subscriber_without_none(
    db, settings, mail_sink, built_example
):
    from click.testing import CliRunner

    from cli import cli
    from tests.fixtures_send import add_subscribers, smtp_environment

    addresses = add_subscribers(db, settings, 2, "nyhetsbrev")
    mail_sink.handler.refuse[addresses[0]] = "550 5.7.1 refused"
    env = smtp_environment(settings, mail_sink.port)
    runner = CliRunner()
    base = ["--db", str(settings.db_path)]
    assert runner.invoke(cli, [*base, "send", str(built_example), "--yes"], env=env).exit_code == 0
    erase_subscriber(db, settings, addresses[0])
    result = runner.invoke(cli, [*base, "send-status", str(built_example)], env=env)
    assert result.exit_code == 0, result.output
    assert "failed   an erased subscriber: -" in result.output
    assert "None" not in result.output
    assert os.fspath(settings.db_path)  # the test's own database, never the project's
