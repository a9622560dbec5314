"""The issue as a PDF for the project archive: build/web.html printed to build/issue.pdf (A4,
links kept) by headless Chromium.

Why: EU-funded projects prove their publicity to the funder with the issue as it went out, its
date, the funding statement and the logos. The web version carries all of them; printing it keeps
the links clickable. The web version's images point at the public archive, which may not answer
yet (or at all, on the coordinator's laptop), so the print reads them from build/images/ instead;
nothing else is fetched. A new build replaces build/ whole, so an issue.pdf in build/ is always
the PDF of that build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import IssueError

PDF_FILE = "issue.pdf"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# The flags Chromium needs on a machine with a closed network and as root (`check`'s
# rendering launches it with the same ones).
BROWSER_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PRINT_CSS = """<style>
@page { size: A4; margin: 12mm 10mm; }
html, body { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
tr, img, table.box, .box-invitation { break-inside: avoid; }
</style>"""
TIMEOUT_SECONDS = 90


def find_chromium() -> str | None:
    """The Chromium to drive: on PATH under a usual name, or Debian's /usr/bin/chromium."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)


def _print_source(build: Path) -> str:
    """web.html with its images read from build/images/ and the A4 print rules added."""
    html = (build / "web.html").read_text(encoding="utf-8")
    try:
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    web_url = str(meta.get("web_url") or "")
    if web_url:
        html = html.replace(f'src="{web_url}images/', f'src="{(build / "images").as_uri()}/')
    return html.replace("</head>", PRINT_CSS + "\n</head>", 1)


def render_pdf(build: Path, *, chromium: str | None = None) -> Path:
    """Print build/web.html to build/issue.pdf; IssueError when Chromium is missing or fails."""
    build = Path(build).resolve()
    if not (build / "web.html").is_file():
        raise IssueError(f"{build}: not built; run 'newsletter build' first")
    executable = chromium or find_chromium()
    if executable is None:
        raise IssueError(
            f"{build / PDF_FILE}: cannot make the PDF without Chromium; install it "
            "(apt-get install chromium) and build again with --pdf"
        )
    with tempfile.TemporaryDirectory(prefix="newsletter-pdf-") as scratch:
        source = Path(scratch) / "issue.html"
        source.write_text(_print_source(build), encoding="utf-8")
        output = Path(scratch) / PDF_FILE
        command = [
            executable,
            "--headless",
            *BROWSER_FLAGS,
            "--hide-scrollbars",
            f"--user-data-dir={Path(scratch) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={output}",
            source.as_uri(),
        ]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                env={**os.environ, "HOME": scratch},
            )
        except subprocess.TimeoutExpired:
            raise IssueError(
                f"{build / PDF_FILE}: Chromium did not finish within {TIMEOUT_SECONDS} s; "
                "try again, or build without --pdf"
            ) from None
        if result.returncode != 0 or not output.is_file() or output.stat().st_size == 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1][:200]
            raise IssueError(f"{build / PDF_FILE}: Chromium could not print the issue ({last})")
        target = build / PDF_FILE
        partial = build / f".{PDF_FILE}.partial"
        shutil.copyfile(output, partial)
        os.replace(partial, target)
    return target


def keep_archive_copy(build: Path) -> str:
    """Make build/issue.pdf for the archive when it is missing; '' when done or already there,
    else why not (a send goes on without it: the copy is for the archive, not the readers)."""
    if (Path(build) / PDF_FILE).is_file():
        return ""
    try:
        render_pdf(build)
    except IssueError as exc:
        return f"no PDF copy for the archive: {exc}"
    return ""
