"""What every check reads: the built issue, filled for a sample recipient, parsed once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import lxml.html
from lxml import etree

from ..compose.personalize import BuiltIssue, load_built
from ..config import DEFAULT_LIST, Settings
from ..delivery.message import RecipientValues, build_message, delivery_message_id
from ..errors import IssueError
from .locate import SectionLocator

SAMPLE_NAME = "Anna Andersson"
SAMPLE_EMAIL = "anna.andersson@example.se"
# As long as a real token (secrets.token_urlsafe(32)), so the sample has the size of a real mail.
SAMPLE_UNSUBSCRIBE_TOKEN = "checkSampleUnsubscribeToken0123456789abcdef"  # noqa: S105
SAMPLE_PREFERENCES_TOKEN = "checkSamplePreferencesToken0123456789abcdef"  # noqa: S105


def sample_values(settings: Settings) -> dict[str, str]:
    """Per-recipient values for a made-up subscriber, shaped like the real ones."""
    base = settings.base_url.rstrip("/")
    return {
        "name": SAMPLE_NAME,
        "email": SAMPLE_EMAIL,
        "unsubscribe_url": f"{base}/unsubscribe/{SAMPLE_UNSUBSCRIBE_TOKEN}",
        "preferences_url": f"{base}/preferences/{SAMPLE_PREFERENCES_TOKEN}",
    }


@dataclass
class CheckContext:
    """The built issue as the checks see it: sample-filled HTML and text, tree, message."""

    issue_dir: Path
    settings: Settings
    meta: dict
    html: str
    text: str
    root: etree._Element
    doctype: str
    values: dict[str, str]
    locator: SectionLocator
    message: EmailMessage | None = None

    @property
    def build_dir(self) -> Path:
        return self.issue_dir / "build"

    @property
    def html_path(self) -> Path:
        return self.build_dir / "email.html"

    @property
    def text_path(self) -> Path:
        return self.build_dir / "email.txt"

    @property
    def language(self) -> str:
        return str(self.meta.get("language") or "")

    def style_blocks(self) -> list[etree._Element]:
        return [el for el in self.root.iter("style")]

    def body(self) -> etree._Element:
        body = self.root.find("body")
        return body if body is not None else self.root


def load_context(issue_dir: Path, settings: Settings) -> CheckContext:
    """Read `issue_dir/build/`, fill the placeholders for a sample recipient and parse the HTML."""
    issue_dir = Path(issue_dir)
    build_dir = issue_dir / "build"
    html_path = build_dir / "email.html"
    if not html_path.is_file():
        raise IssueError(
            f"{html_path} does not exist: build the issue first (newsletter build {issue_dir})"
        )
    values = sample_values(settings)
    html, text, meta, built = _filled(issue_dir, values)
    if not html.strip():
        raise IssueError(f"{html_path} is empty: rebuild the issue")
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise IssueError(f"{html_path}: cannot parse the HTML ({exc})") from exc
    # From the text: lxml invents an HTML 4 doctype when the document has none.
    doctype_match = re.match(r"\s*(<!doctype[^>]*>)", html, re.I)
    doctype = doctype_match.group(1) if doctype_match else ""
    context = CheckContext(
        issue_dir=issue_dir,
        settings=settings,
        meta=meta,
        html=html,
        text=text,
        root=root,
        doctype=doctype,
        values=values,
        locator=SectionLocator(issue_dir, root, html_path),
    )
    context.message = _sample_message(context, built)
    return context


def _filled(issue_dir: Path, values: dict[str, str]) -> tuple[str, str, dict, BuiltIssue]:
    """HTML and text with the sample values filled in, exactly as a send fills them."""
    built = load_built(issue_dir)
    return built.html.fill(values), built.text.fill(values), dict(built.meta), built


def _sample_message(context: CheckContext, built: BuiltIssue) -> EmailMessage:
    """The full message for the sample recipient, built by the send code."""
    settings = context.settings
    slug = str(context.meta.get("slug") or context.issue_dir.name)
    domain = settings.sender_domain or "localhost"
    recipient = RecipientValues(
        email=SAMPLE_EMAIL,
        name=SAMPLE_NAME,
        unsubscribe_url=context.values["unsubscribe_url"],
        preferences_url=context.values["preferences_url"],
    )
    return build_message(
        built,
        settings,
        recipient,
        list_name=str(context.meta.get("list") or DEFAULT_LIST),
        # Shaped like a real delivery's Message-ID; the key only makes it look random.
        message_id=delivery_message_id("newsletter-check", slug, 1, domain),
    )


def html_part(message: EmailMessage | None) -> EmailMessage | None:
    """The text/html part of a message, as it will be encoded on the wire."""
    if message is None:
        return None
    for part in message.walk():
        if part.get_content_type() == "text/html" and not part.is_multipart():
            return part
    return None
