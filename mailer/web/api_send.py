"""The API's sending endpoints: a laptop uploads a built issue (a bundle), asks for the plan,
queues the send (now or `at` a local time) and watches it; test copies, status and scheduled
sends too. Each handler calls the library functions the local commands call (docs/api.md).

POST /bundles?sha256=HEX          the bundle (tar) as the body -> {"issue", "sha256", "stored"}
POST /sends                       {"issue", "sha256", "list", "segment", "connections", "rate",
                                   "retry_failed", "force", "at", "dry_run"} -> plan and job
GET  /sends/ISSUE?list=NAME       progress of the latest send of ISSUE
POST /sends/ISSUE/test            {"to"} -> one test copy, sent by the server
GET  /sends/ISSUE/status          what `send-status` shows
GET  /scheduled?all=1             the scheduled sends; POST /scheduled/ISSUE/cancel {"list"}
"""

from __future__ import annotations

import dataclasses

from flask import current_app, jsonify, request

from ..compose import bundle
from ..delivery import remote_queue, schedule, schedule_store
from ..delivery import send as sending
from ..errors import SendError
from .api import api_blueprint, audit, json_error, require_token

bp = api_blueprint("api_send", __name__)


def _issue_dir(slug: str):
    if not bundle.SLUG.fullmatch(slug) or ".." in slug:
        raise SendError(f"{slug!r} is not an issue's name")
    folder = current_app.config["NEWSLETTERS_DIR"] / slug
    if not (folder / "build" / "meta.json").is_file():
        raise SendError(f"{slug}: the server has no build of this issue; send it from the laptop")
    return folder


def _settings():
    return current_app.config["SETTINGS"]


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/bundles")
@require_token
def upload_bundle():
    limit = current_app.config.get("BUNDLE_MAX_BYTES") or bundle.MAX_BUNDLE_BYTES
    if (request.content_length or 0) > limit:
        return json_error(413, f"bundle refused: over the limit of {limit / 2**20:.0f} MB")
    data = request.get_data(cache=False)
    try:
        stored = bundle.store(
            data,
            request.args.get("sha256", ""),
            current_app.config["NEWSLETTERS_DIR"],
            max_bytes=limit,
            guard=lambda slug, sha: remote_queue.refuse_replacing(_settings(), slug, sha),
        )
    except remote_queue.SendHeld as exc:
        return json_error(409, str(exc))
    if stored.changed:
        audit("issue upload", {"bytes": len(data)})
    return jsonify({"issue": stored.slug, "sha256": stored.sha256, "stored": stored.changed})


@bp.post("/sends")
@require_token
def queue():
    from flask import g

    body = _body()
    slug = str(body.get("issue") or "")
    issue_dir = _issue_dir(slug)
    sha256 = str(body.get("sha256") or "")
    if sha256 != bundle.stored_hash(issue_dir):
        raise SendError(f"{slug}: the server holds another build of it; send again to upload it")
    options = {
        "list_name": body.get("list") or None,
        "segment": body.get("segment") or None,
        "connections": body.get("connections"),
        "rate": body.get("rate"),
    }
    if body.get("at"):
        return _schedule(issue_dir, body, options)
    try:
        job, plan = remote_queue.queue_send(
            _settings(),
            issue_dir,
            token_name=g.api_token,
            sha256=sha256,
            retry_failed=bool(body.get("retry_failed")),
            force=bool(body.get("force")),
            dry_run=bool(body.get("dry_run")),
            limit=body.get("limit"),
            **options,
        )
    except remote_queue.SendHeld as exc:
        return json_error(409, str(exc))
    if job is not None and job.created:
        audit("send queued", {"recipients": plan.recipients})
        current_app.extensions["sender"].wake()
    answer = {"plan": plan.describe(), **dataclasses.asdict(plan)}
    answer["job"] = remote_queue.progress(_settings(), slug, plan.list_name) if job else None
    return jsonify(answer)


def _schedule(issue_dir, body: dict, options: dict):
    """`send --at`: the same `schedule_send` as locally; a dry run answers the plan only."""
    settings, force, seen = _settings(), bool(body.get("force")), {}

    def gate(folder):
        meta = sending.prepare_issue(folder, settings).meta
        remote_queue.server_gate(settings, meta, force=force)

    def confirm(plan, planned):
        seen.update(plan=plan, planned=planned)
        return not body.get("dry_run")

    try:
        planned, plan = schedule.schedule_send(
            settings, issue_dir, str(body["at"]), force=force, gate=gate, confirm=confirm, **options
        )
    except SendError:
        if not (body.get("dry_run") and seen):
            raise
        planned, plan = seen["planned"], seen["plan"]
    else:
        audit("send scheduled", {"recipients": plan.recipients})
    return jsonify(
        {
            "plan": plan.describe().replace(" to send now", " on the list now", 1),
            "scheduled": planned.when(),
            "issue": planned.issue,
            "list_name": planned.list_name,
            "job": None,
        }
    )


@bp.get("/sends/<slug>")
@require_token
def progress(slug: str):
    found = remote_queue.progress(_settings(), slug, request.args.get("list") or None)
    if found is None:
        return json_error(404, f"{slug}: no send of it was queued on the server")
    return jsonify(found)


@bp.post("/sends/<slug>/test")
@require_token
def test_copy(slug: str):
    to = str(_body().get("to") or "")
    reply = sending.send_test(_settings(), _issue_dir(slug), to)
    audit("test copy", {"messages": 1})
    return jsonify({"reply": reply})


@bp.get("/sends/<slug>/status")
@require_token
def status(slug: str):
    folder = current_app.config["NEWSLETTERS_DIR"] / slug
    if not bundle.SLUG.fullmatch(slug) or ".." in slug:
        raise SendError(f"{slug!r} is not an issue's name")
    return jsonify(sending.send_status(_settings(), folder))


@bp.get("/scheduled")
@require_token
def scheduled_list():
    found = schedule_store.list_schedules(_settings(), everything=bool(request.args.get("all")))
    return jsonify(
        {"scheduled": [{**dataclasses.asdict(item), "when": item.when()} for item in found]}
    )


@bp.post("/scheduled/<slug>/cancel")
@require_token
def scheduled_cancel(slug: str):
    found = schedule_store.cancel_schedule(_settings(), slug, list_name=_body().get("list") or None)
    audit("schedule cancelled", {"schedules": len(found)})
    return jsonify(
        {"cancelled": [{**dataclasses.asdict(item), "when": item.when()} for item in found]}
    )
