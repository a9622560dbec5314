"""Custom fields and segments: the expression language, fields from imports and `subscribers
set`, placeholders in a sent issue, `send --segment` remembered for resumes, access and
erasure."""

from __future__ import annotations

import email
import email.policy
import json

import pytest
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st

from mailer.audience import fields
from mailer.audience.consent import erase_subscriber, export_subject
from mailer.audience.importer import import_csv
from mailer.audience.segments import SegmentError, parse_segment
from mailer.audience.subscribers import get_subscriber
from mailer.compose.build import build_issue
from mailer.delivery.send import run_send
from mailer.errors import IssueError, SendError
from mailer.store.db import open_db, transaction

LIST = "nyhetsbrev"
PEOPLE = {
    # address: (language, fields)
    "anna@exempel.se": ("sv", {"län": "Örebro", "roll": "ordförande", "organisation": "Bygdegård"}),
    "bo@exempel.se": ("sv", {"län": "örebro", "roll": "kassör"}),
    "cilla@exempel.se": ("da", {"län": "Västra Götaland", "roll": "vice ordförande"}),
    "dan@exempel.se": ("en", {"roll": "ledamot"}),
    "eva@exempel.se": ("sv", {}),
}


@pytest.fixture
def members(db, settings, csv_file):
    """Everyone in PEOPLE imported from one CSV whose extra columns become fields."""
    names = ["län", "roll", "organisation"]
    rows = [
        [address, language, *(values.get(n, "") for n in names)]
        for address, (language, values) in PEOPLE.items()
    ]
    path = csv_file(rows, header=["E-post", "Språk", "Län", "Roll", "Organisation"], delimiter=";")
    report = import_csv(db, settings, path, list_name=LIST)
    assert report.fields == names
    return report


def picks(db, expression: str) -> set[str]:
    ids = parse_segment(expression).matching_ids(db)
    return {e for (e,) in db.execute("SELECT email FROM subscribers") if _id(db, e) in ids}


def _id(db, address):
    return get_subscriber(db, address)["id"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("län = Örebro", {"anna", "bo"}),  # case and Unicode folded: örebro matches
        ("LÄN = ÖREBRO", {"anna", "bo"}),
        ("län != Örebro", {"cilla", "dan", "eva"}),  # people without the field included
        ("län = Västra Götaland", {"cilla"}),
        ("roll in (ordförande, kassör)", {"anna", "bo"}),
        ("roll not in (ordförande, kassör)", {"cilla", "dan", "eva"}),
        ('roll in ("vice ordförande", ledamot)', {"cilla", "dan"}),
        ("organisation is empty", {"bo", "cilla", "dan", "eva"}),
        ("organisation is not empty", {"anna"}),
        ("län is empty and roll is empty", {"eva"}),
        ("language = sv and län = örebro", {"anna", "bo"}),
        ("language = da or roll = ledamot", {"cilla", "dan"}),
        ("län = Örebro and (roll = kassör or roll = ledamot)", {"bo"}),
        ("not (län = Örebro or län is empty)", {"cilla"}),
    ],
)
def test_segments_pick_the_right_people(db, members, expression, expected):
    assert picks(db, expression) == {f"{name}@exempel.se" for name in expected}


def test_a_segment_has_one_canonical_text():
    assert parse_segment("län=Örebro").text == "län = Örebro"
    assert (
        parse_segment("  Län  =  Örebro  and roll IN (a,b)").text
        == "län = Örebro and roll in (a, b)"
    )
    assert (
        parse_segment("a = 'x, y' and (b = 1 or c = 2)").text == "a = 'x, y' and (b = 1 or c = 2)"
    )
    assert parse_segment(parse_segment("not (a = 1 or b = 2)").text).text == "not (a = 1 or b = 2)"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "the segment is empty"),
        ("län", "at character 4: expected =, !=, in or 'is empty' after 'län'"),
        ("län =", "at character 6: expected a value"),
        ("län = Örebro and", "at character 17: expected a field name"),
        ("län = Örebro)", "at character 13: did not expect ')'"),
        ("roll in (a, b", "expected ')' or ',' in the list"),
        ("län is full", "expected 'empty' after 'is'"),
        ("email = x@y.se", "'email' is a name the tool uses itself"),
        ("(" * 30 + "a = 1" + ")" * 30, "more than 20 levels"),
        ('län = "Örebro', 'at character 7: the quote " is never closed'),
        ("län = 'Örebro", "at character 7: the quote ' is never closed"),
        ("län ! Örebro", "at character 5: '!' is only allowed in '!='"),
    ],
)
def test_a_bad_segment_says_where_and_what(expression, message):
    with pytest.raises(SegmentError, match="segment") as caught:
        parse_segment(expression)
    assert message in str(caught.value)


def test_no_text_of_a_segment_becomes_sql(db, members):
    hostile = 'län = "x\') OR 1=1; DROP TABLE subscribers; --"'
    assert picks(db, hostile) == set()
    assert db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == len(PEOPLE)
    segment = parse_segment(hostile)
    assert "DROP" not in segment.sql
    assert "x') or 1=1; drop table subscribers; --" in segment.params  # a value, folded


def test_import_keeps_known_values_and_reports_columns_it_cannot_use(
    db, settings, members, csv_file
):
    assert fields.fields_of(db, _id(db, "anna@exempel.se")) == {
        "län": "Örebro",
        "organisation": "Bygdegård",
        "roll": "ordförande",
    }
    path = csv_file(
        [["anna@exempel.se", "Gävleborg", "070-123", "Ny"], ["ny@exempel.se", "Gävleborg", "", ""]],
        name="again.csv",
        header=["E-post", "Län", "Telefon (mobil)", "Nytt fält"],
    )
    report = import_csv(db, settings, path, list_name=LIST)
    assert report.fields == ["län", "nytt_fält"]
    assert "Column 'Telefon (mobil)' (" in report.describe() and "left out" in report.describe()
    anna = fields.fields_of(db, _id(db, "anna@exempel.se"))
    assert anna["län"] == "Örebro" and anna["nytt_fält"] == "Ny"  # kept, and gained
    assert fields.fields_of(db, _id(db, "ny@exempel.se")) == {"län": "Gävleborg"}


def test_subscribers_set_changes_fields_and_logs_which(db, members, run_cli):
    result = run_cli(
        "subscribers", "set", "bo@exempel.se", "län=Gävleborg", "roll=", "Ort=Sandviken"
    )
    assert result.exit_code == 0, result.output
    assert "bo@exempel.se: län=Gävleborg, ort=Sandviken" in result.output
    person = _id(db, "bo@exempel.se")
    assert fields.fields_of(db, person) == {"län": "Gävleborg", "ort": "Sandviken"}
    logged = db.execute(
        "SELECT detail FROM consent_log WHERE subscriber_id = ? AND action = 'rectify' ORDER BY id",
        [person],
    ).fetchall()
    assert [d for (d,) in logged] == ["field:län", "field:ort", "field:roll"]
    bad = run_cli("subscribers", "set", "bo@exempel.se", "län")
    assert bad.exit_code != 0 and "write field=value" in bad.output
    bad = run_cli("subscribers", "set", "bo@exempel.se", "name=Bo")
    assert bad.exit_code != 0 and "a name the tool uses itself" in bad.output
    bad = run_cli("subscribers", "set", "bo@exempel.se", "rad=ett\ntvå")
    assert bad.exit_code != 0 and "line break" in bad.output


def test_fields_are_in_the_access_document_and_erased_with_the_person(db, settings, members):
    person = _id(db, "anna@exempel.se")
    document = export_subject(db, person)
    assert document["fields"] == {
        "län": "Örebro",
        "organisation": "Bygdegård",
        "roll": "ordförande",
    }
    erase_subscriber(db, settings, "anna@exempel.se")
    assert (
        db.execute(
            "SELECT count(*) FROM subscriber_fields WHERE subscriber_id = ?", [person]
        ).fetchone()[0]
        == 0
    )
    assert "Bygdegård" not in json.dumps(
        [list(r) for r in db.execute("SELECT * FROM consent_log").fetchall()], ensure_ascii=False
    )


def with_field_section(issue_dir, text):
    (issue_dir / "02-inledning.md").write_text(
        (issue_dir / "02-inledning.md").read_text(encoding="utf-8") + f"\n\n{text}\n",
        encoding="utf-8",
    )


def test_a_field_without_fallback_is_a_build_error(example_issue, settings):
    with_field_section(example_issue, "Hälsningar till %%län%%!")
    with pytest.raises(IssueError, match=r"%%län%% is a custom field.*write %%län\|%%"):
        build_issue(example_issue, settings)


def test_send_to_a_segment_fills_fields_and_resume_keeps_the_segment(
    db, settings, members, example_issue, mail_sink
):
    with_field_section(example_issue, "Hälsningar till dig i %%län|hela landet%%!")
    send_settings = mail_sink.settings(settings)
    with transaction(db):
        fields.set_fields(db, _id(db, "bo@exempel.se"), {"organisation": "<Öst & Väst>"})
    (example_issue / "02-inledning.md").write_text(
        (example_issue / "02-inledning.md").read_text(encoding="utf-8")
        + "\nFrån %%organisation|er förening%%.\n",
        encoding="utf-8",
    )
    plans = []
    first = run_send(
        send_settings,
        example_issue,
        segment="län = örebro or roll = ledamot",
        limit=1,
        confirm=lambda plan: plans.append(plan) or True,
    )
    assert "segment län = örebro or roll = ledamot (3 active people match)" in plans[0].describe()
    assert (first.sent, first.remaining) == (1, 2)
    with pytest.raises(SendError, match="started for the segment 'län = örebro or roll = ledamot'"):
        run_send(send_settings, example_issue, segment="län = Gävleborg")
    rest = run_send(send_settings, example_issue)  # resumes with the remembered segment
    assert (rest.sent, rest.remaining) == (2, 0)
    copies = mail_sink.handler.copies()
    assert set(copies) == {"anna@exempel.se", "bo@exempel.se", "dan@exempel.se"}

    def body(address, kind):
        (received,) = mail_sink.handler.for_rcpt(address)
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        return message.get_body((kind,)).get_content()

    assert "Hälsningar till dig i Örebro!" in body("anna@exempel.se", "plain")
    assert "Hälsningar till dig i hela landet!" in body("dan@exempel.se", "plain")
    assert "Från &lt;Öst &amp; Väst&gt;." in body("bo@exempel.se", "html")
    assert "Från <Öst & Väst>." in body("bo@exempel.se", "plain")
    assert "Från er förening." in body("dan@exempel.se", "plain")
    web = (example_issue / "build" / "web.html").read_text(encoding="utf-8")
    assert "Hälsningar till dig i hela landet!" in web and "Örebro!" not in web

    # nothing waits any more: another segment is taken, and nobody gets the issue twice
    again = run_send(send_settings, example_issue, segment="all")
    assert again.sent == 2
    assert set(mail_sink.handler.copies().values()) == {1} and len(mail_sink.handler.copies()) == 5


def test_send_segment_on_the_command_line_and_in_a_dry_run(
    db, settings, members, example_issue, mail_sink, tmp_path
):
    from click.testing import CliRunner

    from cli import cli
    from tests.fixtures_send import smtp_environment

    def invoke(*args):
        return CliRunner().invoke(
            cli,
            ["--db", str(settings.db_path), *args],
            env=smtp_environment(settings, mail_sink.port),
        )

    bad = invoke("send", str(example_issue), "--segment", "län ==", "--yes")
    assert bad.exit_code != 0 and "segment 'län ==', at character 6" in bad.output
    dry = invoke(
        "send", str(example_issue), "--segment", "roll = kassör", "--dry-run", str(tmp_path / "eml")
    )
    assert dry.exit_code == 0, dry.output
    assert [p.name.split("-", 2)[2] for p in sorted((tmp_path / "eml").iterdir())] == [
        f"{_id(db, 'bo@exempel.se')}.eml"
    ]
    sent = invoke("send", str(example_issue), "--segment", "län=Örebro", "--yes")
    assert sent.exit_code == 0, sent.output
    assert "segment län = Örebro (2 active people match)" in sent.output
    assert set(mail_sink.handler.copies()) == {"anna@exempel.se", "bo@exempel.se"}


SEGMENT_PIECES = st.one_of(
    st.sampled_from(
        ['"', "'", "!", "!=", "=", "(", ")", ",", " ", "and", "or", "not", "in", "is", "empty"]
    ),
    st.sampled_from(["län", "roll", "language", "Örebro", "ø", "ß", "İ", "\u2028", "😀", "\x00"]),
    st.text(max_size=3),
)


@settings_hypothesis(max_examples=400, deadline=None)
@given(st.lists(SEGMENT_PIECES, max_size=12).map(" ".join))
def test_any_segment_text_parses_or_says_where(expression):
    """Random quotes, bangs and unicode: a Segment whose canonical text reads back the same
    and whose SQL runs, or a SegmentError naming the character; never anything else."""
    try:
        segment = parse_segment(expression)
    except SegmentError as exc:
        assert "segment" in str(exc)
        assert "at character" in str(exc) or "empty" in str(exc) or "longer" in str(exc)
        return
    assert parse_segment(segment.text).text == segment.text
    segment.matching_ids(_FUZZ_DB)


_FUZZ_DB = open_db(":memory:")
