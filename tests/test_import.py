"""CSV import: real-world encodings and headers, every row checked, one transaction."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mailer.audience.consent import erase_subscriber
from mailer.audience.import_writer import BATCH_SIZE
from mailer.audience.importer import ImportRejected, detect_encoding, import_csv
from mailer.audience.roster import add_subscriber, unsubscribe_address
from mailer.audience.subscribers import (
    clean_language,
    clean_name,
    ensure_list,
    get_subscriber,
    normalise_email,
)
from mailer.errors import SubscriberError
from mailer.store.db import open_db

from .fixtures_subscribers import SECRET, write_csv


def _people(db):
    return {
        email: (name, language)
        for email, name, language in db.execute("SELECT email, name, language FROM subscribers")
    }


def test_excel_semicolon_utf8_with_bom_and_swedish_headers(db, settings, csv_file):
    path = csv_file(
        [["Asa.Oberg@Example.se", "Åsa Öberg", "SV"], ["jens@ærø.dk", "Jens Ærø", "da"]],
        header=["E-post", "Namn", "Språk"],
        delimiter=";",
        encoding="utf-8-sig",
    )
    report = import_csv(db, settings, path)
    assert (report.encoding, report.delimiter, report.added) == ("utf-8-sig", ";", 2)
    assert _people(db) == {
        "asa.oberg@example.se": ("Åsa Öberg", "sv"),
        "jens@" + "ærø.dk".encode("idna").decode(): ("Jens Ærø", "da"),
    }


def test_cp1252_file_from_excel_keeps_its_letters(db, settings, csv_file):
    path = csv_file(
        [["sarka@example.cz", "Šárka Dvorák", "en"], ["zoe@example.fr", "Zoë Œuvre", "en"]],
        header=["Email", "Name", "Language"],
        delimiter=";",
        encoding="cp1252",
    )
    report = import_csv(db, settings, path)
    assert report.encoding == "cp1252"
    assert _people(db) == {
        "sarka@example.cz": ("Šárka Dvorák", "en"),
        "zoe@example.fr": ("Zoë Œuvre", "en"),
    }


def test_latin1_and_utf16_files_are_read(db, settings, csv_file, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email,name\r\nmarta@example.se,Mårta Ängström\r\n".encode("latin-1"))
    assert import_csv(db, settings, latin).added == 1  # read as cp1252, its superset
    assert get_subscriber(db, "marta@example.se")["name"] == "Mårta Ängström"
    odd = tmp_path / "odd.csv"  # 0x81 is undefined in cp1252: Latin-1, a C1 control there
    odd.write_bytes("email,name\r\nodd@example.se,Odd \x81\r\n".encode("latin-1"))
    assert detect_encoding(odd) == "latin-1"
    bad_name = r"odd\.csv, row 2, column 'name': .*control character"
    with pytest.raises(ImportRejected, match=bad_name):
        import_csv(db, settings, odd)
    utf16 = csv_file(
        [["tab@example.se", "Tåb Person", "sv"]],
        name="unicode.txt",
        delimiter="\t",
        encoding="utf-16",
    )
    report = import_csv(db, settings, utf16)
    assert (report.encoding, report.delimiter, report.added) == ("utf-16", "\t", 1)
    assert get_subscriber(db, "tab@example.se")["name"] == "Tåb Person"


def test_header_names_in_any_case_and_all_columns(db, settings, csv_file):
    ensure_list(db, "events")
    path = csv_file(
        [
            ["all@example.se", "All Columns", "EN", "nyhetsbrev|events", "2025-03-31", "fair 2025"],
            ["some@example.se", "Some", "", "", "", ""],
        ],
        header=["E-MAIL", "NAME", "Language", "Lists", "Consent_Date", "SOURCE"],
    )
    import_csv(db, settings, path, source="default source")
    assert get_subscriber(db, "all@example.se")["subscriptions"] == {
        "events": "active",
        "nyhetsbrev": "active",
    }
    events = db.execute(
        "SELECT s.email, l.name, log.channel, log.source, log.detail FROM consent_log log "
        "JOIN subscribers s ON s.id = log.subscriber_id JOIN lists l ON l.id = log.list_id "
        "ORDER BY log.id"
    ).fetchall()
    assert sorted(events) == [
        (
            "all@example.se",
            "events",
            "csv:members.csv:2",
            "fair 2025",
            json.dumps({"consent_date": "2025-03-31"}),
        ),
        (
            "all@example.se",
            "nyhetsbrev",
            "csv:members.csv:2",
            "fair 2025",
            json.dumps({"consent_date": "2025-03-31"}),
        ),
        ("some@example.se", "nyhetsbrev", "csv:members.csv:3", "default source", None),
    ]
    assert get_subscriber(db, "some@example.se")["language"] == "sv"


def test_a_file_without_an_email_column_is_refused(db, settings, csv_file):
    with pytest.raises(SubscriberError, match="no e-mail column"):
        import_csv(db, settings, csv_file([["x"]], header=["telefon"]))


def test_invalid_rows_reject_the_file_with_every_line_number_and_write_nothing(
    db, settings, csv_file
):
    path = csv_file(
        [
            ["ok@example.se", "Ok", "sv"],
            ["not-an-address", "Bad", "sv"],
            ["ok2@example.se", "Evil\rBcc: x@example.se", "sv"],
            ["ok3@example.se", "Ok", "fi"],
            ["ok4@example.se", "Ok", "sv", "no-such-list"],
        ],
        header=["email", "name", "language", "lists"],
    )
    with pytest.raises(ImportRejected) as rejected:
        import_csv(db, settings, path, list_name="brand-new-list")
    lines = str(rejected.value).splitlines()
    for row, column, words in (
        (3, "email", "not a valid e-mail"),
        (4, "name", "line break"),
        (5, "language", "unknown language"),
        (6, "lists", "unknown list 'no-such-list'"),
    ):
        prefix = f"members.csv, row {row}, column {column!r}: "
        assert any(line.startswith(prefix) and words in line for line in lines), (prefix, lines)
    message = str(rejected.value)
    assert "nothing was imported" in message
    assert db["subscribers"].count == 0 and db["lists"].count == 0
    assert db["consent_log"].count == 0


def test_a_bad_cell_is_named_by_the_header_the_file_uses(db, settings, csv_file, run_cli):
    path = csv_file(
        [["ok@example.se", "Ok", "2025-01-31", "mässa"], ["ok2@example.se", "Ok", "igår", "x"]],
        header=["E-post", "Namn", "Samtyckesdatum", "Källa"],
    )
    result = run_cli("subscribers", "import", str(path))
    assert result.exit_code != 0
    assert "members.csv, row 3, column 'Samtyckesdatum': consent_date 'igår'" in result.output
    assert db["subscribers"].count == 0


def test_duplicates_are_reported_with_rows_even_across_batches(db, settings, csv_file):
    rows = [[f"p{i}@example.se", f"P {i}", "sv"] for i in range(BATCH_SIZE + 50)]
    rows.append(["P3@EXAMPLE.SE", "again", "sv"])
    rows.insert(2, ["p0@example.se", "early duplicate", "sv"])
    report = import_csv(db, settings, csv_file(rows))
    assert report.duplicates == 2 and report.added == BATCH_SIZE + 50
    assert "members.csv, row 4: p0@example.se is a duplicate of row 2; skipped" in report.problems
    assert any("p3@example.se is a duplicate of row 6" in p for p in report.problems)
    assert get_subscriber(db, "p0@example.se")["name"] == "P 0"


def test_import_never_reactivates_unsubscribed_pending_or_erased_people(
    db, settings, csv_file, signup
):
    add_subscriber(db, settings, "left@example.se")
    unsubscribe_address(db, "left@example.se")
    signup("pending@example.se", lists=("nyhetsbrev",))  # the default list of add and import
    add_subscriber(db, settings, "erased@example.se")
    erase_subscriber(db, settings, "erased@example.se")
    add_subscriber(db, settings, "active@example.se", name="Kept Name")
    path = csv_file(
        [
            ["left@example.se", "L", ""],
            ["pending@example.se", "P", ""],
            ["erased@example.se", "E", ""],
            ["active@example.se", "New Name", ""],
            ["fresh@example.se", "F", ""],
        ]
    )
    report = import_csv(db, settings, path)
    assert (report.not_reactivated, report.suppressed, report.already, report.added) == (2, 1, 1, 1)
    assert get_subscriber(db, "left@example.se")["subscriptions"] == {"nyhetsbrev": "unsubscribed"}
    assert get_subscriber(db, "pending@example.se")["subscriptions"] == {"nyhetsbrev": "pending"}
    assert get_subscriber(db, "erased@example.se") is None
    assert get_subscriber(db, "active@example.se")["name"] == "Kept Name"
    assert any(
        p.startswith("members.csv, row 2: left@example.se is unsubscribed since")
        for p in report.problems
    )
    assert "members.csv, row 4: erased@example.se was erased on request; not imported" in (
        report.problems
    )


def test_dry_run_counts_exactly_and_writes_nothing(db, settings, csv_file):
    path = csv_file(
        [["a@example.se", "A", ""], ["b@example.se", "B", ""], ["a@example.se", "A", ""]]
    )
    report = import_csv(db, settings, path, list_name="new-list", dry_run=True)
    assert (report.added, report.duplicates) == (2, 1)
    assert db["subscribers"].count == 0 and db["lists"].count == 0


def test_cli_import_dry_run_then_real_with_summary(run_cli, csv_file, settings):
    path = csv_file([["cli1@example.se", "One", "sv"], ["cli2@example.se", "Two", "da"]])
    dry = run_cli("subscribers", "import", str(path), "--list", "events", "--dry-run")
    assert dry.exit_code == 0 and "would import 2 rows" in dry.output
    assert open_db(settings.db_path)["subscribers"].count == 0
    real = run_cli("subscribers", "import", str(path), "--list", "events", "--source", "crm")
    assert real.exit_code == 0
    assert "imported 2 rows (utf-8, ','): 2 new people, 2 new subscriptions" in real.output
    listing = run_cli("subscribers", "list", "--list", "events").output
    assert "cli2@example.se\tTwo\tda\tevents\tactive" in listing


def test_cli_import_of_a_bad_file_exits_non_zero(run_cli, csv_file, tmp_path):
    bad = run_cli("subscribers", "import", str(csv_file([["nope", "x", "sv"]])))
    assert bad.exit_code != 0 and "row 2" in bad.output and "nothing was imported" in bad.output
    missing = run_cli("subscribers", "import", str(tmp_path / "missing.csv"))
    assert missing.exit_code != 0 and "no such file" in missing.output
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"email,name\nx@example.se,a\x00b\n")
    result = run_cli("subscribers", "import", str(nul))
    assert result.exit_code != 0 and "Error:" in result.output


# --- random rows -----------------------------------------------------------------------------

EMAILS = st.one_of(
    st.from_regex(
        r"[a-zA-Z0-9._%+-]{1,12}@[a-z0-9-]{1,10}\.(se|dk|com|xn--rebro-iua\.se)", fullmatch=True
    ),
    st.sampled_from(["dup@example.se", "DUP@example.se", "user@bücher.de", "", "x@", "@x.se"]),
    st.text(max_size=20),
)
ROWS = st.lists(
    st.tuples(
        EMAILS,
        st.one_of(st.text(max_size=15), st.sampled_from(["Åsa", "Jens Ærø", "A\r\nB", "Zoë"])),
        st.sampled_from(["", "sv", "DA", "en", "fi", " en "]),
    ),
    max_size=12,
)


def _expected(rows):
    """What the importer should do, from the same validation functions used one row at a time:
    None if any row is invalid, else {email: (name, language)} of the first occurrences."""
    people = {}
    for email, name, language in rows:
        if not any(cell.strip() for cell in (email, name, language)):
            continue  # blank line
        try:
            key = normalise_email(email)
            value = (clean_name(name), clean_language(language))
        except SubscriberError:
            return None
        people.setdefault(key, value)
    return people


@hsettings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=ROWS,
    delimiter=st.sampled_from([",", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_random_rows_are_imported_exactly_or_the_file_is_rejected_untouched(
    settings, rows, delimiter, encoding
):
    # `settings` is a frozen dataclass, safe to share between examples; the database is not,
    # so each example gets its own file
    rows = [(e, n, lang) for e, n, lang in rows if "\x00" not in e + n]
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "subscribers.db")
        add_subscriber(db, settings, "already@example.se", name="Already")
        path = write_csv(
            Path(folder) / "random.csv",
            [list(r) for r in rows],
            delimiter=delimiter,
            encoding=encoding,
        )
        expected = _expected(rows)
        before = _people(db)
        try:
            report = import_csv(db, settings, path)
        except ImportRejected:
            assert expected is None
            assert _people(db) == before
        else:
            assert expected is not None
            assert _people(db) == {**expected, **before}
            assert report.added == len(set(expected) - set(before))
        db.close()


# --- a second process writing at the same time -----------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mailer.config import load_settings
    from mailer.store.db import open_db
    from mailer.audience.roster import add_subscriber
    db_path, stop = Path(sys.argv[1]), Path(sys.argv[2])
    settings = load_settings({"db_path": db_path, "secret_key": sys.argv[3]},
                             env_file=None, environ={})
    db = open_db(db_path)
    written = 0
    deadline = time.monotonic() + 60
    while not stop.exists() and time.monotonic() < deadline:
        add_subscriber(db, settings, f"writer{written}@example.se", list_name="events")
        written += 1
        if written == 1:
            (stop.parent / "started").touch()
        time.sleep(0.002)
    print(written)
    """
)


@pytest.mark.slow
def test_import_of_20000_rows_while_another_process_writes(run_cli, settings, csv_file, tmp_path):
    open_db(settings.db_path).close()
    path = csv_file([[f"bulk{i}@example{i % 97}.se", f"Bulk {i}", "sv"] for i in range(20_000)])
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.db_path), str(stop), SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if (tmp_path / "started").exists() or writer.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        result = run_cli("subscribers", "import", str(path))
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=90)
    assert writer.returncode == 0, err
    assert "database is locked" not in err + result.output
    assert result.exit_code == 0, result.output
    assert "20000 new people" in result.output
    written = int(out.strip())
    assert written > 0
    db = open_db(settings.db_path)
    assert (
        db.execute("SELECT count(*) FROM subscribers WHERE email LIKE 'writer%'").fetchone()[0]
        == written
    )
    assert (
        db.execute("SELECT count(*) FROM subscribers WHERE email LIKE 'bulk%'").fetchone()[0]
        == 20_000
    )
    # the writer was at work before the import began and went on after it: it waited, it
    # did not fail
    first, last = db.execute(
        "SELECT min(created), max(created) FROM subscribers WHERE email LIKE 'bulk%'"
    ).fetchone()
    before, after = db.execute(
        "SELECT sum(created < ?), sum(created > ?) FROM subscribers WHERE email LIKE 'writer%'",
        [first, last],
    ).fetchone()
    assert before > 0 and after > 0
