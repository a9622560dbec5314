"""The funder's report (`funder_report.FunderReport`) as an aligned text table or as CSV for
Excel and Word, headed in the site's language.

CSV: one file with three sections (issues, clicks per link, months), each a title row, a
heading row and its rows, separated by an empty row: one file to attach, and each section
copies into Word as a table. UTF-8 with a byte-order mark, which Excel needs to read å, ä,
ø as such; semicolons for Swedish and Danish (Excel there splits on ';', not ','), commas
for English.
"""

from __future__ import annotations

import csv
import io

from ..locale import translate
from .funder_report import FunderReport, IssueFigures

BOM = "\ufeff"


def _issue_columns(language: str) -> list[str]:
    return [
        translate(language, key)
        for key in (
            "report_issue",
            "report_date",
            "report_list",
            "report_delivered",
            "report_failed",
            "report_hard",
            "report_soft",
            "report_complaints",
            "report_unsub_7d",
            "report_clicks",
        )
    ]


def _issue_row(figures: IssueFigures) -> list[str]:
    clicks = figures.total_clicks
    return [
        figures.issue,
        figures.date,
        ", ".join(figures.lists),
        str(figures.delivered),
        str(figures.failed),
        str(figures.hard_bounces),
        str(figures.soft_bounces),
        str(figures.complaints),
        str(figures.unsubscribed_7d),
        "-" if clicks is None else str(clicks),
    ]


def _link_rows(report: FunderReport) -> list[list[str]]:
    rows = []
    for figures in report.issues:
        if figures.clicks is None:
            continue
        for number, address in sorted(figures.links.items()):
            rows.append([figures.issue, str(number), address, str(figures.clicks.get(number, 0))])
    return rows


def tables(report: FunderReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headings, rows) of each section; a section with no rows is left out."""
    lang = report.language
    t = lambda key: translate(lang, key)  # noqa: E731 - a short local alias
    tables = [
        (t("report_issues"), _issue_columns(lang), [_issue_row(f) for f in report.issues]),
        (
            t("report_links"),
            [t("report_issue"), t("report_link"), t("report_address"), t("report_clicks")],
            _link_rows(report),
        ),
        (
            t("report_months"),
            [
                t("report_month"),
                t("report_list"),
                t("report_size"),
                t("report_sign_ups"),
                t("report_unsubscriptions"),
            ],
            [
                [m.month, m.list_name, str(m.size), str(m.sign_ups), str(m.unsubscriptions)]
                for m in report.months
            ],
        ),
    ]
    return [table for table in tables if table[2]]


def summary_line(report: FunderReport) -> str:
    """The one-line summary the CLI ends with."""
    delivered = sum(f.delivered for f in report.issues)
    counted = [f.total_clicks for f in report.issues if f.total_clicks is not None]
    text = f"{len(report.issues)} issue(s) sent, {delivered:,} delivered"
    if counted:
        text += f", {sum(counted):,} link clicks on {len(counted)} issue(s) with click counting"
    if report.months:
        last = report.months[-1].month
        size = sum(m.size for m in report.months if m.month == last)
        text += f"; {size:,} active subscriptions at the end of {last}"
    return text + "."


def render_text(report: FunderReport) -> str:
    """Aligned tables (numbers to the right), then the summary line."""
    out: list[str] = []
    for title, headings, rows in tables(report):
        widths = [max(len(r[i]) for r in [headings, *rows]) for i in range(len(headings))]
        numeric = [all(r[i] == "-" or r[i].isdigit() for r in rows) for i in range(len(headings))]

        def line(cells: list[str], widths=widths, numeric=numeric) -> str:
            return "  ".join(
                c.rjust(w) if num else c.ljust(w)
                for c, w, num in zip(cells, widths, numeric, strict=True)
            ).rstrip()

        out += [title, line(headings), line(["-" * w for w in widths])]
        out += [line(row) for row in rows]
        out.append("")
    if not report.issues and not report.months:
        out += ["Nothing to report yet: no issue has been sent and nobody has subscribed.", ""]
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


def render_csv(report: FunderReport) -> str:
    """The sections as CSV text, starting with a byte-order mark (see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter="," if report.language == "en" else ";", lineterminator="\r\n"
    )
    for index, (title, headings, rows) in enumerate(tables(report)):
        if index:
            writer.writerow([])
        writer.writerow([title])
        writer.writerow(headings)
        writer.writerows(rows)
    return BOM + buffer.getvalue()
