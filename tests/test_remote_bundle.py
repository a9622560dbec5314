"""Bundles (a built issue as one archive) and the server's send queue, through the library:
the hash, the names and the size are checked before anything reaches the archive; the queue
holds one send per issue and list, and its worker sends with the same engine as a local send."""

from __future__ import annotations

import io
import re
import tarfile

import pytest

from mailer.compose import bundle
from mailer.delivery import remote_queue
from mailer.delivery.remote_worker import RemoteSendWorker
from mailer.errors import SendError

SLUG = "2026-10-partnerskapsmote"


@pytest.fixture
def server_root(tmp_path):
    root = tmp_path / "server-newsletters"
    root.mkdir()
    return root


def snapshot(root):
    return sorted(
        (str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()
    )


def tar_of(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return out.getvalue()


def good_members(built_examples) -> dict[str, bytes]:
    build = built_examples / SLUG / "build"
    return {n: (build / n).read_bytes() for n in bundle.REQUIRED}


def test_same_build_packs_to_the_same_bytes_and_stores_once(built_examples, server_root):
    first, second = bundle.pack(built_examples / SLUG), bundle.pack(built_examples / SLUG)
    assert first.data == second.data and first.sha256 == second.sha256 and first.slug == SLUG
    stored = bundle.store(first.data, first.sha256, server_root)
    assert stored.changed and stored.slug == SLUG
    build = server_root / SLUG / "build"
    for path in (built_examples / SLUG / "build").rglob("*"):
        if path.is_file():
            assert (build / path.relative_to(built_examples / SLUG / "build")).read_bytes() == (
                path.read_bytes()
            )
    assert bundle.is_received(server_root / SLUG)
    assert not bundle.store(first.data, first.sha256, server_root).changed


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.html", "climbs out"),
        ("images/../../x.png", "climbs out"),
        ("/etc/cron.d/x", "climbs out"),
        ("images/a/b.png", "not a file of"),
    ],
)
def test_a_name_outside_the_folder_is_refused_and_the_archive_unchanged(
    built_examples, server_root, name, reason
):
    data = tar_of({**good_members(built_examples), name: b"x"})
    before = snapshot(server_root.parent)
    with pytest.raises(bundle.BundleError, match=reason):
        bundle.store(data, bundle.digest(data), server_root)
    assert snapshot(server_root.parent) == before


def test_a_link_a_wrong_hash_and_an_oversize_bundle_are_refused(built_examples, server_root):
    good = bundle.pack(built_examples / SLUG)
    bundle.store(good.data, good.sha256, server_root)
    before = snapshot(server_root)
    linked = tar_of(good_members(built_examples), link="images/passwd.png")
    with pytest.raises(bundle.BundleError, match="link"):
        bundle.store(linked, bundle.digest(linked), server_root)
    changed = good.data.replace(b"Partnerskap", b"Partnersk4p", 1)
    with pytest.raises(bundle.BundleError, match="SHA-256"):
        bundle.store(changed, good.sha256, server_root)
    with pytest.raises(bundle.BundleError, match="over the limit"):
        bundle.store(good.data, good.sha256, server_root, max_bytes=len(good.data) - 1)
    assert snapshot(server_root) == before


def queued(settings, root, sha, token="anna-laptop", **options):  # noqa: S107
    return remote_queue.queue_send(settings, root / SLUG, token_name=token, sha256=sha, **options)


def test_the_queue_holds_one_send_and_the_worker_sends_it_once(
    built_examples, server_root, settings, db, mail_sink
):
    from mailer.audience.roster import add_subscriber

    for n in range(3):
        add_subscriber(db, settings, f"p{n}@example.se", list_name="partnerskapet")
    good = bundle.pack(built_examples / SLUG)
    bundle.store(good.data, good.sha256, server_root)
    sink_settings = mail_sink.settings(settings)
    job, plan = queued(sink_settings, server_root, good.sha256)
    assert (
        job is not None and plan.recipients == 3 and "Recipients: 3 to send now" in plan.describe()
    )
    again, _ = queued(sink_settings, server_root, good.sha256)
    assert again.id == job.id  # the same bundle from the same token: the same send
    with pytest.raises(remote_queue.SendHeld, match="token 'anna-laptop'"):
        queued(sink_settings, server_root, good.sha256, token="anna-laptop-2")
    assert RemoteSendWorker(sink_settings, server_root).run_due() == 1
    assert sorted(mail_sink.handler.copies().values()) == [1, 1, 1]
    done = remote_queue.progress(sink_settings, SLUG)
    assert done["state"] == "done" and done["done"] == 3 and "3 sent" in done["last_result"]
    none, plan = queued(sink_settings, server_root, good.sha256)
    assert none is None and plan.recipients == 0 and plan.already_sent == 3


def test_the_server_gate_refuses_a_build_for_another_address(built_examples, server_root, settings):
    import dataclasses

    good = bundle.pack(built_examples / SLUG)
    bundle.store(good.data, good.sha256, server_root)
    other = dataclasses.replace(settings, base_url="https://other.example.org")
    with pytest.raises(SendError, match=r"NEWSLETTER_BASE_URL=https://other\.example\.org"):
        queued(other, server_root, good.sha256)


# --- the API, through the app's test client (no worker runs: MAIL_IN_BACKGROUND is off) ----


@pytest.fixture
def api(web_app, db, newsletters_dir):
    """The app, two tokens and a helper making authenticated requests."""
    from mailer.remote.tokens import create_token

    secrets = {name: create_token(db, name) for name in ("anna-laptop", "bo-laptop")}
    client = web_app.test_client()

    def call(method, path, token="anna-laptop", **kwargs):  # noqa: S107
        headers = {"Authorization": f"Bearer {secrets[token]}"} if token else {}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def upload(api, data, sha, token="anna-laptop"):  # noqa: S107
    return api("POST", f"/bundles?sha256={sha}", token=token, data=data)


def test_api_refuses_a_bad_bundle_or_token_with_the_reason_and_changes_nothing(
    api, web_app, built_examples, newsletters_dir
):
    good = bundle.pack(built_examples / SLUG)
    climbing = tar_of({**good_members(built_examples), "../../evil.html": b"x"})
    web_app.config["BUNDLE_MAX_BYTES"] = len(good.data) - 1
    answers = [upload(api, good.data, good.sha256)]
    web_app.config["BUNDLE_MAX_BYTES"] = None
    answers += [
        upload(api, good.data, "0" * 64),
        upload(api, climbing, bundle.digest(climbing)),
        upload(api, good.data, good.sha256, token=None),
    ]
    assert [a.status_code for a in answers] == [413, 400, 400, 401]
    assert "over the limit" in answers[0].json["error"]
    assert "SHA-256" in answers[1].json["error"]
    assert "climbs out" in answers[2].json["error"]
    assert list(newsletters_dir.iterdir()) == []


def test_api_two_laptops_at_once_one_send_the_other_told_who_holds_it(
    api, web_app, built_examples, settings, db, newsletters_dir
):
    from mailer.audience.roster import add_subscriber
    from mailer.remote.audit import list_audit

    add_subscriber(db, settings, "p@example.se", list_name="partnerskapet")
    good = bundle.pack(built_examples / SLUG)
    assert upload(api, good.data, good.sha256).json == {
        "issue": SLUG,
        "sha256": good.sha256,
        "stored": True,
    }
    assert upload(api, good.data, good.sha256, token="bo-laptop").json["stored"] is False
    body = {"issue": SLUG, "sha256": good.sha256}
    unknown = api("POST", "/sends", json={**body, "list": "nope", "dry_run": True})
    assert unknown.status_code == 400 and "'nope'" in unknown.json["error"]
    assert "subscribers import FILE.csv --list nope" in unknown.json["error"]
    plan = api("POST", "/sends", json={**body, "dry_run": True})
    assert plan.status_code == 200 and plan.json["job"] is None
    assert "Recipients: 1 to send now" in plan.json["plan"]
    queued = api("POST", "/sends", json=body)
    assert queued.status_code == 200 and queued.json["job"]["state"] == "queued"
    assert api("POST", "/sends", json=body).json["job"]["id"] == queued.json["job"]["id"]
    held = api("POST", "/sends", token="bo-laptop", json=body)
    assert held.status_code == 409
    assert re.search(r"by token 'anna-laptop' since \d{4}-\d\d-\d\d \d\d:\d\d", held.json["error"])
    other = tar_of({**good_members(built_examples), "web.html": b"<p>changed</p>"})
    replaced = upload(api, other, bundle.digest(other), token="bo-laptop")
    assert replaced.status_code == 409 and "cannot change" in replaced.json["error"]
    assert bundle.stored_hash(newsletters_dir / SLUG) == good.sha256
    watched = api("GET", f"/sends/{SLUG}", token="bo-laptop").json
    assert watched["state"] == "queued" and watched["planned"] == 1 and watched["done"] == 0
    actions = [(e["token"], e["action"]) for e in list_audit(db)]
    assert actions == [("anna-laptop", "issue upload"), ("anna-laptop", "send queued")]


def test_api_schedules_lists_and_cancels_a_send_at_a_local_time(api, built_examples, settings, db):
    from mailer.audience.roster import add_subscriber

    add_subscriber(db, settings, "p@example.se", list_name="partnerskapet")
    good = bundle.pack(built_examples / SLUG)
    upload(api, good.data, good.sha256)
    body = {"issue": SLUG, "sha256": good.sha256, "at": "2099-12-03 08:00"}
    checked = api("POST", "/sends", json={**body, "dry_run": True}).json
    assert "on the list now" in checked["plan"] and api("GET", "/scheduled").json["scheduled"] == []
    scheduled = api("POST", "/sends", json=body).json
    assert scheduled["scheduled"].startswith("2099-12-03 08:00")
    listed = api("GET", "/scheduled").json["scheduled"]
    assert [(s["issue"], s["state"]) for s in listed] == [(SLUG, "waiting")]
    cancelled = api("POST", f"/scheduled/{SLUG}/cancel", json={}).json["cancelled"]
    assert [s["issue"] for s in cancelled] == [SLUG]
    assert api("GET", "/scheduled").json["scheduled"] == []


def test_the_plan_says_when_a_used_up_quota_lets_the_queued_send_start(
    built_examples, server_root, settings, db, mail_sink
):
    import dataclasses

    from mailer.audience.roster import add_subscriber

    for n in range(2):
        add_subscriber(db, settings, f"p{n}@example.se", list_name="partnerskapet")
    add_subscriber(db, settings, "q@example.se", list_name="nyhetsbrev")
    good = bundle.pack(built_examples / SLUG)
    bundle.store(good.data, good.sha256, server_root)
    counted = dataclasses.replace(mail_sink.settings(settings), send_rate_per_day=1000)
    _job, plan = queued(counted, server_root, good.sha256)
    assert "used up" not in plan.describe()
    RemoteSendWorker(counted, server_root).run_due()
    quota = dataclasses.replace(counted, send_rate_per_day=2)  # the two sent use it up
    _job, plan = queued(quota, server_root, good.sha256, list_name="nyhetsbrev", dry_run=True)
    assert "Warning:    SEND_RATE_PER_DAY=2 is used up: the send starts at about" in plan.describe()


def test_newsletter_worker_sends_what_is_queued_and_stops_on_ctrl_c(
    built_examples, isolated_env, settings, db, mail_sink
):
    import os
    import signal
    import subprocess
    import sys
    import time

    from mailer.audience.roster import add_subscriber
    from mailer.config import ENV_NAMES
    from tests.conftest import PROJECT_ROOT

    add_subscriber(db, settings, "p@example.se", list_name="partnerskapet")
    root = isolated_env / "newsletters"
    good = bundle.pack(built_examples / SLUG)
    bundle.store(good.data, good.sha256, root)
    sink_settings = mail_sink.settings(settings)
    queued(sink_settings, root, good.sha256)
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NEWSLETTER_DB=str(settings.db_path),
        NEWSLETTER_SECRET_KEY=settings.secret_key,
        NEWSLETTER_BASE_URL=settings.base_url,
        NEWSLETTER_FROM=settings.from_address,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(mail_sink.port),
        SMTP_SECURITY="none",
    )
    worker = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "cli.py"), "worker", "--poll", "0.2"],
        cwd=isolated_env,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while mail_sink.handler.count() < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    while remote_queue.progress(sink_settings, SLUG)["state"] != "done":
        assert time.monotonic() < deadline, "the worker did not finish the send"
        time.sleep(0.1)
    worker.send_signal(signal.SIGINT)
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "Stopped; a send left unfinished continues at the next start." in out
    assert mail_sink.handler.copies() == {"p@example.se": 1}
