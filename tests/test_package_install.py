"""The tool installed from its wheel, far from the checkout, runs a site of its own.

Builds the sdist and, from it, the wheel; installs the wheel with its dependencies into a
fresh virtual environment in a temporary folder; then, with PYTHONPATH unset and the working
directory outside the checkout, runs `newsletter init site` and in site/ builds, checks, sends
(to an aiosmtpd sink, `--to`) and serves (real HTTP) the sample issue. An audit hook in the
virtual environment refuses every file opened or listed inside the checkout, so a path that
still points at the source tree fails the test instead of quietly working.
"""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from mailer.config import ENV_NAMES
from tests.fixtures_check import caniemail_tarball
from tests.fixtures_send import free_port, start_sink
from tests.fixtures_web import stop_process

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = 600  # seconds for one build or install step (a cold pip cache downloads)

# Loaded by a .pth file at every start of the venv's Python: refuse the checkout.
GUARD = """\
import os
import re
import sys

_ROOT = os.environ.get("NEWSLETTER_FORBIDDEN_ROOT", "")
_LOG = os.environ.get("NEWSLETTER_FORBIDDEN_LOG", "")
_EVENTS = {"open", "os.listdir", "os.scandir", "os.chdir"}


def _guard(event, args):
    if event not in _EVENTS or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if path == _ROOT or path.startswith(_ROOT + os.sep):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{event} {path}\\n")
        raise PermissionError(f"the installed tool reached into the checkout: {path}")


if _ROOT and _LOG:
    sys.addaudithook(_guard)
"""


def run(args: list, *, cwd: Path, env: dict, timeout: float = STEP_TIMEOUT, check: bool = True):
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """The test's environment without PYTHONPATH, virtualenv or newsletter settings."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", *ENV_NAMES}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    return env


def wait_for_http(url: str, process: subprocess.Popen) -> None:
    for _ in range(300):  # at most ~30 s
        if process.poll() is not None:
            raise AssertionError(f"newsletter serve exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def newer_caniemail_tarball(path: Path) -> Path:
    data = {
        "last_update_date": "2999-01-01 00:00:00 +0000",
        "data": [{"slug": "html-video", "title": "<video>", "category": "html", "stats": {}}],
    }
    return caniemail_tarball(path, data)


@pytest.mark.slow
def test_the_wheel_in_a_fresh_venv_runs_a_site_without_the_checkout(tmp_path):
    assert not tmp_path.resolve().is_relative_to(PROJECT_ROOT)
    env = clean_environment(tmp_path)
    dist = tmp_path / "dist"

    # the sdist from the checkout, the wheel from the sdist: both must carry everything
    run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", dist, PROJECT_ROOT],
        cwd=tmp_path,
        env=env,
    )
    sdist = next(dist.glob("newsletter-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {
        "templates/email/issue.html",
        "data/caniemail/caniemail.json",
        ".env.example",
        "setup.py",
        "mailer/web/static/web.css",
    } <= names
    run(
        [sys.executable, "-m", "pip", "wheel", sdist, "--no-deps", "-w", dist],
        cwd=tmp_path,
        env=env,
    )
    wheel = next(dist.glob("newsletter-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
        metadata = archive.read(next(n for n in packed if n.endswith(".dist-info/METADATA")))
    for name in (
        "mailer/templates/email/issue.html",
        "mailer/templates/web/layout.html",
        "mailer/templates/web_issue/web.html",
        "mailer/templates/text/issue.txt",
        "mailer/web/static/web.css",
        "mailer/data/caniemail/caniemail.json",
        "mailer/data/env.example",
        "cli.py",
    ):
        assert name in packed, name
    assert b"License-Expression: MIT" in metadata
    assert b"Requires-Dist: sqlite-utils>=4.0" in metadata
    requires = email.message_from_bytes(metadata).get_all("Requires-Dist")
    runtime = {re.match(r"[\w.-]+", r)[0].lower() for r in requires if "extra ==" not in r}
    assert "sqlite-utils" in runtime
    assert not runtime & {"pytest", "hypothesis", "aiosmtpd", "playwright", "pillow", "build"}

    # a fresh venv, the wheel and its dependencies from the package index (pip's cache helps)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=env)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", "-q", wheel],
        cwd=tmp_path,
        env=env,
    )
    purelib = Path(
        run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
            env=env,
        ).stdout.strip()
    )
    (purelib / "_newsletter_guard.py").write_text(GUARD, encoding="utf-8")
    (purelib / "_newsletter_guard.pth").write_text("import _newsletter_guard\n", encoding="utf-8")
    forbidden_log = tmp_path / "forbidden.log"
    env.update(
        NEWSLETTER_FORBIDDEN_ROOT=str(PROJECT_ROOT),
        NEWSLETTER_FORBIDDEN_LOG=str(forbidden_log),
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
    )
    # the guard works: reading the checkout from the venv fails and is logged
    probe = run(
        [python, "-c", f"open({str(PROJECT_ROOT / 'README.md')!r})"],
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert probe.returncode != 0 and "reached into the checkout" in probe.stderr
    assert "README.md" in forbidden_log.read_text()
    forbidden_log.unlink()
    where = run(
        [
            python,
            "-c",
            "import json, cli, mailer\n"
            "from mailer.compose.render import TEMPLATES_DIR\n"
            "from mailer.check.caniemail import BUNDLED_DIR\n"
            "from mailer.web import STATIC_DIR\n"
            "from mailer.config import bundled_path\n"
            "print(json.dumps([cli.__file__, mailer.__file__, str(TEMPLATES_DIR),\n"
            "    str(BUNDLED_DIR), str(STATIC_DIR), str(bundled_path('data/env.example'))]))",
        ],
        cwd=tmp_path,
        env=env,
    )
    for path in json.loads(where.stdout):
        assert Path(path).resolve().is_relative_to(purelib.resolve()), path
        assert Path(path).exists(), path

    newsletter = bindir / "newsletter"
    run([newsletter, "init", "site"], cwd=tmp_path, env=env)
    site = tmp_path / "site"
    issue = next((site / "newsletters").glob("*/issue.md")).parent.relative_to(site)
    assert "NEWSLETTER_SECRET_KEY=\n" not in (site / ".env").read_text()

    built = run([newsletter, "build", issue], cwd=site, env=env)
    assert "Built " in built.stdout
    html = (site / issue / "build" / "email.html").read_text(encoding="utf-8")
    assert 'class="toplinks"' in html and "<table" in html
    checked = run(
        [newsletter, "check", issue, "--json", "--no-spam"], cwd=site, env=env, check=False
    )
    assert checked.returncode in (0, 1), checked.stderr
    report = json.loads(checked.stdout)
    # only the send gate may object to a sample (its text, a loopback base URL), not the content
    assert {error["check"] for error in report["errors"]} <= {"send"}, report["errors"]
    # the bundled caniemail data was read: the templates' deliberate fallbacks are notes
    assert any(note["check"] == "support" for note in report["notes"])

    listed = run([newsletter, "templates", "copy"], cwd=site, env=env).stdout.split("\n")
    assert "email/footer.html" in listed
    run([newsletter, "templates", "copy", "email/footer.html"], cwd=site, env=env)
    footer = site / "templates" / "email" / "footer.html"
    footer.write_text(footer.read_text(encoding="utf-8") + "<p>Sajtens sidfot</p>\n", "utf-8")

    controller, sink = start_sink()
    try:
        smtp = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_SECURITY": "none",
            "NEWSLETTER_FROM": "Redaktionen <redaktor@example.se>",
        }  # a copy needs a sender
        sent = run(
            [newsletter, "send", issue, "--to", "redaktor@example.se"],
            cwd=site,
            env={**env, **smtp},
        )
        assert "redaktor@example.se" in sent.stdout
        messages = sink.handler.for_rcpt("redaktor@example.se")
        assert len(messages) == 1
        body = messages[0].parsed().get_body(("html",)).get_content()
        assert "Sajtens sidfot" in body  # the stale build was rebuilt with the site's footer
    finally:
        controller.stop()

    run(
        [newsletter, "subscribers", "lists", "nyhetsbrev", "--title", "Nyhetsbrevet", "--public"],
        cwd=site,
        env=env,
    )
    port = free_port()
    server = subprocess.Popen(
        [newsletter, "serve", "--port", str(port)],
        cwd=site,
        env={**env, "NEWSLETTER_BASE_URL": f"http://127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/subscribe", server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/subscribe", timeout=10) as page:
            assert page.status == 200
            text = page.read().decode("utf-8")
            assert "<form" in text and "Nyhetsbrevet" in text and "/static/web.css" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/web.css", timeout=10) as css:
            assert css.status == 200 and b"{" in css.read()
    finally:
        stop_process(server)

    # refreshed caniemail data goes to the user's data folder, never into the venv
    package_data = purelib / "mailer" / "data" / "caniemail" / "caniemail.json"
    before = package_data.read_bytes()
    tarball = newer_caniemail_tarball(tmp_path / "caniemail.tgz")
    run([newsletter, "refresh-caniemail", "--tarball", tarball], cwd=site, env=env)
    assert (tmp_path / "xdg-data" / "newsletter" / "caniemail" / "caniemail.json").is_file()
    assert package_data.read_bytes() == before

    assert not forbidden_log.exists(), forbidden_log.read_text()
