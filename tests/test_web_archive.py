"""The archive: only sent issues are listed and served, with their images; no path escapes."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

from mailer.compose.build import build_issue
from tests.fixtures_web import mark_sent


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_archive_lists_only_issues_that_have_been_sent(
    client, db, settings, built_issues, newsletters_dir
):
    sent, unsent = built_issues[0], "2099-1-draft"
    shutil.copytree(newsletters_dir / sent, newsletters_dir / unsent)
    build_issue(newsletters_dir / unsent, settings)
    mark_sent(db, sent)
    page = client.get("/archive/").get_data(as_text=True)
    assert f"https://news.example.se/archive/{sent}/" in page
    assert f"/archive/{unsent}/" not in page


def test_archive_is_empty_before_anything_was_sent(client, built_issues):
    page = client.get("/archive/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No issues have been sent yet." in page


def test_sent_issue_shows_its_web_version_with_an_issue_policy(client, db, built_issues):
    slug = built_issues[0]
    mark_sent(db, slug)
    response = client.get(f"/archive/{slug}/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "%%" not in response.get_data(as_text=True)  # no unfilled per-recipient markers


def test_every_image_of_a_sent_issue_is_served(client, db, built_issues):
    slug = built_issues[0]
    mark_sent(db, slug)
    parser = Images()
    parser.feed(client.get(f"/archive/{slug}/").get_data(as_text=True))
    own = [src for src in parser.sources if src.startswith("https://news.example.se/")]
    assert own
    for src in own:
        with client.get(src.removeprefix("https://news.example.se")) as response:
            assert response.status_code == 200, src
            assert response.mimetype.startswith("image/")
            assert "sandbox" in response.headers["Content-Security-Policy"]


def test_unsent_issue_and_its_images_are_404(client, built_issues, newsletters_dir):
    slug = built_issues[0]
    image = next((newsletters_dir / slug / "build" / "images").iterdir()).name
    assert client.get(f"/archive/{slug}/").status_code == 404
    assert client.get(f"/archive/{slug}/images/{image}").status_code == 404


def test_paths_cannot_leave_the_build_folder(client, db, built_issues):
    slug = built_issues[0]
    mark_sent(db, slug)
    for path in (
        f"/archive/{slug}/images/..%2fmeta.json",
        f"/archive/{slug}/images/../web.html",
        f"/archive/{slug}/images/%2e%2e%2f%2e%2e%2fissue.md",
        "/archive/..%2f..%2fetc/",
        f"/archive/{slug}/images/meta.json",
        f"/archive/{slug}/images/.hidden.png",
        "/archive/%2e%2e/images/x.png",
    ):
        response = client.get(path)
        assert response.status_code == 404, path


def test_unknown_issue_is_the_generic_404(client):
    assert client.get("/archive/1999-1/").status_code == 404
