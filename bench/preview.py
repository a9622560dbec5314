"""Preview latency: from saving a section file to the live preview page having repainted.

Starts the real `newsletter preview` command (waitress, as an editor runs it) on a copy of the
bundled examples (tests/fixtures/issues/) in a temporary folder, opens its page in headless
Chromium (/usr/bin/chromium through Playwright), then, round after round, appends a sentence
to a section file and waits until the page reports the repaint: its script records
`{version, at}` in `window.previewRepaints` two animation frames after all three email
frames have loaded the new build. Prints the median, p95 and worst save-to-repaint time.
Target (issue 22): p95 <= 300 ms.

    python bench/preview.py [--rounds 30] [--issue 2026-11-graenseregion]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures" / "issues"  # the bundled examples, not the user's
sys.path.insert(0, str(ROOT))

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CLI = [sys.executable, "-c", "from cli import cli; cli()"]  # the console script's entry point


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"newsletter preview stopped: {process.stderr.read()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"newsletter preview did not listen on port {port} within {seconds:.0f} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(site: Path, issue: str, rounds: int) -> list[tuple[float, float]]:
    """(save-to-repaint, save-to-answer) times in ms over `rounds` saves of one section file:
    the answer is the moment the page hears of the rebuild (the server's part)."""
    from playwright.sync_api import sync_playwright

    from mailer.check.rendering import LAUNCH_ARGS

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSLETTER_SECRET_KEY": "x" * 32}
    server = subprocess.Popen(
        [*CLI, "preview", f"newsletters/{issue}", "--port", str(port)],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    times = []
    try:
        wait_for_port(port, server)
        section = sorted((site / "newsletters" / issue).glob("[0-9]*.md"))[1]
        original = section.read_text(encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/preview/")
            page.wait_for_load_state("load")
            time.sleep(0.5)  # the page's first question is open
            for round_ in range(rounds):
                seen = page.evaluate("() => window.previewRepaints.length")
                text = f"{original}\n\nRunda {round_} i mätningen.\n"
                saved = time.time() * 1000
                section.write_text(text, encoding="utf-8")
                page.wait_for_function(
                    f"() => window.previewRepaints.length > {seen}", timeout=30_000
                )
                last = page.evaluate("() => window.previewRepaints.at(-1)")
                times.append((last["at"] - saved, last["heard"] - saved))
                print(
                    f"  round {round_ + 1}/{rounds}: {last['at'] - saved:.0f} ms "
                    f"(page heard of it after {last['heard'] - saved:.0f} ms)",
                    file=sys.stderr,
                )
                time.sleep(0.3)  # an editor does not save twice in the same instant
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--issue", default="2026-11-graenseregion")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as temp:
        site = Path(temp)
        shutil.copytree(EXAMPLES, site / "newsletters", ignore=shutil.ignore_patterns("build"))
        (site / ".env").write_text("# bench site\n")
        measured = measure(site, args.issue, args.rounds)
    times = [total for total, _heard in measured]
    heard = [heard for _total, heard in measured]
    load = os.getloadavg()[0]
    print(
        f"preview save-to-repaint ({args.issue}, {len(times)} saves, load {load:.1f}): "
        f"median {statistics.median(times):.0f} ms, p95 {percentile(times, 0.95):.0f} ms, "
        f"worst {max(times):.0f} ms (target: p95 <= 300 ms); of which save to the page "
        f"hearing of the rebuild: median {statistics.median(heard):.0f} ms, "
        f"p95 {percentile(heard, 0.95):.0f} ms"
    )


if __name__ == "__main__":
    main()
