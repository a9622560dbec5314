"""Attachments (`attachments:` in issue.md) and the PDF copy for the archive (`build --pdf`,
`send`): attached with the right type and name, linked from the web version and the archive,
sized by `check`, shown in the plan; the PDF opens and holds the title and funding statement."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mailer.check import check_issue
from mailer.compose.attachments import ATTACHMENT_MAX_BYTES, ATTACHMENT_WARN_BYTES
from mailer.compose.build import build_issue
from mailer.compose.personalize import load_built
from mailer.delivery.report import attached_files
from mailer.delivery.send import run_send
from mailer.errors import IssueError
from tests.conftest import CHROMIUM
from tests.fixtures_compose import ISSUE_MD
from tests.fixtures_send import FIXTURE_ISSUES, add_subscribers, copy_shared
from tests.fixtures_web import mark_sent

PROGRAMME = "Program för mötet i Örebro.pdf"
# a small but real PDF (one empty page), so a reader's viewer could open it
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def with_attachments(issue_dir: Path, names: list[str] | str) -> None:
    """Add `attachments:` to issue.md's front matter."""
    issue_md = issue_dir / "issue.md"
    text = issue_md.read_text(encoding="utf-8")
    if isinstance(names, str):
        block = f"attachments: {names}\n"
    else:
        block = "attachments:\n" + "".join(f'  - "{name}"\n' for name in names)
    head, rest = text.split("\n", 1)
    end = rest.index("---\n")
    issue_md.write_text(f"{head}\n{rest[:end]}{block}{rest[end:]}", encoding="utf-8")


@pytest.fixture
def issue_with_programme(issue_factory) -> Path:
    issue_dir = issue_factory()
    (issue_dir / PROGRAMME).write_bytes(PDF_BYTES)
    with_attachments(issue_dir, [PROGRAMME])
    return issue_dir


def test_an_attachment_is_built_listed_and_linked(issue_with_programme, settings):
    result = build_issue(issue_with_programme, settings)
    assert (result.out_dir / "attachments" / PROGRAMME).read_bytes() == PDF_BYTES
    assert result.meta["attachments"] == [
        {"file": PROGRAMME, "size": len(PDF_BYTES), "type": "application/pdf"}
    ]
    link = "https://news.example.se/archive/2026-1/attachments/Program%20f%C3%B6r%20m%C3%B6tet"
    assert link in result.web_path.read_text(encoding="utf-8")
    assert link in result.html_path.read_text(encoding="utf-8")
    text = result.text_path.read_text(encoding="utf-8")
    assert "Bifogade filer:" in text and PROGRAMME in text
    assert attached_files(result.meta) == [f"{PROGRAMME} (1 kB)"]


def test_changing_an_attachment_makes_the_build_stale(issue_with_programme, settings):
    from mailer.compose.build import is_stale

    build_issue(issue_with_programme, settings)
    assert not is_stale(issue_with_programme, settings)
    (issue_with_programme / PROGRAMME).write_bytes(PDF_BYTES + b"% changed\n")
    assert is_stale(issue_with_programme, settings)


def test_an_attachment_survives_smtp_and_the_email_parser(
    issue_with_programme, db, send_settings, mail_sink
):
    build_issue(issue_with_programme, send_settings)
    addresses = add_subscribers(db, send_settings, 2, "nyhetsbrev")
    summary = run_send(send_settings, issue_with_programme)
    assert summary.sent == 2
    for received in mail_sink.handler.received:
        message = received.parsed()
        assert message.get_content_type() == "multipart/mixed"
        files = list(message.iter_attachments())
        assert [part.get_filename() for part in files] == [PROGRAMME]
        assert files[0].get_content_type() == "application/pdf"
        assert files[0].get_content() == PDF_BYTES
        assert b"filename*=utf-8''Program%20f%C3%B6r%20m%C3%B6tet" in received.data  # RFC 2231
        body = message.get_body(("html",)).get_content()
        assert "Testbrevet" in body
    assert sorted(r.rcpt for r in mail_sink.handler.received) == sorted(addresses)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["missing.pdf"], "not found"),
        (["../secret.pdf"], "in the issue folder itself"),
        (["program.exe"], "attach only"),
        ([PROGRAMME, PROGRAMME], "attached twice"),
        ("program.pdf", "is a list of file names"),
    ],
)
def test_a_bad_attachment_is_refused_with_the_line(issue_factory, tmp_path, value, fragment):
    issue_dir = issue_factory()
    (issue_dir / PROGRAMME).write_bytes(PDF_BYTES)
    (issue_dir / "program.exe").write_bytes(b"MZ")
    (issue_dir.parent / "secret.pdf").write_bytes(PDF_BYTES)
    with_attachments(issue_dir, value)
    with pytest.raises(IssueError) as caught:
        from mailer.compose.issue import read_issue

        read_issue(issue_dir)
    message = str(caught.value)
    assert fragment in message
    assert "issue.md:" in message  # names the file and line


@pytest.mark.parametrize(
    ("size", "severity"),
    [(ATTACHMENT_WARN_BYTES + 1, "warning"), (ATTACHMENT_MAX_BYTES + 1, "error")],
)
def test_check_weighs_the_attachments(issue_factory, settings, size, severity):
    issue_dir = issue_factory()
    big = issue_dir / "programme.pdf"
    with open(big, "wb") as handle:
        handle.write(PDF_BYTES)
        handle.truncate(size)  # a sparse file: sized without writing megabytes
    with_attachments(issue_dir, ["programme.pdf"])
    build_issue(issue_dir, settings)
    report = check_issue(issue_dir, settings, spam=False)
    found = [f for f in report.findings if f.code.startswith("attachments-")]
    assert [f.severity for f in found] == [severity]
    assert "link" in found[0].advice
    assert found[0].location.endswith("issue.md")


def test_the_archive_serves_only_the_attachments_the_issue_lists(
    client, db, settings, newsletters_dir
):
    issue_dir = newsletters_dir / "2026-1"
    from tests.fixtures_compose import write_issue

    write_issue(newsletters_dir)
    (issue_dir / PROGRAMME).write_bytes(PDF_BYTES)
    (issue_dir / "other.pdf").write_bytes(PDF_BYTES)
    with_attachments(issue_dir, [PROGRAMME])
    build_issue(issue_dir, settings)
    shutil.copyfile(issue_dir / "other.pdf", issue_dir / "build" / "attachments" / "other.pdf")
    url = "/archive/2026-1/attachments/Program%20f%C3%B6r%20m%C3%B6tet%20i%20%C3%96rebro.pdf"
    assert client.get(url).status_code == 404  # not sent yet
    mark_sent(db, "2026-1")
    with client.get(url) as answer:
        assert answer.status_code == 200
        assert answer.mimetype == "application/pdf"
        assert answer.data == PDF_BYTES
    assert client.get("/archive/2026-1/attachments/other.pdf").status_code == 404
    assert client.get("/archive/2026-1/attachments/..%2Fweb.html").status_code == 404
    assert client.get("/archive/2026-1/issue.pdf").status_code == 404  # none made


def test_built_issue_loads_its_attachments_for_sending(issue_with_programme, settings):
    build_issue(issue_with_programme, settings)
    built = load_built(issue_with_programme)
    assert [(a.filename, a.content_type, a.data) for a in built.attachments] == [
        (PROGRAMME, "application/pdf", PDF_BYTES)
    ]


def test_issue_md_without_attachments_builds_as_before(issue_factory, settings):
    result = build_issue(issue_factory(issue_md=ISSUE_MD), settings)
    assert result.meta["attachments"] == []
    assert not (result.out_dir / "attachments").exists()


def _pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


needs_pdf_tools = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not shutil.which("pdftotext"),
    reason="needs Chromium and pdftotext (apt-get install chromium poppler-utils)",
)


@pytest.fixture
def meeting_issue(tmp_path) -> Path:
    """The invitation example (it carries a funding statement and logos)."""
    newsletters = tmp_path / "newsletters"
    slug = "2026-10-partnerskapsmote"
    shutil.copytree(
        FIXTURE_ISSUES / slug, newsletters / slug, ignore=shutil.ignore_patterns("build")
    )
    copy_shared(newsletters)
    return newsletters / slug


@pytest.mark.browser
@needs_pdf_tools
def test_build_pdf_prints_the_web_version_on_a4_with_title_funding_and_links(
    meeting_issue, compose_cli
):
    result = compose_cli("build", meeting_issue, "--pdf", "--base-url", "https://news.example.se")
    assert result.exit_code == 0, result.output
    pdf = meeting_issue / "build" / "issue.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "(A4)" in info
    text = " ".join(_pdf_text(pdf).split())
    from mailer.compose.issue import read_issue

    issue = read_issue(meeting_issue)
    assert issue.title in text
    funding = issue.site.get("funding_text") or ""
    assert funding and " ".join(funding.split())[:60] in text
    # the links stay links: the PDF carries URI actions to the archive
    assert b"/URI" in pdf.read_bytes()


@pytest.mark.browser
@needs_pdf_tools
def test_send_keeps_the_pdf_in_the_archive(meeting_issue, settings, mail_sink, monkeypatch, db):
    """`send` with NEWSLETTER_ARCHIVE_PDF=on (the default) leaves build/issue.pdf, which the
    archive serves once the issue is sent."""
    from click.testing import CliRunner

    from cli import cli
    from mailer.web import create_app

    add_subscribers(db, settings, 1, "partnerskapet")
    monkeypatch.setenv("NEWSLETTER_ARCHIVE_PDF", "on")
    monkeypatch.chdir(meeting_issue.parent.parent)
    env = {
        "NEWSLETTER_DB": str(settings.db_path),
        "NEWSLETTER_SECRET_KEY": settings.secret_key,
        "NEWSLETTER_FROM": settings.from_address,
        "NEWSLETTER_BASE_URL": settings.base_url,
        "SMTP_HOST": mail_sink.host,
        "SMTP_PORT": str(mail_sink.port),
        "SMTP_SECURITY": "none",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(
        cli, ["send", str(meeting_issue), "--list", "partnerskapet", "--yes", "--force"]
    )
    assert result.exit_code == 0, result.output
    pdf = meeting_issue / "build" / "issue.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF-")
    app = create_app(
        mail_sink.settings(settings),
        newsletters_dir=meeting_issue.parent,
        test_config={"MAIL_IN_BACKGROUND": False},
    )
    with app.test_client().get(f"/archive/{meeting_issue.name}/issue.pdf") as answer:
        assert answer.status_code == 200
        assert answer.mimetype == "application/pdf"
        assert answer.data == pdf.read_bytes()


def test_an_attachment_with_its_own_name_travels_in_the_bundle_to_the_server(
    issue_with_programme, settings, tmp_path
):
    """The laptop's upload keeps the file name readers see; the server's archive serves it."""
    from mailer.compose import bundle

    build_issue(issue_with_programme, settings)
    packed = bundle.pack(issue_with_programme)
    server = tmp_path / "server-newsletters"
    server.mkdir()
    bundle.store(packed.data, packed.sha256, server)
    stored = server / issue_with_programme.name / "build" / "attachments" / PROGRAMME
    assert stored.read_bytes() == PDF_BYTES
