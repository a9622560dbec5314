"""The preview server's /report page: the funder's figures and charts for the editor (the same
as `newsletter report`), in the page's language.

Registered only in preview mode. It reads the database when there is one and never creates
one (the editor's laptop may have none: the page says so). The charts are SVG embedded in the
page as data: images, so the page's strict Content-Security-Policy stays as it is (the SVG's
own styles apply inside the image) and nothing else is fetched.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

from flask import Blueprint, current_app, g

from ..delivery.funder_charts import svg_charts
from ..delivery.funder_output import tables
from ..delivery.funder_report import ReportError, funder_report
from .context import render_page
from .database import get_db

bp = Blueprint("report_page", __name__)


@bp.get("/report")
def report():
    settings = current_app.config["SETTINGS"]
    if not Path(settings.db_path).is_file():
        return render_page("report.html", report=None, db_path=str(settings.db_path))
    figures = funder_report(get_db(), current_app.config["NEWSLETTERS_DIR"])
    figures = dataclasses.replace(figures, language=g.lang)
    charts, charts_error = [], ""
    try:
        for title, svg in svg_charts(figures):
            data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
            charts.append({"title": title, "src": f"data:image/svg+xml;base64,{data}"})
    except ReportError as exc:  # matplotlib is not installed: the tables still show
        charts_error = str(exc)
    return render_page(
        "report.html",
        report=figures,
        db_path=str(settings.db_path),
        tables=tables(figures),
        charts=charts,
        charts_error=charts_error,
    )
