"""Every check: one built fixture that triggers it, and the good fixture that passes it."""

# ruff: noqa: E501  (the fixture edits below are exact HTML snippets; one per line reads best)

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from mailer.check import check_issue
from mailer.check.size import GMAIL_CLIP_BYTES, GMAIL_CLIP_WARN_BYTES, GMAIL_STYLE_BYTES
from mailer.config import load_settings
from mailer.errors import IssueError

HTML = "build/email.html"
TEXT = "build/email.txt"
META = "build/meta.json"
PREHEADER_DIV = (
    '<div style="display: none; font-size: 1px; line-height: 1px; max-height: 0; max-width: 0; '
    'opacity: 0; overflow: hidden; mso-hide: all;">'
)
HERO_IMG = 'src="https://news.example.se/archive/2026-07/images/vinnare.jpg"'
PHOTO_LINK = '<a href="https://www.example.se/fotopris" style="color: #0b5e69;">'
END_OF_PHOTO_SECTION = "alla bidrag i fotogalleriet</a>.</p>"


def words(target_bytes: int, *, swedish: bool = True) -> str:
    """Text of about `target_bytes` bytes; Swedish letters grow sixfold in quoted-printable."""
    rng = random.Random(7)
    vocabulary = (
        "vård hälsa öppettider mottagning sjukhus återbesök läkare tjänst"
        if swedish
        else "care health opening hours clinic hospital visit doctor service"
    ).split()
    parts, size = [], 0
    while size < target_bytes:
        word = rng.choice(vocabulary)
        parts.append(word)
        size += len(word.encode()) + 1
    return " ".join(parts)


def noise_png(width: int, height: int) -> bytes:
    rng = random.Random(3)
    data = bytes(rng.getrandbits(8) for _ in range(width * height * 3))
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), data).save(buffer, "PNG")
    return buffer.getvalue()


def turned_jpeg(width: int, height: int, orientation: int = 6) -> bytes:
    """A JPEG stored `width` x `height` with an EXIF note to turn it (as phones save photos)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 110, 120)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def big_style(size: int) -> str:
    rules, index = [], 0
    while sum(map(len, rules)) < size:
        rules.append(f".rule-{index} {{ color: #13343d; padding: 0 4px; }}\n")
        index += 1
    return "".join(rules)


# id -> (edits, extra arguments, expected severity, expected code)
VARIANTS = {
    "gmail-clip": (
        [(HTML, END_OF_PHOTO_SECTION, END_OF_PHOTO_SECTION + f"<p>{words(GMAIL_CLIP_BYTES)}</p>")],
        {},
        "error",
        "gmail-clip",
    ),
    "gmail-clip-near": (
        [
            (
                HTML,
                END_OF_PHOTO_SECTION,
                END_OF_PHOTO_SECTION
                + f"<p>{words(GMAIL_CLIP_WARN_BYTES - 2_000, swedish=False)}</p>",
            )
        ],
        {},
        "warning",
        "gmail-clip-near",
    ),
    "gmail-style-size": (
        [(HTML, "<style>\n", "<style>\n" + big_style(GMAIL_STYLE_BYTES + 500))],
        {},
        "error",
        "gmail-style-size",
    ),
    "gmail-style-nested": (
        [
            (
                HTML,
                "  .email-container { width: 100% !important; }",
                "  @supports (display: grid) { .grid { display: grid !important; } }",
            )
        ],
        {},
        "error",
        "gmail-style-nested-at-rule",
    ),
    "doctype": ([(HTML, "<!DOCTYPE html>\n", "")], {}, "error", "doctype"),
    "lang": ([(HTML, '<html lang="sv" ', "<html ")], {}, "error", "lang"),
    "lang-mismatch": ([(HTML, '<html lang="sv" ', '<html lang="en" ')], {}, "warning", "lang-mismatch"),
    "charset": ([(HTML, '<meta charset="utf-8">\n', "")], {}, "error", "charset"),
    "viewport": (
        [(HTML, '<meta name="viewport" content="width=device-width, initial-scale=1">\n', "")],
        {},
        "error",
        "viewport",
    ),
    "title": (
        [(HTML, "<title>Nyheter från regionen: nya mottagningar och höstens seminarier</title>", "<title> </title>")],
        {},
        "error",
        "title",
    ),
    "preheader-missing": (
        [(META, '"preheader": "Nya mottagningar, höstens seminarier och årets fotopris."', '"preheader": ""')],
        {},
        "warning",
        "preheader-missing",
    ),
    "preheader-absent": (
        [(HTML, PREHEADER_DIV + "Nya mottagningar, höstens seminarier och årets fotopris.</div>", "")],
        {},
        "error",
        "preheader-absent",
    ),
    "preheader-visible": (
        [(HTML, PREHEADER_DIV, '<div style="font-size: 12px; mso-hide: all;">')],
        {},
        "error",
        "preheader-visible",
    ),
    "preheader-mso": (
        [(HTML, PREHEADER_DIV, '<div style="display: none; max-height: 0; overflow: hidden;">')],
        {},
        "warning",
        "preheader-mso",
    ),
    "mso-unbalanced": ([(HTML, "<!--[if mso]></td></tr></table><![endif]-->", "<!--[if mso]></td></tr></table>-->")], {}, "error", "mso-unbalanced"),
    "mso-nested": ([(HTML, "</body>", "<!--[if mso]><p>a</p><!--[if gte mso 9]><p>b</p><![endif]--><![endif]-->\n</body>")], {}, "error", "mso-nested"),
    "mso-stray-endif": ([(HTML, "</body>", "<!--<![endif]-->\n</body>")], {}, "error", "mso-unbalanced"),
    "table-role": (
        [(HTML, '<table role="presentation" width="100%"', '<table width="100%"')],
        {},
        "warning",
        "table-role",
    ),
    "media-important": (
        [(HTML, ".email-container { width: 100% !important; }", ".email-container { width: 100%; }")],
        {},
        "error",
        "media-important",
    ),
    "color-scheme-meta": (
        [
            (HTML, '<meta name="color-scheme" content="light dark">\n', ""),
            (HTML, '<meta name="supported-color-schemes" content="light dark">\n', ""),
        ],
        {},
        "warning",
        "color-scheme-meta",
    ),
    "alt-missing": (
        [(HTML, ' alt="Solnedgång över Hjälmaren med en ensam roddbåt"', "")],
        {},
        "error",
        "alt-missing",
    ),
    "width-unit": ([(HTML, 'width="540" height="270"', 'width="100%" height="270"')], {}, "error", "width-unit"),
    "width-missing": ([(HTML, 'width="540" height="270"', 'height="270"')], {}, "warning", "width-missing"),
    "http": ([(HTML, HERO_IMG, HERO_IMG.replace("https://", "http://"))], {}, "error", "http"),
    "http-loopback": (
        [(HTML, HERO_IMG, 'src="http://127.0.0.1:8000/archive/2026-07/images/vinnare.jpg"')],
        {},
        "error",
        "http-loopback",
    ),
    "svg": ([(HTML, HERO_IMG, HERO_IMG.replace(".jpg", ".svg"))], {}, "error", "svg"),
    "svg-inline": ([(HTML, END_OF_PHOTO_SECTION, END_OF_PHOTO_SECTION + '<svg width="10" height="10"></svg>')], {}, "error", "svg-inline"),
    "data-uri": ([(HTML, HERO_IMG, 'src="data:image/png;base64,iVBORw0KGgo="')], {}, "warning", "data-uri"),
    "src-relative": ([(HTML, HERO_IMG, 'src="images/vinnare.jpg"')], {}, "error", "src-relative"),
    "file-missing": ([], {"images": {"logo.png": (200, 60)}}, "error", "file-missing"),
    "image-heavy": (
        [(HTML, HERO_IMG, HERO_IMG.replace(".jpg", ".png"))],
        {"images": {"logo.png": (200, 60), "vinnare.png": noise_png(640, 560)}},
        "warning",
        "image-heavy",
    ),
    "image-tall": ([], {"images": {"logo.png": (200, 60), "vinnare.jpg": (540, 1800)}}, "warning", "image-tall"),
    "image-rotated": ([], {"images": {"logo.png": (200, 60), "vinnare.jpg": turned_jpeg(1080, 540)}}, "warning", "image-rotated"),
    "href-empty": ([(HTML, PHOTO_LINK, '<a href="" style="color: #0b5e69;">')], {}, "error", "href-empty"),
    "href-hash": ([(HTML, PHOTO_LINK, '<a href="#" style="color: #0b5e69;">')], {}, "error", "href-empty"),
    "href-anchor": ([(HTML, PHOTO_LINK, '<a href="#galleri" style="color: #0b5e69;">')], {}, "warning", "href-anchor"),
    "href-scheme": ([(HTML, PHOTO_LINK, '<a href="javascript:alert(1)">')], {}, "error", "href-scheme"),
    "href-relative": ([(HTML, PHOTO_LINK, '<a href="/fotopris">')], {}, "error", "href-scheme"),
    "href-placeholder": ([(HTML, PHOTO_LINK, '<a href="https://x.example/{{ link }}">')], {}, "error", "href-placeholder"),
    "click-here": ([(HTML, "alla bidrag i fotogalleriet</a>", "klicka här</a>")], {}, "warning", "click-here"),
    "click-here-da": ([(HTML, "alla bidrag i fotogalleriet</a>", "Klik her</a>")], {}, "warning", "click-here"),
    "unsubscribe-html": (
        [(HTML, '<a href="%%unsubscribe_url%%" style="color: #2f4147;">Avsluta prenumerationen</a> · ', "")],
        {},
        "error",
        "unsubscribe-link-missing",
    ),
    "unsubscribe-text": ([(TEXT, "Avsluta prenumerationen: %%unsubscribe_url%%\n", "")], {}, "error", "unsubscribe-link-missing"),
    "preferences-text": ([(TEXT, "Ändra inställningar: %%preferences_url%%\n", "")], {}, "error", "preferences-link-missing"),
    "client-unsupported": (
        [(HTML, END_OF_PHOTO_SECTION, END_OF_PHOTO_SECTION + '<video src="https://www.example.se/film.mp4"></video>')],
        {},
        "warning",
        "client-unsupported",
    ),
    "heading-order": (
        [(HTML, '<h2 style="margin: 16px 0 12px 0; font-size: 23px; color: #13343d;">Årets fotopris</h2>', "<h4>Årets fotopris</h4>")],
        {},
        "warning",
        "heading-order",
    ),
    "heading-empty": ([(HTML, END_OF_PHOTO_SECTION, END_OF_PHOTO_SECTION + "<h3> </h3>")], {}, "warning", "heading-empty"),
    "contrast": (
        [(HTML, "<p style=\"margin: 0 0 16px 0;\">Vinnaren", "<p style=\"margin: 0 0 16px 0; color: #b8c2c6;\">Vinnaren")],
        {},
        "warning",
        "contrast",
    ),
    "contrast-hsl": (
        [(HTML, "<p style=\"margin: 0 0 16px 0;\">Vinnaren", "<p style=\"margin: 0 0 16px 0; color: hsl(200, 10%, 75%);\">Vinnaren")],
        {},
        "warning",
        "contrast",
    ),
    "contrast-hsla-background": (
        [(HTML, "<p style=\"margin: 0 0 16px 0;\">Vinnaren", "<p style=\"margin: 0 0 16px 0; color: #333; background: hsla(200, 50%, 15%, 0.95) no-repeat;\">Vinnaren")],
        {},
        "warning",
        "contrast",
    ),
    "contrast-named": (
        [(HTML, "<p style=\"margin: 0 0 16px 0;\">Vinnaren", "<p style=\"margin: 0 0 16px 0; color: lightgray;\">Vinnaren")],
        {},
        "warning",
        "contrast",
    ),
    "link-no-text": ([(HTML, END_OF_PHOTO_SECTION, END_OF_PHOTO_SECTION + '<a href="https://www.example.se/tom"> </a>')], {}, "error", "link-no-text"),
    "link-vague": ([(HTML, "alla bidrag i fotogalleriet</a>", "Läs mer</a>")], {}, "warning", "link-vague"),
    "table-headers": (
        [(HTML, '<thead><tr><th style="text-align: left; color: #13343d;">Datum</th><th style="text-align: left; color: #13343d;">Ämne</th></tr></thead>', "<tr><td>Datum</td><td>Ämne</td></tr>")],
        {},
        "warning",
        "table-headers",
    ),
}  # fmt: skip


def codes(report, severity: str) -> set[str]:
    return {f.code for f in report.findings if f.severity == severity}


def test_good_fixture_has_no_errors_and_no_warnings_but_client_support(built_issue, settings):
    report = check_issue(built_issue(), settings, spam=False)
    assert report.errors == []
    # hand-written, so never "fresh" for mailer.compose.build.is_stale
    assert {f.code for f in report.warnings} <= {"client-unsupported", "build-stale"}
    assert report.ok


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_check_fires_on_its_fixture(variant, built_issue, settings):
    edits, kwargs, severity, code = VARIANTS[variant]
    report = check_issue(built_issue(edits, **kwargs), settings, spam=False)
    assert code in codes(report, severity), report.format_text()
    assert report.ok == (severity != "error")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_check_stays_quiet_on_the_good_fixture(variant, built_issue, settings):
    report = check_issue(built_issue(), settings, spam=False)
    _, _, _, code = VARIANTS[variant]
    assert code not in {f.code for f in report.findings}


def test_loopback_images_are_only_a_warning_when_the_settings_are_local(built_issue, tmp_path):
    local = load_settings({"base_url": "http://127.0.0.1:8000"}, env_file=None, environ={})
    edits, kwargs, _, _ = VARIANTS["http-loopback"]
    report = check_issue(built_issue(edits, **kwargs), local, spam=False)
    assert "http-loopback" in codes(report, "warning")
    assert "http-loopback" not in codes(report, "error")


def test_finding_names_the_section_file_marked_with_data_section(built_issue, settings):
    issue = built_issue(VARIANTS["alt-missing"][0])
    report = check_issue(issue, settings, spam=False)
    finding = next(f for f in report.errors if f.code == "alt-missing")
    assert finding.location == str(issue / "03-fotopris.md")


def test_finding_names_the_section_file_found_by_text_without_markers(built_issue, settings):
    edits = [
        (HTML, f' data-section="{name}"', "")
        for name in ("01-intro.md", "02-seminarier.md", "03-fotopris.md")
    ]
    issue = built_issue([*edits, *VARIANTS["alt-missing"][0]])
    finding = next(
        f for f in check_issue(issue, settings, spam=False).errors if f.code == "alt-missing"
    )
    assert (finding.location, finding.line) == (str(issue / "03-fotopris.md"), 3)


def test_finding_names_the_section_file_marked_with_a_comment(built_issue, settings):
    issue = built_issue(
        [
            (HTML, ' data-section="03-fotopris.md"', ""),
            (HTML, '  <tr>\n    <td class="footer', '  <!-- section: end.md -->\n  <tr>\n    <td class="footer'),
            (HTML, "<h2 style=\"margin: 16px 0 12px 0; font-size: 23px; color: #13343d;\">Årets fotopris</h2>", "<!-- section: 03-fotopris.md --><h4>Vinnare</h4>"),
        ]
    )  # fmt: skip
    finding = next(
        f for f in check_issue(issue, settings, spam=False).warnings if f.code == "heading-order"
    )
    assert finding.location == str(issue / "03-fotopris.md")


def test_template_problems_point_at_the_built_file(built_issue, settings):
    issue = built_issue(VARIANTS["viewport"][0])
    finding = next(f for f in check_issue(issue, settings, spam=False).errors)
    assert finding.location == str(issue / "build" / "email.html")
    assert "templates/email" in finding.advice


def test_html_size_is_measured_encoded_as_sent(built_issue, settings):
    report = check_issue(built_issue(), settings, spam=False)
    assert report.facts["html_transfer_encoding"] == "quoted-printable"
    # quoted-printable turns every å, ä, ö into six characters: the wire is bigger than the file
    assert report.facts["html_bytes_encoded"] > report.facts["html_bytes_raw"]


def test_client_support_names_the_section_and_the_client(built_issue, settings):
    issue = built_issue(VARIANTS["client-unsupported"][0])
    findings = check_issue(issue, settings, spam=False).warnings
    video = [f for f in findings if f.code == "client-unsupported" and "<video>" in f.message]
    assert video, [f.message for f in findings]
    assert any("Gmail" in f.message for f in video)
    assert all("03-fotopris.md" in f.message for f in video)


def test_client_support_skips_max_width_in_outlook_when_ghost_tables_exist(built_issue, settings):
    report = check_issue(built_issue(), settings, spam=False)
    outlook = report.facts["client_support"]["unsupported"].get("Outlook Windows", {})
    assert "max-width" not in outlook
    ghostless = built_issue(
        [
            (HTML, '<!--[if mso]><table role="presentation" align="center" width="600" cellspacing="0" cellpadding="0" border="0"><tr><td><![endif]-->', ""),
            (HTML, "<!--[if mso]></td></tr></table><![endif]-->", ""),
        ]
    )  # fmt: skip
    report = check_issue(ghostless, settings, spam=False)
    assert "max-width" in report.facts["client_support"]["unsupported"]["Outlook Windows"]


def test_missing_build_is_a_clear_error(tmp_path, settings):
    issue = tmp_path / "2026-08"
    issue.mkdir()
    with pytest.raises(IssueError, match="newsletter build"):
        check_issue(issue, settings)


def test_report_text_lists_errors_before_warnings_with_advice(built_issue, settings):
    edits = VARIANTS["alt-missing"][0] + VARIANTS["link-vague"][0]
    report = check_issue(built_issue(edits), settings, spam=False)
    text = report.format_text()
    assert text.index("Errors:") < text.index("Warnings:")
    assert "-> describe the image" in text
    assert text.splitlines()[-1].startswith("2026-07: 1 error,")
    data = report.to_dict()
    assert data["ok"] is False
    assert data["errors"][0]["location"].endswith("03-fotopris.md")


def test_heading_order_advice_names_the_markdown_that_gives_the_right_level(built_issue, settings):
    """Markdown headings sit one level below the issue's h1: `#` is h2, `##` is h3."""
    issue = built_issue(VARIANTS["heading-order"][0])
    finding = next(
        f for f in check_issue(issue, settings, spam=False).warnings if f.code == "heading-order"
    )
    assert "from h2 to h4" in finding.message
    assert finding.advice.startswith("use ## (h3)")


def test_a_message_over_gmails_limit_names_the_section_that_makes_it_big(built_issue, settings):
    issue = built_issue(VARIANTS["gmail-clip"][0])
    finding = next(f for f in check_issue(issue, settings, spam=False).errors)
    assert finding.code == "gmail-clip"
    assert finding.location == str(issue / "03-fotopris.md")
    assert finding.advice.startswith("the largest sections (HTML before encoding): 03-fotopris.md")
