"""The laptop's side of a send the server runs: upload the bundle, ask for the plan, queue,
watch the progress (docs/api.md, "Sending").

Uploading is idempotent (the server keeps a bundle by its hash) and so is queueing (the same
token queueing the same bundle gets the send already queued), so after a cut connection the
same command, run again, completes the send once. Watching only reads: stopping it (Ctrl-C)
leaves the send running on the server.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..delivery.schedule_store import Schedule
from ..errors import RemoteError
from .client import ApiClient

POLL_SECONDS = 0.5  # the progress bar moves at least once a second
FINISHED = ("done", "stopped", "cancelled")


def upload_bundle(client: ApiClient, data: bytes, sha256: str) -> dict:
    """POST the bundle; the answer names the issue and whether the server stored anything new."""
    import io

    return client.upload(
        "/bundles", io.BytesIO(data), params={"sha256": sha256}, content_type="application/x-tar"
    )


def request_send(client: ApiClient, issue: str, sha256: str, **options: Any) -> dict:
    """Ask the server to check and queue (or, with `dry_run=True`, only plan) the send."""
    body = {"issue": issue, "sha256": sha256}
    body.update({key: value for key, value in options.items() if value not in (None, False)})
    return client.call("POST", "/sends", json=body)


def progress(client: ApiClient, issue: str, list_name: str | None = None) -> dict:
    return client.call("GET", f"/sends/{issue}", params={"list": list_name} if list_name else None)


def watch(
    client: ApiClient,
    issue: str,
    list_name: str | None,
    on_progress: Callable[[dict], None],
    *,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll the send's progress until it ends; `on_progress` gets each answer. A connection
    that fails once is asked again (the send goes on regardless); twice in a row stops."""
    failures = 0
    while True:
        try:
            state = progress(client, issue, list_name)
            failures = 0
        except RemoteError:
            failures += 1
            if failures > 2:
                raise
            sleep(poll_seconds)
            continue
        on_progress(state)
        if state["state"] in FINISHED:
            return state
        sleep(poll_seconds)


def issue_slug(issue_dir: Path) -> str:
    """The issue's name on the server: build/meta.json's slug, else the folder's name."""
    try:
        meta = json.loads((Path(issue_dir) / "build" / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    return str(meta.get("slug") or Path(issue_dir).name)


def send_status(client: ApiClient, issue_dir: Path) -> dict:
    """What `send-status` shows, from the server; `remote` is its latest queued send, if any."""
    slug = issue_slug(issue_dir)
    status = client.call("GET", f"/sends/{slug}/status")
    try:
        status["remote"] = progress(client, slug)
    except RemoteError:  # never queued from a laptop (sent on the server itself)
        status["remote"] = None
    return status


def _schedules(items: list[dict]) -> list[Schedule]:
    names = {f.name for f in dataclasses.fields(Schedule)}
    return [Schedule(**{k: v for k, v in item.items() if k in names}) for item in items]


def list_scheduled(client: ApiClient, *, everything: bool = False) -> list[Schedule]:
    answer = client.call("GET", "/scheduled", params={"all": "1"} if everything else None)
    return _schedules(answer["scheduled"])


def cancel_scheduled(client: ApiClient, issue: str, *, list_name: str | None = None) -> list:
    slug = Path(issue).name or str(issue)
    answer = client.call("POST", f"/scheduled/{slug}/cancel", json={"list": list_name})
    return _schedules(answer["cancelled"])
