"""What travels between the laptop and the server: reports as JSON and back into the same
objects, so the laptop prints them with the same code as a local command.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

from ..audience.import_report import ImportReport
from ..audience.lists import ListSettings
from ..delivery.bounces.run import BounceSummary


def import_report_to_json(report: ImportReport) -> dict:
    data = dataclasses.asdict(report)
    data["path"] = report.path.name
    data["rejected_file"] = report.rejected_file.name if report.rejected_file else None
    return data


def import_report_from_json(data: dict, path: Path, rejected_file: Path | None) -> ImportReport:
    """The server's report as if the import had run here: `path` is the laptop's file."""
    fields = {f.name for f in dataclasses.fields(ImportReport)}
    values = {k: v for k, v in data.items() if k in fields}
    values.update(path=path, rejected_file=rejected_file)
    return ImportReport(**values)


def bounce_summary_to_json(summary: BounceSummary) -> dict:
    return dataclasses.asdict(summary)


def bounce_summary_from_json(data: dict) -> BounceSummary:
    fields = {f.name for f in dataclasses.fields(BounceSummary)}
    summary = BounceSummary(**{k: v for k, v in data.items() if k in fields})
    summary.details = [tuple(item) for item in summary.details]
    return summary


def list_to_json(entry: ListSettings) -> dict:
    return {**dataclasses.asdict(entry), "text": entry.describe()}


def list_from_json(data: dict) -> ListSettings:
    fields = {f.name for f in dataclasses.fields(ListSettings)}
    return ListSettings(**{k: v for k, v in data.items() if k in fields})


def encode_bytes(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def decode_bytes(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None
