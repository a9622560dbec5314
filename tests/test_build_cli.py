"""`newsletter build` and `newsletter new` through the CLI: output, bad input, untouched builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mailer.compose.build import build_issue, is_stale
from tests.fixtures_compose import ISSUE_MD, compose_settings


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def break_yaml(d: Path) -> str:
    write(d / "02-text.md", "---\nlayout: text\ntitle: 'open\n---\nx\n")
    return "02-text.md:3: the front matter cannot be read here: a quote is opened"


def unknown_layout(d: Path) -> str:
    write(d / "02-text.md", "---\nlayout: slideshow\n---\nx\n")
    return "02-text.md:2: unknown layout 'slideshow'"


def missing_image(d: Path) -> str:
    (d / "images" / "hero.png").unlink()
    return "01-intro.md:3: image: image images/hero.png not found"


def missing_markdown_image(d: Path) -> str:
    write(d / "02-text.md", "Text\n\n![Karta över orten](images/karta.png)\n")
    return "02-text.md:3: image: image images/karta.png not found"


def relative_link(d: Path) -> str:
    write(d / "02-text.md", "---\nlayout: text\n---\nLäs [programmet](program.html).\n")
    return "02-text.md:4: link 'program.html' is relative"


def relative_button(d: Path) -> str:
    text = (d / "01-intro.md").read_text(encoding="utf-8")
    write(d / "01-intro.md", text.replace("https://www.example.se/program", "/program"))
    return "01-intro.md:6: button_url '/program' is not an absolute link"


def missing_issue_key(d: Path) -> str:
    write(d / "issue.md", ISSUE_MD.replace("list: nyhetsbrev\n", ""))
    return "issue.md:2: 'list' is empty or missing"


def missing_layout_key(d: Path) -> str:
    write(d / "02-text.md", "---\nlayout: contact\nrole: Samordnare\n---\n")
    return "02-text.md:2: layout contact needs 'name'"


def undecodable_text(d: Path) -> str:
    (d / "02-text.md").write_bytes("Första raden\nAndra raden på latin-1: åäö\n".encode("latin-1"))
    return "02-text.md:1: not UTF-8 text (byte 0xf6)"


def undecodable_issue_md(d: Path) -> str:
    (d / "issue.md").write_bytes(ISSUE_MD.replace("tester", "tester för Göteborg").encode("cp1252"))
    return "issue.md:5: not UTF-8 text"


def impossible_date(d: Path) -> str:
    write(d / "issue.md", ISSUE_MD.replace("date: 2026-03-01", "date: 2026-02-30"))
    return "issue.md:4: 2026-02-30 is not a date (day is out of range for month)"


def impossible_event_date(d: Path) -> str:
    events = "---\nlayout: events\nevents:\n  - date: 2026-04-01\n    title: Möte\n"
    write(d / "02-text.md", events + "  - date: 2026-13-01\n    title: Fest\n---\n")
    return "02-text.md:6: 2026-13-01 is not a date (month must be in 1..12)"


def tagged_nonsense_date(d: Path) -> str:
    write(d / "issue.md", ISSUE_MD.replace("date: 2026-03-01", "date: !!timestamp snart"))
    return "issue.md:4: snart is not a date; write the date as YYYY-MM-DD"


def empty_section(d: Path) -> str:
    write(d / "02-text.md", "")
    return "02-text.md:1: the article section has no text"


def empty_facts_box(d: Path) -> str:
    write(d / "02-text.md", "---\nlayout: facts\ntitle: Fakta\n---\n\n")
    return "02-text.md:5: the facts section has no text"


def duplicate_key(d: Path) -> str:
    write(d / "02-text.md", "---\nlayout: facts\ntitle: Fakta\ntitle: Siffror\n---\nText\n")
    return "02-text.md:4: 'title' is already given on line 3"


BREAKAGES = [
    duplicate_key,
    impossible_date,
    impossible_event_date,
    tagged_nonsense_date,
    empty_section,
    empty_facts_box,
    break_yaml,
    unknown_layout,
    missing_image,
    missing_markdown_image,
    relative_link,
    relative_button,
    missing_issue_key,
    missing_layout_key,
    undecodable_text,
    undecodable_issue_md,
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.__name__ for b in BREAKAGES])
def test_bad_input_fails_with_file_and_line_and_keeps_the_previous_build(
    issue_factory, compose_cli, breakage
):
    issue_dir = issue_factory()
    first = compose_cli("build", issue_dir)
    assert first.exit_code == 0, first.output
    before = files_of(issue_dir / "build")
    expected = breakage(issue_dir)
    result = compose_cli("build", issue_dir)
    assert result.exit_code != 0
    assert result.stderr.startswith("Error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert files_of(issue_dir / "build") == before  # byte for byte
    assert not [p for p in issue_dir.iterdir() if p.name.startswith(".build-")]
    assert is_stale(issue_dir)


def test_bad_input_on_a_first_build_writes_nothing(issue_factory, compose_cli):
    issue_dir = issue_factory()
    unknown_layout(issue_dir)
    result = compose_cli("build", issue_dir)
    assert result.exit_code != 0 and "unknown layout" in result.stderr
    assert sorted(p.name for p in issue_dir.iterdir()) == [
        "01-intro.md",
        "02-text.md",
        "images",
        "issue.md",
    ]


def test_build_prints_each_file_with_its_size_and_a_summary(issue_factory, compose_cli):
    issue_dir = issue_factory()
    result = compose_cli("build", issue_dir, "--base-url", "https://news.example.se")
    assert result.exit_code == 0, result.output
    for name in ("email.html", "email.txt", "web.html", "meta.json"):
        assert f"build/{name}  " in result.output
        assert (issue_dir / "build" / name).is_file()
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("Built 'Testbrevet 2026:1': 2 sections, 1 images")
    assert "https://news.example.se/archive/2026-1/" in summary


def test_build_without_base_url_uses_the_configured_default(issue_factory, compose_cli):
    issue_dir = issue_factory()
    assert compose_cli("build", issue_dir).exit_code == 0
    html = (issue_dir / "build" / "email.html").read_text(encoding="utf-8")
    assert 'src="http://127.0.0.1:8000/archive/2026-1/images/hero.png"' in html


def test_build_of_a_folder_that_does_not_exist_is_a_usage_error(tmp_path, compose_cli):
    result = compose_cli("build", tmp_path / "nope")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_new_scaffolds_an_issue_that_builds(tmp_path, compose_cli):
    newsletters = tmp_path / "newsletters"
    result = compose_cli("new", "2026-3", "--dir", newsletters, "--language", "da")
    assert result.exit_code == 0, result.output
    assert f"newsletter build {newsletters / '2026-3'}" in result.output
    issue_dir = newsletters / "2026-3"
    assert (newsletters / "newsletter.yml").is_file()
    built = build_issue(issue_dir, compose_settings())
    assert built.meta["language"] == "da" and built.meta["issue_number"].endswith(":3")
    layouts = {s["layout"] for s in built.meta["sections"]}
    assert {"article", "image-text", "divider", "text", "events", "facts", "contact"} <= layouts
    assert compose_cli("build", issue_dir).exit_code == 0


@pytest.mark.parametrize(
    ("language", "slug", "title", "number", "words"),
    [
        ("sv", "2026-3", "Nyhetsbrev", "2026:3", "Rubrik för inledningen"),
        ("da", "2027-11-jul", "Nyhedsbrev", "2027:11", "Overskrift til indledningen"),
        ("en", "spring-meeting", "Newsletter", ":1", "Heading of the introduction"),
    ],
)
def test_new_writes_sample_text_that_passes_the_content_checks_but_not_the_send_gate(
    tmp_path, compose_cli, language, slug, title, number, words
):
    from mailer.check import check_content, check_issue

    newsletters = tmp_path / "newsletters"
    assert compose_cli("new", slug, "--dir", newsletters, "--language", language).exit_code == 0
    issue_dir = newsletters / slug
    intro = {"sv": "01-inledning.md", "da": "01-indledning.md", "en": "01-introduction.md"}
    assert words in (issue_dir / intro[language]).read_text(encoding="utf-8")
    settings = compose_settings()
    built = build_issue(issue_dir, settings)
    assert built.meta["title"] == title and built.meta["issue_number"].endswith(number)
    report = check_content(issue_dir, settings, spam=False)
    assert report.errors == []
    assert not [f for f in report.warnings if f.check == "accessibility"], report.format_text()
    # ...but nobody is mailed the scaffold: every sample sentence is an error with its line
    gate = check_issue(issue_dir, settings, spam=False)
    samples = [f for f in gate.errors if f.code == "sample-text"]
    where = {Path(f.location).name for f in samples}
    assert {"issue.md", "newsletter.yml"} <= where
    sections = sorted(p.name for p in issue_dir.glob("[0-9]*.md"))
    assert len(where & set(sections)) >= 4, (where, sections)  # intro, image, facts, contact...
    assert any(words in f.message for f in samples) and all(f.line for f in samples)
    assert "ready to send" not in gate.summary()


@pytest.mark.parametrize(
    ("language", "swedish"),
    [
        ("da", ("namn", "example.se", "Organisationens namn", "inledning", "kontakt@")),
        ("en", ("namn", "example.se", "Organisationens", "inledning", "kontakt")),
    ],
)
def test_new_in_danish_or_english_writes_no_swedish(tmp_path, compose_cli, language, swedish):
    """newsletter.yml, file names and example addresses follow --language (issue 15)."""
    newsletters = tmp_path / "newsletters"
    assert compose_cli("new", "2026-3", "--dir", newsletters, "--language", language).exit_code == 0
    files = sorted(p.name for p in (newsletters / "2026-3").glob("*.md"))
    texts = [(newsletters / "newsletter.yml").read_text(encoding="utf-8")]
    texts += [(newsletters / "2026-3" / name).read_text(encoding="utf-8") for name in files]
    everything = "\n".join([*files, *texts])
    for word in swedish:
        assert word not in everything
    domain = {"da": "example.dk", "en": "example.com"}[language]
    contact = next(name for name in files if name.startswith("07-"))
    assert f"info@{domain}" in texts[0]
    assert f"@{domain}" in (newsletters / "2026-3" / contact).read_text(encoding="utf-8")


def test_new_refuses_an_existing_folder_and_a_bad_name(tmp_path, compose_cli):
    newsletters = tmp_path / "newsletters"
    assert compose_cli("new", "2026-3", "--dir", newsletters).exit_code == 0
    again = compose_cli("new", "2026-3", "--dir", newsletters)
    assert again.exit_code != 0 and "already exists" in again.stderr
    bad = compose_cli("new", "Nummer 3", "--dir", newsletters)
    assert bad.exit_code != 0 and "lower-case letters" in bad.stderr
    language = compose_cli("new", "2026-4", "--dir", newsletters, "--language", "fi")
    assert language.exit_code != 0 and "language 'fi'" in language.stderr
    assert sorted(p.name for p in newsletters.iterdir()) == ["2026-3", "newsletter.yml"]


def test_build_and_new_have_help_with_an_example(compose_cli):
    for command in ("build", "new"):
        result = compose_cli(command, "--help")
        assert result.exit_code == 0 and "Example: newsletter" in result.output


def test_a_markdown_image_named_with_a_space_and_swedish_letters_is_found(
    issue_factory, compose_cli
):
    issue_dir = issue_factory()
    shutil.copy(issue_dir / "images" / "hero.png", issue_dir / "images" / "karta över ön.png")
    write(issue_dir / "02-text.md", "Text\n\n![Karta över ön](<images/karta över ön.png>)\n")
    result = compose_cli("build", issue_dir)
    assert result.exit_code == 0, result.output
    html = (issue_dir / "build" / "email.html").read_text(encoding="utf-8")
    assert "/images/karta%20%C3%B6ver%20%C3%B6n.png" in html
    assert (issue_dir / "build" / "images" / "karta över ön.png").is_file()


def test_a_default_read_more_button_is_labelled_with_its_heading_for_screen_readers(
    issue_factory,
):
    from lxml import html as lxml_html

    from mailer.check import check_content

    issue_dir = issue_factory()
    intro = (issue_dir / "01-intro.md").read_text(encoding="utf-8")
    intro = intro.replace("# Välkommen", "# **Välkommen** till [oss](https://www.example.se/om)")
    write(issue_dir / "01-intro.md", intro.replace("button_text: Läs hela programmet\n", ""))
    settings = compose_settings()
    built = build_issue(issue_dir, settings)
    button = lxml_html.parse(str(built.html_path)).getroot().xpath("//a[@class='button-a']")[0]
    assert button.text_content().strip() == "Läs mer"
    assert button.get("aria-label") == "Läs mer: Välkommen till oss"  # words, not Markdown
    codes = [f.code for f in check_content(issue_dir, settings, spam=False).findings]
    assert "link-vague" not in codes

    write(issue_dir / "01-intro.md", intro.replace("Läs hela programmet", "Läs mer"))
    build_issue(issue_dir, settings)  # the editor's own vague text gets no label: check says so
    codes = [f.code for f in check_content(issue_dir, settings, spam=False).findings]
    assert "link-vague" in codes
