"""Build speed and size: cold `newsletter build`, in-process build, personalisation per recipient.

Works on a copy of the bundled examples (tests/fixtures/issues/) in a temporary folder
(the project's build/ folders are not touched) and prints, for the largest example issue:
- cold build: a fresh Python process running `newsletter build` (imports included), best of N;
- in-process build: `build_issue()` again in a warm process, best of N;
- personalisation: `Template.fill()` of email.html plus email.txt for one recipient, in µs;
- the size of email.html against Gmail's 102 KB clipping limit.
Targets (issue 2): cold build under 1 s, personalisation under 50 µs per recipient.

    python bench/build.py [--rounds 5] [--recipients 20000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures" / "issues"  # the bundled examples, not the user's
sys.path.insert(0, str(ROOT))

from mailer.compose.build import GMAIL_CLIP_BYTES, build_issue  # noqa: E402
from mailer.compose.personalize import load_built  # noqa: E402
from mailer.config import load_settings  # noqa: E402

BASE_URL = "https://news.example.se"
# `newsletter build` as the console script runs it; -c keeps it working without an install
CLI = [sys.executable, "-c", "from cli import cli; cli()"]


def largest_example(newsletters: Path) -> Path:
    """The example issue with the most source bytes (sections and images)."""
    issues = [p.parent for p in newsletters.glob("*/issue.md")]
    return max(issues, key=lambda d: sum(f.stat().st_size for f in d.rglob("*") if f.is_file()))


def best_of(rounds: int, run) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def cold_build(issue_dir: Path, rounds: int) -> float:
    env = {**os.environ, "NEWSLETTER_BASE_URL": BASE_URL, "PYTHONPATH": str(ROOT)}
    command = [*CLI, "--env-file", os.devnull, "build", str(issue_dir)]

    def run() -> None:
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)

    return best_of(rounds, run)


def fill_cost(issue_dir: Path, recipients: int) -> float:
    """Microseconds to fill email.html and email.txt for one recipient (best of 3 batches)."""
    built = load_built(issue_dir)
    values = [
        {
            "name": f"Person {n} <&>",
            "email": f"person{n}@example.se",
            "unsubscribe_url": f"{BASE_URL}/unsubscribe/{n:032x}",
            "preferences_url": f"{BASE_URL}/preferences/{n:032x}",
        }
        for n in range(recipients)
    ]

    def run() -> None:
        for value in values:
            built.html.fill(value)
            built.text.fill(value)

    return best_of(3, run) / recipients * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per timing (best counts)")
    parser.add_argument("--recipients", type=int, default=20000, help="fills per batch")
    args = parser.parse_args()
    settings = load_settings({"base_url": BASE_URL}, env_file=None, environ={})
    with tempfile.TemporaryDirectory() as tmp:
        newsletters = Path(tmp) / "newsletters"
        shutil.copytree(EXAMPLES, newsletters, ignore=shutil.ignore_patterns("build", ".build-*"))
        issue_dir = largest_example(newsletters)
        result = build_issue(issue_dir, settings)
        warm = best_of(args.rounds, lambda: build_issue(issue_dir, settings))
        cold = cold_build(issue_dir, args.rounds)
        per_recipient = fill_cost(issue_dir, args.recipients)
        size = result.html_path.stat().st_size
        sections = len(result.meta["sections"])

    print(f"issue: {issue_dir.name} ({sections} sections, {len(result.meta['images'])} images)")
    print(f"cold `newsletter build` (new process), best of {args.rounds}: {cold * 1000:.0f} ms")
    print(f"in-process build_issue(), best of {args.rounds}:            {warm * 1000:.0f} ms")
    print(f"personalisation (html + text fill) per recipient:   {per_recipient:.1f} µs")
    print(
        f"email.html size: {size:,} bytes ({size / 1024:.1f} KB, "
        f"{size / GMAIL_CLIP_BYTES:.0%} of Gmail's 102 KB clip)"
    )
    print(
        f"targets: cold build < 1000 ms {'OK' if cold < 1 else 'MISSED'}; "
        f"personalisation < 50 µs {'OK' if per_recipient < 50 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
