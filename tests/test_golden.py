"""Golden files for the example issues: email.txt whole, and an outline of email.html.

The outline lists, in document order, what a reader meets: headings, images (file, size, alt),
links and buttons, each under the section file it comes from. It ignores CSS and whitespace, so
a style change does not touch it but a lost link or heading does.

Refresh after an intended change (then review `git diff tests/golden/`):

    python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import difflib

import pytest
from lxml import html as lxml_html

from tests.fixtures_compose import COMPOSE_BASE_URL, EXAMPLE_SLUGS, GOLDEN_DIR

SHOWN = {"h1", "h2", "h3", "h4", "img", "a", "table", "blockquote", "li"}


def squash(text: str) -> str:
    return " ".join(text.split())


def outline(html: str) -> str:
    """A readable, stable summary of an email's content (see the module docstring)."""
    root = lxml_html.fromstring(html)
    lines = [
        "header",
        f"lang {root.get('lang')}",
        f"title {squash(root.findtext('.//title'))}",
        f"preheader {squash(root.find('body')[0].text_content())}",
    ]
    part = "header"
    for element in root.find("body").iter():
        if not isinstance(element.tag, str):
            continue
        row = element.xpath("ancestor-or-self::tr[@data-section][1]/@data-section")
        now = f"section {row[0]}" if row else ("header" if part == "header" else "footer")
        if now != part:
            part = now
            lines.append(part)
        tag = element.tag
        if tag == "p" and "label" in (element.get("class") or "").split():
            tag = "label"
        elif tag not in SHOWN:
            continue
        indent = "  "
        if tag == "img":
            src = element.get("src").replace(COMPOSE_BASE_URL, "")
            size = f"{element.get('width')}x{element.get('height')}"
            lines.append(f"{indent}img {src} {size} alt={element.get('alt')!r}")
        elif tag == "a":
            kind = "button" if "button-a" in (element.get("class") or "") else "a"
            href = element.get("href").replace(COMPOSE_BASE_URL, "")
            lines.append(f"{indent}{kind} {squash(element.text_content())!r} -> {href}")
        elif tag == "table":
            if "md-table" in (element.get("class") or ""):
                rows = element.xpath(".//tr")
                lines.append(f"{indent}table {len(rows)} rows x {len(rows[0])} columns")
        elif tag == "li":
            lines.append(f"{indent}li {squash(element.text_content())[:60].rstrip()}")
        else:
            lines.append(f"{indent}{tag} {squash(element.text_content())}")
    return "\n".join(lines) + "\n"


def outputs(result) -> dict[str, str]:
    return {
        "email.txt": result.text_path.read_text(encoding="utf-8"),
        "email-outline.txt": outline(result.html_path.read_text(encoding="utf-8")),
    }


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_example_matches_its_golden_files(slug, compose_examples, request):
    folder = GOLDEN_DIR / slug
    actual = outputs(compose_examples[slug])
    if request.config.getoption("--update-golden"):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in actual.items():
            (folder / name).write_text(text, encoding="utf-8")
    for name, text in actual.items():
        path = folder / name
        assert path.is_file(), f"no {path}; run: python -m pytest {__file__} --update-golden"
        expected = path.read_text(encoding="utf-8")
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), text.splitlines(True), str(path), "built", n=1
            )
        )
        assert not diff, f"{diff}\nIf intended: python -m pytest {__file__} --update-golden"


def test_outline_follows_sections_and_ignores_styles():
    html = (
        '<html lang="sv"><head><title>T</title></head><body><div>pre</div><table>'
        '<tr data-section="01-a.md"><td style="color:red"><h2>Rubrik</h2>'
        '<a class="button-a" href="https://x.se">Gå</a></td></tr></table></body></html>'
    )
    restyled = html.replace('style="color:red"', 'style="color:blue; padding: 0"')
    assert (
        outline(html)
        == outline(restyled)
        == (
            "header\nlang sv\ntitle T\npreheader pre\nsection 01-a.md\n  h2 Rubrik\n"
            "  button 'Gå' -> https://x.se\n"
        )
    )
