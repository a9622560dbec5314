"""Charts of the funder's report (`newsletter report --charts DIR`, the preview's /report page):
SVG and PNG drawn with matplotlib, made to sit in a Word report.

16:9 at 200 dpi (2000 x 1125 px PNG), large type, one colour per series, the values written on
the bars, no frame, no legend box, titles in the site's language. matplotlib is an optional
extra (`newsletter[report]`); the text and CSV report work without it. Figures are made with
`matplotlib.figure.Figure` (no pyplot): nothing global, safe in the web app's threads.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..locale import translate
from .funder_report import FunderReport, ReportError

INSTALL_HINT = (
    "charts need matplotlib: install it with `pipx inject newsletter matplotlib` "
    "(or `pip install 'newsletter[report]'`); the text and CSV report work without it"
)
SIZE_INCHES = (10, 5.625)  # 16:9
DPI = 200
COLOURS = {
    "delivered": "#1f5f8b",
    "clicks": "#c8702a",
    "sign_ups": "#2e8b57",
    "unsubscriptions": "#b03a2e",
}
LINE_COLOURS = ("#1f5f8b", "#c8702a", "#2e8b57", "#7b4f9d", "#b03a2e", "#4d4d4d")
STYLE = {
    "font.size": 15,
    "axes.titlesize": 20,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 15,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "newsletter-report",  # the same figures give the same SVG bytes
}


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise ReportError(INSTALL_HINT) from None
    matplotlib.use("Agg")
    return matplotlib


def _new_axes(title: str):
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, pad=16)
    axes.grid(axis="y", color="#dddddd", linewidth=1)
    axes.set_axisbelow(True)
    axes.tick_params(length=0)
    return figure, axes


def _thin_labels(axes, labels: list[str]) -> None:
    """Every label when they fit, else every n-th, so that months and issues stay readable."""
    step = max(1, -(-len(labels) // 12))
    pad = max(0.6, (5 - len(labels)) / 2 + 0.6)  # one or two bars stay bars, not walls
    axes.set_xlim(-pad, len(labels) - 1 + pad)
    axes.set_xticks(range(len(labels)))
    axes.set_xticklabels([label if i % step == 0 else "" for i, label in enumerate(labels)])
    if len(labels) > 6:
        for tick in axes.get_xticklabels():
            tick.set_rotation(30)
            tick.set_horizontalalignment("right")


def _bars(title: str, labels: list[str], values: list[int], colour: str):
    figure, axes = _new_axes(title)
    bars = axes.bar(range(len(values)), values, color=colour, width=0.6)
    axes.bar_label(bars, labels=[f"{v:,}".replace(",", "\u202f") for v in values], padding=4)
    axes.margins(y=0.15)
    _thin_labels(axes, labels)
    axes.yaxis.get_major_locator().set_params(integer=True)
    return figure


def _figures(report: FunderReport) -> list[tuple[str, object]]:
    """(file stem, Figure) of every chart the report has figures for; the title is the
    figure's axes' left title."""
    t = lambda key: translate(report.language, key)  # noqa: E731 - a short local alias
    out = []
    issues = report.issues
    if issues:
        labels = [f.issue for f in issues]
        delivered = [f.delivered for f in issues]
        out.append(
            (
                "delivered",
                _bars(t("report_title_delivered"), labels, delivered, COLOURS["delivered"]),
            )
        )
        counted = [f for f in issues if f.total_clicks is not None]
        if counted:
            out.append(
                (
                    "clicks",
                    _bars(
                        t("report_title_clicks"),
                        [f.issue for f in counted],
                        [f.total_clicks or 0 for f in counted],
                        COLOURS["clicks"],
                    ),
                )
            )
    if report.months:
        months = sorted({m.month for m in report.months})
        lists = sorted({m.list_name for m in report.months})
        figure, axes = _new_axes(t("report_title_size"))
        for index, name in enumerate(lists):
            by_month = {m.month: m.size for m in report.months if m.list_name == name}
            xs = [i for i, month in enumerate(months) if month in by_month]
            axes.plot(
                xs,
                [by_month[months[i]] for i in xs],
                color=LINE_COLOURS[index % len(LINE_COLOURS)],
                linewidth=3,
                marker="o",
                label=name,
            )
            shown = xs if len(xs) <= 12 else xs[-1:]  # the values, or the latest of many
            for x in shown:
                axes.annotate(
                    f"{by_month[months[x]]:,}".replace(",", "\u202f"),
                    (x, by_month[months[x]]),
                    textcoords="offset points",
                    xytext=(0, 10),
                    ha="center",
                )
        if len(lists) > 1:
            axes.legend(frameon=False)
        axes.set_ylim(bottom=0)
        axes.margins(y=0.15)
        axes.yaxis.get_major_locator().set_params(integer=True)
        _thin_labels(axes, months)
        out.append(("subscribers", figure))

        figure, axes = _new_axes(t("report_title_flow"))
        sign_ups = [sum(m.sign_ups for m in report.months if m.month == mo) for mo in months]
        unsubs = [sum(m.unsubscriptions for m in report.months if m.month == mo) for mo in months]
        width = 0.4
        for offset, values, key in (
            (-width / 2, sign_ups, "sign_ups"),
            (width / 2, unsubs, "unsubscriptions"),
        ):
            bars = axes.bar(
                [i + offset for i in range(len(months))],
                values,
                width=width,
                color=COLOURS[key],
                label=t(f"report_{key}"),
            )
            if len(months) <= 12:
                axes.bar_label(bars, padding=3)
        axes.margins(y=0.15)
        axes.legend(frameon=False)
        axes.yaxis.get_major_locator().set_params(integer=True)
        _thin_labels(axes, months)
        out.append(("signups", figure))
    return out


def write_charts(report: FunderReport, folder: Path) -> list[Path]:
    """Each chart as STEM.svg and STEM.png in `folder` (created if needed); the files written."""
    folder = Path(folder)
    written = []
    matplotlib = _matplotlib()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"--charts {folder}: cannot create the folder ({exc})") from None
    with matplotlib.rc_context(STYLE):
        for stem, figure in _figures(report):
            for suffix in ("svg", "png"):
                path = folder / f"{stem}.{suffix}"
                metadata = {"Date": None} if suffix == "svg" else {}
                figure.savefig(path, format=suffix, dpi=DPI, metadata=metadata)
                written.append(path)
    return written


def svg_charts(report: FunderReport) -> list[tuple[str, str]]:
    """(title, SVG text) of every chart, for a page (the preview's /report)."""
    matplotlib = _matplotlib()
    out = []
    with matplotlib.rc_context(STYLE):
        for _stem, figure in _figures(report):
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
            out.append((figure.axes[0].get_title(loc="left"), buffer.getvalue()))
    return out
