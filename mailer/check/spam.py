"""Spam check: score the message for a sample recipient with SpamAssassin (local tests only)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from . import spam_memo
from .context import CheckContext
from .report import Finding, Report

WARN_ABOVE = 2.0
ERROR_AT = 5.0
TIMEOUT_SECONDS = 60
# Prefs for a side-effect-free run: no Bayes database, no learning, no reputation files.
PREFS = "use_bayes 0\nbayes_auto_learn 0\nuse_txrep 0\nuse_auto_whitelist 0\nreport_safe 0\n"
_STATUS = re.compile(r"^X-Spam-Status:.*?score=(-?[\d.]+).*?tests=(.*?)\s+autolearn=", re.M | re.S)
_SCORE = re.compile(r"Content analysis details:\s*\((-?[\d.]+) points")
_RULE_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")
# What an editor can do about the rules newsletters hit most.
RULE_ADVICE = {
    "HTML_IMAGE_RATIO": "more text and fewer or smaller images",
    "HTML_IMAGE_ONLY": "the email needs real text, not only images",
    "MPART_ALT_DIFF": "the plain-text version must carry the same content as the HTML",
    "HTML_FONT_LOW_CONTRAST": "text coloured close to its background looks like hidden text",
    "HTML_FONT_SIZE_TINY": "avoid tiny font sizes (hidden preheader filler counts)",
    "SUBJ_ALL_CAPS": "write the subject in normal case",
    "UPPERCASE": "less text in capitals",
    "HTML_SHORT_LINK_IMG": "a linked image with very little text around it",
    "MIME_HTML_ONLY": "send a plain-text alternative too",
    "EMPTY_MESSAGE": "the message has no text",
}


@dataclass(frozen=True)
class SpamResult:
    score: float
    rules: list[tuple[str, float, str]]  # (name, points, description)


def spamassassin_path() -> str | None:
    return shutil.which("spamassassin")


def score_message(message: EmailMessage, executable: str) -> SpamResult:
    """Run `spamassassin -t -L` (local tests only, no network) on a message; parse the result."""
    with tempfile.TemporaryDirectory(prefix="newsletter-spam-") as home:
        prefs = Path(home) / "user_prefs"
        prefs.write_text(PREFS, encoding="ascii")
        completed = subprocess.run(
            [executable, "-t", "-L", "-x", "-p", str(prefs)],
            input=message.as_bytes(),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            env={"HOME": home, "PATH": "/usr/bin:/bin:/usr/local/bin", "LANG": "C.UTF-8"},
            check=False,
        )
    return parse_output(completed.stdout.decode("utf-8", "replace"))


def parse_output(output: str) -> SpamResult:
    """Score and rules from the `-t` output (the report table, else the X-Spam-Status header)."""
    rules: list[tuple[str, float, str]] = []
    table = output.split("---- ---------------------- ", 1)
    if len(table) == 2:
        for line in table[1].splitlines()[1:]:
            match = _RULE_LINE.match(line)
            if match:
                rules.append((match.group(2), float(match.group(1)), match.group(3).strip()))
            elif line.strip() and rules and line.startswith(" "):
                name, points, text = rules[-1]
                rules[-1] = (name, points, f"{text} {line.strip()}")
            elif not line.strip() and rules:
                break
    score_match = _SCORE.search(output)
    status = _STATUS.search(output)
    if score_match:
        score = float(score_match.group(1))
    elif status:
        score = float(status.group(1))
    else:
        raise ValueError("no SpamAssassin score in the output")
    if not rules and status:
        names = [n.strip() for n in status.group(2).split(",") if n.strip() and n.strip() != "none"]
        rules = [(name, 0.0, "") for name in names]
    return SpamResult(score + 0.0, rules)  # + 0.0 turns SpamAssassin's "-0.0" into 0.0


def check_spam(context: CheckContext, report: Report) -> None:
    executable = spamassassin_path()
    location, _ = context.locator.built()
    if executable is None:
        report.add(
            Finding(
                "note",
                "spam",
                "spamassassin-missing",
                "SpamAssassin is not installed: the spam score was not checked",
                "install it (apt-get install spamassassin) to score the message",
            )
        )
        return
    if context.message is None:
        return
    key = spam_memo.memo_key(context.message, executable, PREFS)
    kept = spam_memo.recall(key)
    try:
        if kept is not None:  # `check` scored these very bytes: `send` need not wait again
            result = SpamResult(kept["score"], [tuple(rule) for rule in kept["rules"]])
        else:
            result = score_message(context.message, executable)
            spam_memo.remember(key, result.score, [list(rule) for rule in result.rules])
    except subprocess.TimeoutExpired:
        report.add(
            Finding(
                "warning",
                "spam",
                "spamassassin-timeout",
                f"SpamAssassin did not answer within {TIMEOUT_SECONDS} s",
                "run the check again; if it persists, run spamassassin -t -L by hand",
            )
        )
        return
    except (OSError, ValueError) as exc:
        report.add(
            Finding("warning", "spam", "spamassassin-failed", f"SpamAssassin failed: {exc}", "")
        )
        return
    hits = sorted((r for r in result.rules if r[1] != 0.0), key=lambda r: -abs(r[1]))
    report.facts["spam"] = {
        "score": result.score,
        "reused": kept is not None,
        "rules": [{"name": n, "points": p, "description": d} for n, p, d in result.rules],
    }
    shown = ", ".join(f"{name} {points:+.1f}" for name, points, _ in hits) or "no rule added points"
    advice = "; ".join(
        sorted({text for name, _, _ in hits for key, text in RULE_ADVICE.items() if key in name})
    )
    summary = f"SpamAssassin score {result.score:.1f} ({shown})"
    if result.score >= ERROR_AT:
        severity = "error"
    elif result.score > WARN_ABOVE:
        severity = "warning"
    else:
        severity = "note"
    report.add(
        Finding(
            severity,
            "spam",
            "spam-score",
            summary if severity == "note" else f"{summary}: spam filters may bin this issue",
            advice if severity == "note" else advice or "see the rule descriptions in --json",
            location if severity != "note" else "",
        )
    )
