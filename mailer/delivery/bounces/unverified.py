"""Reports that prove nothing, and the rule under which they count.

With VERP on (NEWSLETTER_BOUNCE_ADDRESS set) the relay's report about a message carries that
message's token; a report without one (or without the recipient's own Message-ID) may have
been written by anyone with a mailbox. Modelled on GNU Mailman 3's bounce score, with the
power to end a subscription taken away:

- it is recorded (`bounce_events.unverified` = 1), shown, and changes no subscription;
- it scores at most one point a day per subscription, the day being when *we* recorded it
  (a report's own Date is written by its sender), and complaints do not score;
- points older than WITHIN days are dropped (BOUNCE_UNVERIFIED_LIMIT = DAYS/WITHIN, 3/7);
- at DAYS points one notice goes to the person through the durable service-mail outbox, and
  the score starts again: it says what was reported, that nothing changed, and how to leave.
  It goes out with the VERP return path of the person's last issue, so that if the address is
  really dead the notice's own bounce comes back with a valid token: a verified report, which
  acts the normal way. Delivered, it changes nothing.

A notice goes at most once every WITHIN days, so forged reports can do no more than that.
"""

from __future__ import annotations

from sqlite_utils import Database

from ...audience.optin import mail_address, sender_name, service_message
from ...config import Settings
from ...locale import translate
from ...store.db import utc_now
from .. import service_mail
from .findings import Match
from .verp import envelope_sender


def unverified_decision(
    db: Database, settings: Settings, match: Match, current: str, dry_run: bool
) -> str:
    """Record nothing but the decision text; queue the notice when the score reaches DAYS."""
    if current != "active":
        return f"unverified: no change (already {current})"
    if match.failure.kind == "complaint":
        return "unverified: no change (a complaint without its message's ID does not count)"
    days, within = settings.unverified_limit
    last = last_notice(db, match.subscriber_id, match.list_id)
    score = score_days(db, match.subscriber_id, match.list_id, within, last)
    text = f"unverified: no change ({score} of {days} days with such reports"
    if last and last >= utc_now(-within * 86400):
        return f"{text}; the person was sent a notice on {last[:10]})"
    if score < days:
        return f"{text} within {within} days)"
    if dry_run:
        return f"{text}: a notice would be sent to the person)"
    queue_notice(db, settings, match, score)
    return f"{text}: a notice was queued to the person)"


def last_notice(db: Database, subscriber_id: int, list_id: int) -> str | None:
    """When the person was last sent a notice about this list (None: never)."""
    return db.execute(
        "SELECT max(created) FROM service_mail WHERE kind = 'bounce_notice' "
        "AND subscriber_id = ? AND list_id = ?",
        [subscriber_id, list_id],
    ).fetchone()[0]


def score_days(
    db: Database, subscriber_id: int, list_id: int, within: int, last: str | None = None
) -> int:
    """Days (UTC, by our clock) with an unverified bounce in the last `within` days and after
    the day of the last notice, counting today (the report being recorded)."""
    after = (last or "")[:10]
    days = {
        day
        for (day,) in db.execute(
            "SELECT DISTINCT substr(recorded_at, 1, 10) FROM bounce_events "
            "WHERE subscriber_id = ? AND list_id = ? AND unverified = 1 "
            "AND kind IN ('hard', 'soft') AND recorded_at > ?",
            [subscriber_id, list_id, utc_now(-within * 86400)],
        )
    }
    return len({day for day in days | {utc_now()[:10]} if day > after})


def queue_notice(db: Database, settings: Settings, match: Match, score: int) -> None:
    """The notice, with the return path of the person's last issue (see the module doc)."""
    name, language = db.execute(
        "SELECT name, language FROM subscribers WHERE id = ?", [match.subscriber_id]
    ).fetchone()
    title = db.execute("SELECT title FROM lists WHERE id = ?", [match.list_id]).fetchone()[0]
    body = translate(
        language,
        "bounce_notice_body",
        days=score,
        sender=sender_name(settings),
        list=title or match.list_name,
        email=match.email,
    )
    subject = translate(language, "bounce_notice_subject")
    message = service_message(settings, mail_address(name, match.email), language, subject, body)
    service_mail.queue_mail(
        db,
        "bounce_notice",
        match.email,
        message,
        subscriber_id=match.subscriber_id,
        list_id=match.list_id,
        once_key=f"bounce_notice:{match.list_id}:{match.subscriber_id}:{utc_now()[:10]}",
        envelope_from=envelope_sender(settings, match.delivery_id),
    )
