"""Check timing: how long `newsletter check` takes per group of checks on each example issue.

Builds every bundled example (tests/fixtures/issues/) in a temporary folder, then runs each
check group 5 times and prints the median in milliseconds, plus the loading step (fill for a
sample recipient, parse, build the message), SpamAssassin, and the rendering in headless
Chromium at 320/375/600 px and in dark mode (launch included, as `newsletter check` runs it;
3 rounds), the two largest parts.

    python bench/check.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures" / "issues"  # the bundled examples, not the user's
sys.path.insert(0, str(ROOT))

from mailer.check import CHECKS  # noqa: E402
from mailer.check.context import load_context  # noqa: E402
from mailer.check.gate import check_gate  # noqa: E402
from mailer.check.rendering import check_rendering, find_chromium  # noqa: E402
from mailer.check.report import Report  # noqa: E402
from mailer.compose.build import build_issue  # noqa: E402
from mailer.config import load_settings  # noqa: E402

ROUNDS = 5


def median_ms(action, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def fresh_spam(check, context, tmp: str) -> None:
    """The spam check with an empty data folder, so SpamAssassin really scores the message."""
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(dir=tmp)
    check(context, Report(issue="bench"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {
                "base_url": "https://news.example.se",
                "from_address": "News <news@example.se>",
                "db_path": Path(tmp) / "subscribers.db",  # none: the gate's list check is short
            },
            env_file=None,
            environ={},
        )
        copy = Path(tmp) / "newsletters"
        shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("build"))
        for issue_dir in sorted(p for p in copy.iterdir() if (p / "issue.md").is_file()):
            build_issue(issue_dir, settings)
            size = (issue_dir / "build" / "email.html").stat().st_size
            print(f"{issue_dir.name} (email.html {size / 1000:.1f} KB), median of {ROUNDS}:")
            load_ms = median_ms(lambda d=issue_dir: load_context(d, settings))
            print(f"  {'load':<14} {load_ms:8.1f} ms")
            context = load_context(issue_dir, settings)
            gate_ms = median_ms(
                lambda d=issue_dir, c=context: check_gate(d, settings, c.meta, Report("b"), None)
            )
            print(f"  {'send gate':<14} {gate_ms:8.1f} ms")
            total = load_ms + gate_ms
            for name, check in CHECKS.items():
                if name == "spam":  # SpamAssassin each round: no verdict kept from the last
                    elapsed = median_ms(lambda c=check, x=context: fresh_spam(c, x, tmp))
                    kept = median_ms(lambda c=check, x=context: c(x, Report(issue="bench")))
                    print(f"  {'spam, kept':<14} {kept:8.1f} ms (the verdict `check` left)")
                else:
                    elapsed = median_ms(lambda c=check, x=context: c(x, Report(issue="bench")))
                total += elapsed
                print(f"  {name:<14} {elapsed:8.1f} ms")
            if find_chromium():
                report = Report(issue="bench")
                elapsed = median_ms(lambda x=context, r=report: check_rendering(x, r), rounds=3)
                if "rendered_widths" not in report.facts:
                    sys.exit(f"the rendering did not run: {report.findings[-1].message}")
                total += elapsed
                print(f"  {'rendering':<14} {elapsed:8.1f} ms (Chromium, median of 3)")
            else:
                print("  rendering      not measured: Chromium not found")
            print(f"  {'total':<14} {total:8.1f} ms")


if __name__ == "__main__":
    main()
