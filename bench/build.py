"""Build speed and size: cold `newsletter build`, in-process build, personalisation per recipient.

Works on a copy of newsletters/ in a temporary folder (the project's build/ folders are not
touched) and prints, for the largest example issue:
- cold build: a fresh Python process running `newsletter build` (imports included), best of N;
- the same issue as an MJML document compiled by the MJML CLI (a fresh node process), best of
  N, and the ratio of the two (issue 15's target: at most half of MJML's time). MJML is not a
  dependency: install it outside the repository and pass its path,
      cd /tmp/mjml && npm install mjml
      python bench/build.py --mjml /tmp/mjml/node_modules/.bin/mjml
  or have `mjml` on PATH;
- in-process build: `build_issue()` again in a warm process, best of N;
- personalisation: `Template.fill()` of email.html plus email.txt for one recipient, in µs;
- the size of email.html against Gmail's 102 KB clipping limit.
Targets (issue 2): cold build under 1 s, personalisation under 50 µs per recipient.

    python bench/build.py [--rounds 5] [--recipients 20000]
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def mjml_document(issue_dir: Path, settings) -> str:
    """The issue as MJML with the same content: header, each section's image, heading, text
    and button, dividers, footer. Section bodies go in as the HTML our Markdown renders."""
    from mailer.compose.issue import read_issue
    from mailer.compose.render import issue_context

    context = issue_context(read_issue(issue_dir), settings)
    parts = [
        '<mjml><mj-head><mj-attributes><mj-all font-family="Helvetica, Arial" />',
        '</mj-attributes></mj-head><mj-body background-color="#eef2f3">',
    ]
    site = context["site"]
    parts.append('<mj-section background-color="#0f5e6e"><mj-column>')
    if site.get("logo"):
        parts.append(f'<mj-image width="200px" src="{site["logo"]["url"]}" align="left" />')
    parts.append(
        f'<mj-text color="#ffffff" font-size="32px">{html.escape(context["title"])}'
        f'</mj-text><mj-text color="#e6f4f5">{html.escape(site["organisation"])}'
        "</mj-text></mj-column></mj-section>"
    )
    for section in context["sections"]:
        if section["layout"] == "divider":
            parts.append(
                '<mj-section><mj-column><mj-divider border-width="1px" /></mj-column></mj-section>'
            )
            continue
        parts.append('<mj-section background-color="#ffffff"><mj-column>')
        if section["image"]:
            image = section["image"]
            parts.append(
                f'<mj-image src="{image["url"]}" width="{image["width"]}px" '
                f'alt="{html.escape(image["alt"])}" />'
            )
        if section["title"]:
            parts.append(
                f'<mj-text font-size="23px"><h2>{html.escape(section["title"])}</h2></mj-text>'
            )
        parts.append(f"<mj-text>{section['html']}</mj-text>")
        if section["button"]:
            parts.append(
                f'<mj-button href="{section["button"]["url"]}">'
                f"{html.escape(section['button']['text'])}</mj-button>"
            )
        parts.append("</mj-column></mj-section>")
    parts.append(
        f"<mj-section><mj-column><mj-text>{html.escape(site['organisation'])} "
        f"{html.escape(site.get('address', ''))}</mj-text></mj-column></mj-section>"
    )
    parts.append("</mj-body></mjml>")
    return "\n".join(parts)


def find_mjml(given: str | None) -> str | None:
    for candidate in (given, shutil.which("mjml"), str(ROOT / "node_modules/.bin/mjml")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def cold_against_mjml(issue_dir: Path, mjml: str, source: Path, rounds: int) -> tuple[float, float]:
    """Best-of-N wall times of a cold `newsletter build` and of the MJML CLI, run in turns so
    that both see the same load on a shared machine."""
    env = {**os.environ, "NEWSLETTER_BASE_URL": BASE_URL, "PYTHONPATH": str(ROOT)}
    ours = [*CLI, "--env-file", os.devnull, "build", str(issue_dir)]
    theirs = [mjml, str(source), "-o", str(source.with_suffix(".html"))]
    times: dict[str, list[float]] = {"ours": [], "mjml": []}
    for _ in range(rounds + 1):  # the first turn warms disk caches and is not counted
        for name, command, cwd in (("ours", ours, ROOT), ("mjml", theirs, source.parent)):
            start = time.perf_counter()
            subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return min(times["ours"][1:]), min(times["mjml"][1:])


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
    parser.add_argument("--mjml", help="path of the MJML CLI (default: mjml on PATH)")
    args = parser.parse_args()
    mjml = find_mjml(args.mjml)
    settings = load_settings({"base_url": BASE_URL}, env_file=None, environ={})
    with tempfile.TemporaryDirectory() as tmp:
        newsletters = Path(tmp) / "newsletters"
        shutil.copytree(
            ROOT / "newsletters", newsletters, ignore=shutil.ignore_patterns("build", ".build-*")
        )
        issue_dir = largest_example(newsletters)
        result = build_issue(issue_dir, settings)
        warm = best_of(args.rounds, lambda: build_issue(issue_dir, settings))
        mjml_time = None
        if mjml:
            source = Path(tmp) / "issue.mjml"
            source.write_text(mjml_document(issue_dir, settings), encoding="utf-8")
            cold, mjml_time = cold_against_mjml(issue_dir, mjml, source, args.rounds)
        else:
            cold = cold_build(issue_dir, args.rounds)
        per_recipient = fill_cost(issue_dir, args.recipients)
        size = result.html_path.stat().st_size
        sections = len(result.meta["sections"])

    print(f"issue: {issue_dir.name} ({sections} sections, {len(result.meta['images'])} images)")
    print(f"cold `newsletter build` (new process), best of {args.rounds}: {cold * 1000:.0f} ms")
    if mjml_time:
        print(
            f"MJML CLI on the same issue (new process), best of {args.rounds}: "
            f"{mjml_time * 1000:.0f} ms"
        )
        print(
            f"cold build / MJML: {cold / mjml_time:.2f} (target: at most 0.50) "
            f"{'OK' if cold / mjml_time <= 0.5 else 'MISSED'}"
        )
    else:
        print("MJML CLI not found: pass --mjml PATH (see the docstring) for the ratio")
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
