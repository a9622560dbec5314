"""Imports from real spreadsheets: --skip-invalid with a rejected file, dates as Excel writes
them in Sweden and Denmark, and .xlsx workbooks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook

from mailer.audience.import_report import ImportRejected
from mailer.audience.importer import import_csv
from mailer.audience.subscribers import get_subscriber

HEADER = ["E-post", "Namn", "Samtyckesdatum"]


def consent_dates(db) -> dict[str, str]:
    """address -> the consent date the import recorded."""
    return {
        email: json.loads(detail)["consent_date"]
        for email, detail in db.execute(
            "SELECT s.email, c.detail FROM consent_log c JOIN subscribers s "
            "ON s.id = c.subscriber_id WHERE c.detail IS NOT NULL"
        )
    }


def people(db) -> set[str]:
    return {email for (email,) in db.execute("SELECT email FROM subscribers")}


def test_skip_invalid_imports_the_rest_and_writes_rejected_rows_in_the_files_shape(
    db, settings, csv_file, run_cli, tmp_path
):
    path = csv_file(
        [
            ["anna@exempel.se", "Anna Öberg", "2026-01-05"],
            ["inte-en-adress", "Örjan Åkesson", ""],
            ["bo@exempel.se", "Bo", "igår"],
            ["cilla@exempel.se", "Cilla Ärlig", ""],
        ],
        header=HEADER,
        delimiter=";",
        encoding="cp1252",
    )
    result = run_cli("subscribers", "import", str(path), "--list", "nyhetsbrev", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert people(db) == {"anna@exempel.se", "cilla@exempel.se"}
    rejected = tmp_path / "members.rejected.csv"
    assert f"2 invalid rows written to {rejected}" in result.output
    raw = rejected.read_bytes()
    assert "Örjan Åkesson".encode("cp1252") in raw  # same encoding as the input
    rows = list(csv.reader(io.StringIO(raw.decode("cp1252")), delimiter=";"))
    assert rows[0] == [*HEADER, "reason"]
    assert [r[:3] for r in rows[1:]] == [
        ["inte-en-adress", "Örjan Åkesson", ""],
        ["bo@exempel.se", "Bo", "igår"],
    ]
    assert rows[1][3].startswith("row 3, column 'E-post': ") and "not a valid" in rows[1][3]
    assert rows[2][3].startswith("row 4, column 'Samtyckesdatum': consent_date 'igår'")

    # fixed in the spreadsheet and imported again: the reason column is ignored
    rows[1][0], rows[2][2] = "orjan@exempel.se", "2026-01-07"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    rejected.write_bytes(buffer.getvalue().encode("cp1252"))
    again = run_cli("subscribers", "import", str(rejected), "--list", "nyhetsbrev")
    assert again.exit_code == 0, again.output
    assert get_subscriber(db, "orjan@exempel.se")["name"] == "Örjan Åkesson"
    assert consent_dates(db)["bo@exempel.se"] == "2026-01-07"


def test_without_skip_invalid_the_file_is_still_all_or_nothing(db, settings, csv_file, tmp_path):
    path = csv_file([["anna@exempel.se", "Anna", ""], ["trasig", "X", ""]], header=HEADER)
    with pytest.raises(ImportRejected, match="--skip-invalid"):
        import_csv(db, settings, path)
    assert people(db) == set()
    assert not (tmp_path / "members.rejected.csv").exists()


def test_a_dry_run_with_skip_invalid_writes_no_file(db, settings, csv_file, tmp_path):
    path = csv_file([["anna@exempel.se", "Anna", ""], ["trasig", "X", ""]], header=HEADER)
    report = import_csv(db, settings, path, dry_run=True, skip_invalid=True)
    assert (report.rows, report.invalid, report.added) == (2, 1, 1)
    assert people(db) == set() and not (tmp_path / "members.rejected.csv").exists()


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2026-03-05", "2026-03-05 14:30"], ["2026-03-05", "2026-03-05 14:30:00"]),
        (["05.03.2026", "5.3.2026", "05-03-2026"], ["2026-03-05"] * 3),
        (["5/3/2026", "13/3/2026"], ["2026-03-05", "2026-03-13"]),  # a day over 12: d/m
        (["3/5/2026", "3/13/2026"], ["2026-03-05", "2026-03-13"]),  # a day over 12: m/d
        (["3/3/2026"], ["2026-03-03"]),  # the same either way
    ],
)
def test_dates_as_excel_writes_them_are_read_per_file(db, settings, csv_file, dates, expected):
    rows = [[f"p{n}@exempel.se", "", date] for n, date in enumerate(dates)]
    import_csv(db, settings, csv_file(rows, header=HEADER, delimiter=";"))
    found = consent_dates(db)
    assert [found[f"p{n}@exempel.se"] for n in range(len(dates))] == expected


def test_an_ambiguous_slashed_date_is_refused_with_its_row(db, settings, csv_file):
    rows = [["a@exempel.se", "", "2026-01-02"], ["b@exempel.se", "", "5/3/2026"]]
    with pytest.raises(ImportRejected) as caught:
        import_csv(db, settings, csv_file(rows, header=HEADER))
    message = str(caught.value)
    assert "row 3, column 'Samtyckesdatum'" in message
    assert "'5/3/2026' could be 5 Mar or 3 May" in message and "2026-03-05" in message
    assert people(db) == set()


def test_a_file_mixing_day_first_and_month_first_is_refused(db, settings, csv_file):
    rows = [["a@exempel.se", "", "13/3/2026"], ["b@exempel.se", "", "3/14/2026"]]
    with pytest.raises(ImportRejected, match=r"mixes day/month \(row 2\) and month/day \(row 3\)"):
        import_csv(db, settings, csv_file(rows, header=HEADER))


def test_impossible_and_future_dates_are_refused(db, settings, csv_file):
    future = (dt.date.today() + dt.timedelta(days=400)).strftime("%d.%m.%Y")
    rows = [["a@exempel.se", "", "31.02.2026"], ["b@exempel.se", "", future]]
    with pytest.raises(ImportRejected) as caught:
        import_csv(db, settings, csv_file(rows, header=HEADER))
    assert "'31.02.2026' is not a real date" in str(caught.value)
    assert "is in the future" in str(caught.value)


def write_workbook(path, rows):
    """An .xlsx as Excel saves it: a header row, a real date cell, numbers as numbers."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Medlemmar"
    sheet.append(["E-post", "Namn", "Samtyckesdatum", "Medlemsnummer"])
    for row in rows:
        sheet.append(row)
    sheet.cell(row=2, column=3).number_format = "yyyy-mm-dd"
    book.save(path)
    return path


def test_xlsx_workbook_is_imported_with_the_same_rules(db, settings, tmp_path, run_cli):
    path = write_workbook(
        tmp_path / "medlemmar.xlsx",
        [
            ["åsa.lindström@exempel.se", "Åsa Lindström", dt.datetime(2026, 3, 5), 1001],
            ["erik@exempel.se", "Erik", "05.03.2026", 1002],
            [None, None, None, None],  # a blank row, skipped
            ["ingen-snabel-a", "Fel", "2026-03-05", 1003],
            ["gunnel@exempel.se", "Gunnel", "5/3/2026", 1004],  # ambiguous in this file
        ],
    )
    refused = run_cli("subscribers", "import", str(path))
    assert refused.exit_code != 0 and people(db) == set()
    assert "medlemmar.xlsx, row 6, column 'Samtyckesdatum'" in refused.output

    result = run_cli("subscribers", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "(xlsx" in result.output
    assert people(db) == {"åsa.lindström@exempel.se", "erik@exempel.se"}
    assert consent_dates(db) == {
        "åsa.lindström@exempel.se": "2026-03-05",
        "erik@exempel.se": "2026-03-05",
    }
    raw = (tmp_path / "medlemmar.rejected.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, which Excel opens
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["E-post", "Namn", "Samtyckesdatum", "Medlemsnummer", "reason"]
    assert [r[0] for r in rows[1:]] == ["ingen-snabel-a", "gunnel@exempel.se"]
    assert rows[1][3] == "1003"  # a whole number without Excel's .0


def test_a_broken_xlsx_is_a_clear_error(db, settings, tmp_path, run_cli):
    path = tmp_path / "trasig.xlsx"
    path.write_bytes(b"not a zip file")
    result = run_cli("subscribers", "import", str(path))
    assert result.exit_code != 0
    assert "trasig.xlsx: not readable as an .xlsx workbook" in result.output
