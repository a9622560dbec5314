"""A site folder of its own: `newsletter init`, the site's templates/ over the bundled ones,
`newsletter templates copy`, and where the bundled files and refreshed data live."""

from __future__ import annotations

import ast
import datetime as dt
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.compose.build import build_issue, is_stale
from mailer.compose.render import TEMPLATES_DIR, template_dirs
from mailer.compose.site_folder import SiteError, bundled_templates, copy_template, init_site
from mailer.config import BUNDLED, bundled_path, load_settings, user_data_dir
from tests.fixtures_check import caniemail_tarball

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 1)
SLUG = "2026-1"

# a site template that changes one block of the bundled email and keeps the rest
TOPLINKS_OVERRIDE = """\
{% extends "bundled/email/issue.html" %}
{% block toplinks %}<a href="{{ web_url }}">Sajtens egen topprad</a>{% endblock %}
"""


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A site made by init_site, and the working directory (as when a person runs commands)."""
    folder = tmp_path / "site"
    init_site(folder, language="sv", today=TODAY)
    monkeypatch.chdir(folder)
    return folder


def site_settings(folder: Path):
    """The settings a command in the site would get: its .env, an https base URL."""
    return load_settings(
        {"base_url": "https://news.example.se"}, env_file=folder / ".env", environ={}
    )


def listing(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# --- newsletter init -----------------------------------------------------------------------


def test_init_creates_a_site_that_builds_with_its_own_secret_key(site):
    issue = site / "newsletters" / SLUG
    assert (site / "newsletters" / "newsletter.yml").is_file()
    assert (site / "newsletters" / "assets").is_dir()
    assert {"issue.md", "01-inledning.md"} <= {p.name for p in issue.iterdir()}
    ignored = (site / ".gitignore").read_text().split("\n")
    assert {"subscribers.db", ".env", "build/"} <= set(ignored)
    readme = (site / "README.md").read_text()
    assert f"newsletter build newsletters/{SLUG}" in readme
    env = (site / ".env").read_text()
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert env.count("\n") == example.count("\n")  # the example, comments and all
    assert stat.S_IMODE((site / ".env").stat().st_mode) == 0o600
    settings = site_settings(site)
    assert len(settings.require_secret_key()) >= 40
    assert settings.secret_key not in example
    result = build_issue(issue, settings)
    assert "Nyhetsbrev" in result.meta["subject"]


def test_each_site_gets_a_different_secret_key(tmp_path):
    keys = set()
    for name in ("a", "b"):
        init_site(tmp_path / name)
        keys.add(load_settings({}, env_file=tmp_path / name / ".env", environ={}).secret_key)
    assert len(keys) == 2


def test_init_in_english_writes_an_english_sample(tmp_path):
    init_site(tmp_path / "s", language="en", today=TODAY)
    issue_md = (tmp_path / "s" / "newsletters" / SLUG / "issue.md").read_text()
    assert "language: en" in issue_md and "title: Newsletter" in issue_md
    site_yml = (tmp_path / "s" / "newsletters" / "newsletter.yml").read_text()
    assert "organisation: Name of the organisation" in site_yml
    assert "newsletter new 2026-2" in (tmp_path / "s" / "README.md").read_text()


@pytest.mark.parametrize("existing", [".env", "README.md", "newsletters/notes.txt"])
def test_init_refuses_to_overwrite_names_what_exists_and_writes_nothing(tmp_path, existing):
    folder = tmp_path / "site"
    (folder / existing).parent.mkdir(parents=True)
    (folder / existing).write_text("mine\n")
    before = listing(folder)
    result = run("init", str(folder))
    assert result.exit_code == 1
    assert str(folder / existing.split("/")[0]) in result.output
    assert "nothing was written" in result.output
    assert listing(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == sorted({existing.split("/")[0]})


def test_init_command_says_what_to_run_next(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init", "mysite", "--language", "da")
    assert result.exit_code == 0, result.output
    issue = next((tmp_path / "mysite" / "newsletters").glob("*/issue.md")).parent
    assert f"newsletter build newsletters/{issue.name}" in result.output
    assert "language: da" in (issue / "issue.md").read_text()
    assert run("init", "mysite", "--language", "xx").exit_code == 2


# --- the site's templates over the bundled ones --------------------------------------------


def test_a_site_template_overriding_one_block_changes_the_email_and_removing_it_restores(site):
    settings = site_settings(site)
    issue = site / "newsletters" / SLUG
    bundled = build_issue(issue, settings).html_path.read_text()
    assert "Sajtens egen topprad" not in bundled
    override = site / "templates" / "email" / "issue.html"
    override.parent.mkdir(parents=True)
    override.write_text(TOPLINKS_OVERRIDE)
    assert is_stale(issue, settings)  # the stale check sees the site's templates
    changed = build_issue(issue, settings).html_path.read_text()
    assert "Sajtens egen topprad" in changed
    assert "Visa i webbläsaren" not in changed  # the block was replaced ...
    assert changed.count('class="section') == bundled.count('class="section')  # ... only it
    override.unlink()
    assert is_stale(issue, settings)
    assert build_issue(issue, settings).html_path.read_text() == bundled


def test_a_site_footer_replaces_the_bundled_file_in_email_and_web_version(site):
    settings = site_settings(site)
    issue = site / "newsletters" / SLUG
    footer = copy_template("email/footer.html")
    assert footer == site / "templates" / "email" / "footer.html"
    assert footer.read_bytes() == (TEMPLATES_DIR / "email" / "footer.html").read_bytes()
    footer.write_text(footer.read_text() + "<p>Org.nr 802000-0000</p>\n")
    result = build_issue(issue, settings)
    assert "Org.nr 802000-0000" in result.html_path.read_text()
    assert "Org.nr 802000-0000" in result.web_path.read_text()


def test_a_site_text_template_changes_the_plain_text(site):
    settings = site_settings(site)
    issue = site / "newsletters" / SLUG
    copy_template("text/issue.txt")
    text = site / "templates" / "text" / "issue.txt"
    text.write_text("Hej från sajten\n" + text.read_text())
    assert build_issue(issue, settings).text_path.read_text().startswith("Hej från sajten")


def test_a_site_web_layout_changes_the_public_pages(site, settings):
    from mailer.web import create_app

    layout = copy_template("web/layout.html")
    source = layout.read_text()
    assert '<header class="site-header">' in source
    layout.write_text(
        source.replace('<header class="site-header">', "<p>Sajtens band</p>\n<header>")
    )

    def subscribe_page() -> str:
        app = create_app(settings, test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False})
        page = app.test_client().get("/subscribe")
        assert page.status_code == 200
        return page.get_data(as_text=True)

    assert "<p>Sajtens band</p>" in subscribe_page()
    layout.unlink()
    assert "Sajtens band" not in subscribe_page()


def test_an_override_added_while_the_process_runs_is_used_by_the_next_build(site):
    """The preview keeps one process: a template added to the site must still count."""
    settings = site_settings(site)
    issue = site / "newsletters" / SLUG
    (site / "templates").mkdir()
    build_issue(issue, settings)
    override = site / "templates" / "email" / "issue.html"
    override.parent.mkdir()
    override.write_text(TOPLINKS_OVERRIDE)
    assert "Sajtens egen topprad" in build_issue(issue, settings).html_path.read_text()


def test_the_checkout_run_from_its_top_uses_its_templates_once(monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    assert template_dirs() == (TEMPLATES_DIR,)


# --- newsletter templates copy -------------------------------------------------------------


def test_templates_copy_without_name_lists_the_bundled_templates(site):
    copy_template("web/layout.html")
    result = run("templates", "copy")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "email/issue.html" in lines
    assert "web/layout.html  (overridden here)" in lines
    assert len(lines) == len(bundled_templates()) >= 30


def test_templates_copy_refuses_an_existing_file_and_an_unknown_name(site):
    assert run("templates", "copy", "email/footer.html").exit_code == 0
    again = run("templates", "copy", "email/footer.html")
    assert again.exit_code == 1 and "already exists" in again.output
    for name in ("email/nothing.html", "../.env", "/etc/passwd"):
        unknown = run("templates", "copy", name)
        assert unknown.exit_code == 1 and "not a bundled template" in unknown.output
    with pytest.raises(SiteError, match=r"did you mean email/footer\.html"):
        copy_template("footer.html")
    assert sorted(p.name for p in (site / "templates").rglob("*") if p.is_file()) == ["footer.html"]


# --- bundled files, the user's data folder, caniemail --------------------------------------


def test_setup_py_copies_exactly_the_files_the_code_looks_for():
    """setup.py's BUNDLED (checkout -> package) is the mirror of mailer.config.BUNDLED."""
    tree = ast.parse((PROJECT_ROOT / "setup.py").read_text())
    assignment = next(
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "BUNDLED"
    )
    copied = ast.literal_eval(assignment.value)
    assert {f"mailer/{inside}": checkout for inside, checkout in BUNDLED.items()} == {
        inside: checkout for checkout, inside in copied.items()
    }


def test_in_a_checkout_the_bundled_files_are_the_top_level_ones():
    assert bundled_path("templates") == PROJECT_ROOT / "templates"
    assert bundled_path("data/caniemail") == PROJECT_ROOT / "data" / "caniemail"
    assert bundled_path("data/env.example") == PROJECT_ROOT / ".env.example"


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {"HOME": "/home/a", "XDG_DATA_HOME": "/data"}, "/data/newsletter"),
        ("linux", {"HOME": "/home/a"}, "/home/a/.local/share/newsletter"),
        ("linux", {"HOME": "/home/a", "XDG_DATA_HOME": "rel"}, "/home/a/.local/share/newsletter"),
        ("darwin", {"HOME": "/Users/a"}, "/Users/a/Library/Application Support/newsletter"),
        ("win32", {"HOME": "/u", "LOCALAPPDATA": "/appdata"}, "/appdata/newsletter"),
    ],
)
def test_user_data_dir_follows_the_platform(platform, environ, expected):
    assert user_data_dir(environ, platform) == Path(expected)


def _caniemail_tarball(path: Path, updated: str) -> Path:
    data = {
        "last_update_date": updated,
        "data": [{"slug": "html-video", "title": "<video>", "category": "html", "stats": {}}],
    }
    return caniemail_tarball(path, data)


def test_refresh_writes_to_the_user_data_folder_and_check_reads_it(tmp_path):
    from mailer.check.caniemail import BUNDLED_DIR, data_dir, load_features

    bundled_before = listing(BUNDLED_DIR)
    tarball = _caniemail_tarball(tmp_path / "c.tgz", "2999-01-01 00:00:00 +0000")
    result = run("refresh-caniemail", "--tarball", str(tarball))
    assert result.exit_code == 0, result.output
    refreshed = tmp_path / "xdg-data" / "newsletter" / "caniemail"  # conftest's XDG_DATA_HOME
    assert str(refreshed) in result.output
    assert (refreshed / "caniemail.json").is_file()
    assert listing(BUNDLED_DIR) == bundled_before  # the package is never written
    assert data_dir() == refreshed
    assert set(load_features()) == {"html-video"}


def test_a_bundled_copy_newer_than_the_refreshed_one_wins(tmp_path):
    from mailer.check.caniemail import BUNDLED_DIR, data_dir, load_features, refresh_caniemail

    refresh_caniemail(tarball=_caniemail_tarball(tmp_path / "old.tgz", "2001-01-01 00:00:00"))
    assert data_dir() == BUNDLED_DIR  # e.g. after upgrading the tool
    assert "css-max-width" in load_features()


def test_refresh_dest_updates_a_given_folder(tmp_path):
    dest = tmp_path / "checkout-data"
    tarball = _caniemail_tarball(tmp_path / "c.tgz", "2999-01-01")
    result = run("refresh-caniemail", "--tarball", str(tarball), "--dest", str(dest))
    assert result.exit_code == 0, result.output
    assert (dest / "caniemail.json").is_file()
    assert not (tmp_path / "xdg-data").exists()
