"""The spam check runs the real SpamAssassin (local tests only) on the message as it is sent."""

from __future__ import annotations

import shutil

import pytest

from mailer.check import check_content
from mailer.check.spam import parse_output

pytestmark = pytest.mark.skipif(
    shutil.which("spamassassin") is None, reason="spamassassin not installed (.ci/run installs it)"
)
# The GTUBE line: every SpamAssassin scores a message holding it as spam (1000 points).
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SAMPLE_OUTPUT = """X-Spam-Status: No, score=1001.3 required=5.0 tests=HTML_MESSAGE,
\tMPART_ALT_DIFF,NO_RECEIVED autolearn=no autolearn_force=no version=4.0.1

Content analysis details:   (1001.3 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email
 0.0 HTML_MESSAGE           BODY: HTML included in message
 0.7 MPART_ALT_DIFF         BODY: HTML and text parts are different
                            (and then some)
-0.0 NO_RECEIVED            Informational: message has no Received headers

"""


def test_parse_output_reads_score_rules_and_wrapped_descriptions():
    result = parse_output(SAMPLE_OUTPUT)
    assert result.score == 1001.3
    names = [name for name, _, _ in result.rules]
    assert names == ["GTUBE", "HTML_MESSAGE", "MPART_ALT_DIFF", "NO_RECEIVED"]
    assert result.rules[0][1] == 1000.0
    assert result.rules[2] == (
        "MPART_ALT_DIFF",
        0.7,
        "BODY: HTML and text parts are different (and then some)",
    )


@pytest.mark.slow
def test_good_fixture_scores_low_and_the_score_is_shown(built_issue, settings):
    report = check_content(built_issue(), settings)
    spam = report.facts["spam"]
    assert spam["score"] < 2.0
    note = next(f for f in report.notes if f.code == "spam-score")
    assert note.message.startswith(f"SpamAssassin score {spam['score']:.1f}")


@pytest.mark.slow
def test_spam_score_at_five_is_an_error_naming_the_rules(built_issue, settings):
    end = "alla bidrag i fotogalleriet</a>.</p>"
    issue = built_issue(
        [
            ("build/email.html", end, f"{end}<p>{GTUBE}</p>"),
            ("build/email.txt", "Ändra inställningar", f"{GTUBE}\nÄndra inställningar"),
        ]
    )
    report = check_content(issue, settings)
    finding = next(f for f in report.errors if f.code == "spam-score")
    assert report.facts["spam"]["score"] >= 5.0
    assert "GTUBE" in finding.message
    assert not report.ok


@pytest.mark.slow
def test_the_same_message_is_scored_once_and_a_changed_one_again(built_issue, settings):
    """`send` runs the checks `check` just ran: the verdict on the same bytes is kept."""
    issue = built_issue()
    first = check_content(issue, settings)
    again = check_content(issue, settings)
    assert first.facts["spam"]["reused"] is False and again.facts["spam"]["reused"] is True
    assert again.facts["spam"]["score"] == first.facts["spam"]["score"]
    assert again.facts["spam"]["rules"] == first.facts["spam"]["rules"]
    text = issue / "build" / "email.txt"
    text.write_text(text.read_text(encoding="utf-8") + "\nEn rad till.\n", encoding="utf-8")
    changed = check_content(issue, settings)
    assert changed.facts["spam"]["reused"] is False
