"""The list's API endpoints (/api/v1/subscribers, /lists, /stats, /bounces, /gdpr, /audit).

Each handler calls the same `LocalList` method the local command calls and answers its
result as JSON; each change is recorded in the audit log with its counts (never an address).
Addresses come in JSON bodies, never in URLs. docs/api.md describes every endpoint.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from flask import Response, current_app, jsonify, request

from ..config import DEFAULT_LIST
from ..errors import MailerError
from ..remote.lists import LocalList
from ..remote.wire import (
    bounce_summary_to_json,
    encode_bytes,
    import_report_to_json,
    list_to_json,
)
from .api import api_blueprint, audit, require_token
from .database import get_db

bp = api_blueprint("api_list", __name__)
CHUNK = 256 * 1024


class BadRequest(MailerError):
    """A request the API cannot read (a missing field, a bad file name)."""


def _the_list() -> LocalList:
    return LocalList(current_app.config["SETTINGS"], get_db())


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object as the body (Content-Type: application/json)")
    return body


def _field(body: dict, name: str, *, required: bool = True):
    value = body.get(name)
    if required and (not isinstance(value, str) or not value):
        raise BadRequest(f"the body needs {name!r} (text)")
    return value


def _flag(name: str) -> bool:
    return request.args.get(name, "0").lower() in ("1", "true", "yes")


def _save_body(folder: Path, name: str) -> Path:
    """The streamed request body as `folder/name` (name: a plain file name)."""
    if not name or Path(name).name != name or name.startswith("."):
        raise BadRequest(f"file name {name!r}: give a plain name such as members.csv")
    target = folder / name
    with target.open("wb") as handle:
        shutil.copyfileobj(request.stream, handle, CHUNK)
    return target


@bp.post("/subscribers/add")
@require_token
def add():
    body = _body()
    message = _the_list().add(
        _field(body, "email"),
        name=body.get("name") or "",
        list_name=body.get("list") or DEFAULT_LIST,
        language=body.get("language") or "sv",
        source=body.get("source"),
    )
    audit("subscribers add", {"requests": 1})
    return jsonify({"message": message})


@bp.post("/subscribers/import")
@require_token
def import_file():
    """The body is the file itself (CSV or .xlsx); `name` says its file name."""
    with tempfile.TemporaryDirectory(prefix="newsletter-import-") as tmp:
        path = _save_body(Path(tmp), request.args.get("name", ""))
        dry_run = _flag("dry_run")
        report = _the_list().import_file(
            path,
            list_name=request.args.get("list") or DEFAULT_LIST,
            source=request.args.get("source"),
            dry_run=dry_run,
            skip_invalid=_flag("skip_invalid"),
        )
        rejected = report.rejected_file.read_bytes() if report.rejected_file else None
    if not dry_run:
        counts = {"rows": report.rows, "new people": report.added}
        counts |= {"new subscriptions": report.subscribed, "invalid": report.invalid}
        audit("subscribers import", counts)
    return jsonify({"report": import_report_to_json(report), "rejected": encode_bytes(rejected)})


@bp.get("/subscribers")
@require_token
def subscriptions():
    rows = list(_the_list().subscriptions(request.args.get("list"), request.args.get("status")))
    return jsonify({"rows": rows})


@bp.post("/subscribers/fields")
@require_token
def set_fields():
    body = _body()
    assignments = body.get("assignments")
    if not isinstance(assignments, list) or not all(isinstance(a, str) for a in assignments):
        raise BadRequest("the body needs 'assignments': a list of FIELD=VALUE texts")
    fields = _the_list().set_fields(_field(body, "email"), assignments)
    audit("subscribers set", {"fields": len(assignments)})
    return jsonify({"fields": fields})


@bp.post("/subscribers/show")
@require_token
def show():
    return jsonify({"document": _the_list().show(_field(_body(), "email"))})


@bp.get("/subscribers/export")
@require_token
def export():
    """The whole export, counted first (the count travels as X-Newsletter-Count)."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8")  # noqa: SIM115 - closed by the generator
    count = _the_list().export(spool, request.args.get("format", "csv"))
    spool.seek(0)

    def chunks():
        with spool:
            while text := spool.read(CHUNK):
                yield text.encode("utf-8")

    kind = "text/csv" if request.args.get("format", "csv") == "csv" else "application/json"
    response = Response(chunks(), mimetype=kind)
    response.headers["X-Newsletter-Count"] = str(count)
    return response


def _change(action: str, method: str):
    body = _body()
    changed = getattr(_the_list(), method)(_field(body, "email"), body.get("list"))
    audit(action, {"subscriptions": len(changed)})
    return jsonify({"changed": changed})


@bp.post("/subscribers/unsubscribe")
@require_token
def unsubscribe():
    return _change("subscribers unsubscribe", "unsubscribe")


@bp.post("/subscribers/reactivate")
@require_token
def reactivate():
    return _change("subscribers reactivate", "reactivate")


@bp.post("/subscribers/erase")
@require_token
def erase():
    _the_list().erase(_field(_body(), "email"))
    audit("subscribers erase", {"people": 1})
    return jsonify({"erased": True})


@bp.post("/subscribers/purge")
@require_token
def purge():
    older_than = _body().get("older_than")
    if older_than is not None and (not isinstance(older_than, int) or older_than < 0):
        raise BadRequest("'older_than' must be a whole number of days >= 0")
    counts = _the_list().purge(older_than)
    audit("subscribers purge", counts)
    return jsonify({"counts": counts})


@bp.get("/lists")
@require_token
def lists():
    return jsonify({"lists": [list_to_json(entry) for entry in _the_list().lists()]})


@bp.post("/lists/<name>")
@require_token
def configure_list(name: str):
    body = _body()
    public = body.get("public")
    if public is not None and not isinstance(public, bool):
        raise BadRequest("'public' must be true, false or null")
    entry = _the_list().configure_list(
        name, title=body.get("title"), public=public, welcome=body.get("welcome")
    )
    audit("subscribers lists", {"lists": 1})
    return jsonify({"list": list_to_json(entry)})


@bp.get("/stats")
@require_token
def stats():
    return jsonify(_the_list().stats())


def _unpack(tmp: Path) -> tuple[list[Path], dict[str, str]]:
    """The uploaded tar's files, as the laptop named them (manifest.json: number -> path)."""
    packed = _save_body(tmp, "upload.tar")
    target = tmp / "files"
    try:
        with tarfile.open(packed) as tar:
            tar.extractall(target, filter="data")  # refuses ../, absolute paths and links
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise BadRequest(
            f"the upload is not a tar of bounce files with a manifest ({exc})"
        ) from None
    paths = []
    for number in sorted(manifest, key=int):
        found = sorted((target / str(int(number))).iterdir())
        if len(found) != 1:
            raise BadRequest(f"the upload's entry {number} should hold one file or folder")
        paths.append(found[0])
    return paths, manifest


@bp.post("/bounces/import")
@require_token
def bounces_import():
    dry_run = _flag("dry_run")
    with tempfile.TemporaryDirectory(prefix="newsletter-bounces-") as tmp:
        paths, manifest = _unpack(Path(tmp))
        summary = _the_list().bounces_import(paths, dry_run=dry_run)
    names = {str(path): manifest[str(n)] for n, path in enumerate(paths)}
    summary.details = [
        (_relabel(label, names), outcome, text) for label, outcome, text in summary.details
    ]
    if not dry_run:
        audit("bounces import", _bounce_counts(summary))
    return jsonify({"summary": bounce_summary_to_json(summary)})


def _relabel(label: str, names: dict[str, str]) -> str:
    """A label of the server's copy (`/tmp/.../0/bounce.eml#3`) as the laptop named it."""
    for server_path, laptop_path in names.items():
        if label.startswith(server_path):
            return laptop_path + label[len(server_path) :]
    return label


def _bounce_counts(summary) -> dict:
    return {
        "read": summary.read,
        "hard": summary.hard,
        "soft": summary.soft,
        "complaints": summary.complaints,
        "ended": summary.changed,
    }


@bp.post("/bounces/fetch")
@require_token
def bounces_fetch():
    dry_run = bool(_body().get("dry_run"))
    summary = _the_list().bounces_fetch(dry_run=dry_run)
    if not dry_run:
        audit("bounces fetch", _bounce_counts(summary))
    return jsonify({"summary": bounce_summary_to_json(summary)})


@bp.get("/gdpr/record")
@require_token
def gdpr_record():
    return jsonify({"markdown": _the_list().gdpr_record(current_app.config["NEWSLETTERS_DIR"])})


@bp.get("/audit")
@require_token
def audit_entries():
    last = request.args.get("last", type=int)
    entries = _the_list().audit(token_name=request.args.get("token"), last=last)
    return jsonify({"entries": entries})
