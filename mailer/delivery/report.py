"""What a send is about to do (`SendPlan`, shown before confirming) and what it did
(`SendSummary`, the one-line summary)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlite_utils import Database

from ..audience import subscribers
from ..compose.attachments import size_text
from ..config import Settings
from . import ledger, smtputf8
from .pacing import describe_rate

SECURITY_LABELS = {"starttls": "STARTTLS", "ssl": "TLS", "none": "no encryption"}


BY_ADDRESS = (
    "to the From address and matched by address, so anyone can forge one that ends a "
    "subscription; set NEWSLETTER_BOUNCE_ADDRESS (VERP) so that only reports carrying a "
    "message's token act"
)


@dataclass
class SendPlan:
    """What a send is about to do, shown before asking for confirmation."""

    issue: str
    title: str
    subject: str
    list_name: str
    recipients: int  # messages this run will try to send
    new: int
    pending: int
    interrupted: int
    already_sent: int
    smtp: str
    connections: int
    rate: str
    dkim: bool
    sender: str = ""
    reply_to: str = ""
    base_url: str = ""
    warnings: list[str] = field(default_factory=list)
    return_path: str = ""  # bounces: NEWSLETTER_BOUNCE_ADDRESS, "" = the From address
    international: int = 0  # recipients whose address needs SMTPUTF8
    segment: str = ""  # `send --segment`, canonical; "" = the whole list
    segment_size: int = 0  # active people on the list the segment picks
    attachments: list[str] = field(default_factory=list)  # "program.pdf (240 kB)", per message

    def describe(self) -> str:
        lines = [
            f"Issue:      {self.issue} - {self.title}",
            f"Subject:    {self.subject}",
            f"From:       {self.sender}",
            f"Reply-To:   {self.reply_to or '(none: replies go to From)'}",
            f"List:       {self.list_name}"
            + (
                f" - segment {self.segment} ({self.segment_size} active people match)"
                if self.segment
                else ""
            ),
            f"Recipients: {self.recipients} to send now"
            + (f" ({self.already_sent} already sent)" if self.already_sent else ""),
            f"SMTP:       {self.smtp}",
            f"Links:      {self.base_url} (unsubscribe, preferences, web version, images)",
            f"Pace:       {self.connections} connection{'s' if self.connections != 1 else ''}, "
            f"rate {self.rate}, DKIM {'on' if self.dkim else 'off'}",
        ]
        if self.attachments:
            lines.append(f"Attached:   {', '.join(self.attachments)} (with every message)")
        if self.return_path:
            local, _, domain = self.return_path.rpartition("@")
            lines.append(f"Bounces:    to {local}+TOKEN@{domain}, one token per message (VERP)")
        else:
            lines.append(f"Bounces:    {BY_ADDRESS}")
        if self.interrupted:
            lines.append(
                f"Resuming:   {self.interrupted} message(s) were in flight when an earlier run "
                "stopped; they are retried with their original Message-ID (a few may arrive twice)"
            )
        if self.international:
            lines.append(
                f"SMTPUTF8:   {self.international} recipient(s) have international addresses "
                "(RFC 6531); if the server does not offer SMTPUTF8 they are deferred, not "
                "failed, and `send-status` lists them"
            )
        lines += [f"Warning:    {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class SendSummary:
    """What a run did; `line()` is the one-line summary the CLI prints."""

    issue: str
    list_name: str
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    deferred: int = 0
    skipped: int = 0
    recovered: int = 0
    already_sent: int = 0
    remaining: int = 0
    dry_run: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # "interrupted" | "paused" | "quota" | "lost" | None
    reason: str = ""
    resume_at: float = 0.0  # with "quota": when the quota frees the next message (epoch s)
    started: float = 0.0
    failures: list[str] = field(default_factory=list)
    smtputf8_deferred: int = 0  # international addresses the server could not take

    def rate_text(self) -> str:
        """Messages per second so far, for the progress bar."""
        elapsed = time.monotonic() - self.started if self.started else 0.0
        return f"{self.sent / elapsed:.0f} msg/s" if elapsed > 0.5 else ""

    def line(self) -> str:
        if self.dry_run:
            what = "message" if self.dry_run == 1 else "messages"
            return f"Wrote {self.dry_run} {what} of {self.issue} (dry run, nothing sent)."
        if not (self.sent or self.failed or self.deferred or self.skipped or self.remaining):
            return (
                f"Nothing to send: {self.issue} was sent to {self.already_sent} "
                f"recipient{'' if self.already_sent == 1 else 's'} "
                f"on {self.list_name} already, and nobody new is waiting."
            )
        rate = self.sent / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"{self.issue} to {self.list_name}: {self.sent} sent, {self.failed} failed "
            f"({self.bounced} bounced), {self.deferred} deferred, {self.skipped} skipped; "
            f"{self.remaining} still to send; {self.seconds:.1f} s ({rate:.0f} msg/s)"
        )
        if self.smtputf8_deferred:
            text += (
                f"; {self.smtputf8_deferred} deferred because the server does not offer "
                "SMTPUTF8 for their international addresses"
            )
        return text


def make_plan(
    db: Database,
    settings: Settings,
    meta: dict,
    slug: str,
    list_name: str,
    limit: int | None,
    connections: int,
    rate: float,
    retry_failed: bool = False,
    *,
    segment=None,
    segment_ids: set[int] | None = None,
) -> SendPlan:
    """Count who this run would mail (queued, deferred, interrupted, new and, with
    `retry_failed`, failed) and warn about settings that defeat one-click unsubscribe or leak
    the password."""
    list_pk = subscribers.list_id(db, list_name)
    counts = ledger.counts(db, slug, list_pk)
    if segment_ids is None:
        new = ledger.new_recipients(db, slug, list_pk)
        active_count = 0
    else:
        known = {
            sid
            for (sid,) in db.execute("SELECT subscriber_id FROM deliveries WHERE issue = ?", [slug])
        }
        active = [
            r.subscriber_id
            for r in subscribers.active_recipients(db, list_name)
            if r.subscriber_id in segment_ids
        ]
        new = sum(1 for sid in active if sid not in known)
        active_count = len(active)
    international = smtputf8.pending_international(db, slug, list_pk)
    international += smtputf8.new_international(db, slug, list_pk, segment_ids)
    pending = counts["queued"] + counts["deferred"] + counts["sending"]
    pending += ledger.adoptable(db, slug, list_pk)  # on this list, queued for another
    if retry_failed:
        pending += counts["failed"]
    total = new + pending
    warnings = [
        f"{rows} message(s) of {slug} queued for list {other} are not part of this run; "
        f"send them with --list {other}"
        for other, rows in ledger.pending_elsewhere(db, slug, list_pk).items()
    ]
    if not settings.base_url.startswith("https://"):
        warnings.append(
            f"NEWSLETTER_BASE_URL={settings.base_url} is not HTTPS: mail providers ignore "
            "one-click unsubscribe links that are not HTTPS"
        )
    if settings.smtp_security == "none" and settings.smtp_username:
        what = "password" if settings.smtp_auth == "password" else "access token"
        warnings.append(f"SMTP_SECURITY=none sends the SMTP {what} unencrypted")
    domain, signing = settings.sender_domain, settings.dkim_domain.lower()
    if settings.dkim_enabled and not (domain == signing or domain.endswith("." + signing)):
        warnings.append(
            f"DKIM_DOMAIN={signing} does not match the From domain {domain}: DMARC will fail"
        )
    bounce_domain = settings.bounce_address.rpartition("@")[2].lower()
    if bounce_domain and not _related(bounce_domain, domain):
        warnings.append(
            f"NEWSLETTER_BOUNCE_ADDRESS is at {bounce_domain}, not under the From domain "
            f"{domain}: SPF will not align with From, so DMARC rests on DKIM alone"
        )
    return SendPlan(
        issue=slug,
        title=str(meta.get("title", "")),
        subject=str(meta.get("subject", "")),
        list_name=list_name,
        recipients=min(total, limit) if limit is not None else total,
        new=new,
        pending=pending,
        interrupted=counts["sending"],
        already_sent=ledger.counts(db, slug)["sent"],
        smtp=f"{settings.smtp_host}:{settings.smtp_port} ({SECURITY_LABELS[settings.smtp_security]}"
        + (f", login {settings.smtp_username}" if settings.smtp_username else "")
        + (f", {settings.smtp_auth})" if settings.smtp_auth != "password" else ")"),
        connections=connections,
        rate=describe_rate(rate, settings.send_rate_per_hour, settings.send_rate_per_day),
        dkim=settings.dkim_enabled,
        sender=settings.from_address,
        reply_to=settings.reply_to,
        base_url=settings.base_url,
        warnings=warnings,
        return_path=settings.bounce_address,
        international=international,
        segment=segment.text if segment else "",
        segment_size=active_count,
        attachments=attached_files(meta),
    )


def attached_files(meta: dict) -> list[str]:
    """The files every message carries, as the plan names them: `attachments:` and the
    invitation's .ics with `attach_ics`."""
    files = [f"{a['file']} ({size_text(int(a['size']))})" for a in meta.get("attachments", ())]
    if meta.get("attach_ics"):
        files.append(f"{meta.get('slug', 'issue')}-{meta['attach_ics']}")
    return files


def _related(one: str, other: str) -> bool:
    """Whether one domain is the other or under it (either way): a rough stand-in for "the
    same organisational domain" that needs no public-suffix list."""
    return one == other or one.endswith("." + other) or other.endswith("." + one)
