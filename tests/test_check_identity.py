"""A footer identity per issue or per list, and `check`'s warning when an issue names another
organisation but keeps the site's address, logo, phone or e-mail."""

from __future__ import annotations

import shutil

import pytest

from mailer.check.identity import check_identity
from mailer.check.report import Report
from mailer.compose.issue import read_issue
from tests.fixtures_web import FIXTURE_ISSUES


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "newsletters"
    shutil.copytree(FIXTURE_ISSUES / "2018-2", root / "2018-2")
    shutil.copytree(FIXTURE_ISSUES / "assets", root / "assets")
    shutil.copy(FIXTURE_ISSUES / "newsletter.yml", root / "newsletter.yml")
    return root


def findings(issue_dir) -> dict[str, str]:
    report = Report(issue="x")
    check_identity(read_issue(issue_dir), report)
    return {f.code: f.message for f in report.findings}


def add_front_matter(issue_dir, text: str) -> None:
    path = issue_dir / "issue.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", "---\n" + text, 1))


def test_the_bundled_identity_gives_no_warning(site):
    assert findings(site / "2018-2") == {}


def test_another_organisation_with_the_sites_address_is_warned(site):
    add_front_matter(site / "2018-2", "organisation: Grannkommunen\naddress: Torget 1, Kumla\n")
    message = findings(site / "2018-2")["identity-mixed"]
    assert "'Grannkommunen'" in message and "web, email, phone, logo" in message
    assert "address" not in message.split("keeps")[1].split("from")[1]


def test_a_list_carries_its_own_footer_identity(site):
    yml = site / "newsletter.yml"
    yml.write_text(
        yml.read_text(encoding="utf-8").replace(
            "    description: Fyra nummer om året om social innovation i Örebro län.\n",
            "    description: Fyra nummer om året om social innovation i Örebro län.\n"
            "    organisation: Länets nätverk\n    address: Storgatan 2, Örebro\n"
            "    web: https://natverk.example.se\n    email: hej@natverk.example.se\n"
            '    phone: "019-99 88 77"\n    logo: ""\n',
        ),
        encoding="utf-8",
    )
    issue = read_issue(site / "2018-2")
    assert issue.site["organisation"] == "Länets nätverk"
    assert issue.site["address"] == "Storgatan 2, Örebro" and issue.site["logo"] == ""
    assert findings(site / "2018-2") == {}


def test_a_list_without_a_name_is_warned(site):
    (site / "2018-2" / "issue.md").write_text(
        (site / "2018-2" / "issue.md")
        .read_text(encoding="utf-8")
        .replace("list: nyhetsbrev", "list: okand"),
        encoding="utf-8",
    )
    assert "list 'okand' has no name" in findings(site / "2018-2")["list-unnamed"]
