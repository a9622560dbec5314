"""Who the footer says sends the issue: warnings for a footer that mixes two organisations
(an issue or list naming its own organisation while keeping the site's address, logo, phone
or e-mail) and for a list that newsletter.yml gives no name (the footer then names the issue)."""

from __future__ import annotations

from ..compose.issue import SITE_FILE, Issue
from .report import Finding, Report

FOOTER_DETAILS = ("address", "web", "email", "phone", "logo")


def check_identity(issue: Issue, report: Report) -> None:
    site, own = issue.site_defaults, issue.site
    issue_file = str(issue.path / "issue.md")
    site_org = " ".join(str(site.get("organisation") or "").split())
    organisation = " ".join(str(own.get("organisation") or "").split())
    if site_org and organisation and organisation.casefold() != site_org.casefold():
        kept = [k for k in FOOTER_DETAILS if site.get(k) and own.get(k) == site.get(k)]
        if kept:
            report.add(
                Finding(
                    "warning",
                    "identity",
                    "identity-mixed",
                    f"the footer names {organisation!r} but keeps {site_org!r}'s "
                    f"{', '.join(kept)} from {SITE_FILE}",
                    f"give the issue (or its list in {SITE_FILE}'s lists:) its own "
                    f"{', '.join(kept)}, or write e.g. 'address: \"\"' to leave one out; see "
                    "docs/issue-format.md, 'Footer identity'",
                    issue_file,
                )
            )
    text = issue.list_text
    if text is None or not text.names:
        report.add(
            Finding(
                "warning",
                "identity",
                "list-unnamed",
                f"list {issue.list_name!r} has no name in {SITE_FILE}: the footer's \"why you "
                f"get this\" line names the issue's title ({issue.title!r}) instead",
                f"add it under lists: in {SITE_FILE}, e.g. '{issue.list_name}: "
                "{name: ..., language: " + issue.language + "}'",
                str(issue.path.parent / SITE_FILE),
            )
        )
