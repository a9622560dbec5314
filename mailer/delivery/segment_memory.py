"""Which segment a send uses: the one given with `--segment`, or the one the ledger remembers.

A send started with `--segment "län = Örebro"` records it (migration m015) when it queues its
recipients; running `send` again without the option resumes with the same segment. A different
segment is taken only when nothing of the earlier one is still waiting (the queued rows were
chosen by it); `--segment all` goes back to the whole list. Who matches is decided when people
are queued: changing a field afterwards does not take a queued person out.
"""

from __future__ import annotations

from sqlite_utils import Database

from ..audience.segments import Segment, parse_segment
from ..errors import SendError
from ..store.db import utc_now
from . import ledger

EVERYONE = "all"


def recorded(db: Database, issue: str, list_id: int) -> str | None:
    row = db.execute(
        "SELECT expression FROM send_segments WHERE issue = ? AND list_id = ?", [issue, list_id]
    ).fetchone()
    return row[0] if row else None


def resolve(db: Database, issue: str, list_id: int, given: str | None) -> Segment | None:
    """The segment this run uses (None: the whole list); SendError when `given` would change
    the segment of a send whose queued rows were chosen by another one."""
    before = recorded(db, issue, list_id)
    if given is None:
        return parse_segment(before) if before else None
    wanted = None if given.strip().lower() == EVERYONE else parse_segment(given)
    wanted_text = wanted.text if wanted else None
    if wanted_text != before and before is not None:
        counts = ledger.counts(db, issue, list_id)
        waiting = counts["queued"] + counts["deferred"] + counts["sending"]
        if waiting:
            raise SendError(
                f"{issue} was started for the segment {before!r} and {waiting} of its messages "
                "are still waiting; run send without --segment to finish them first"
            )
    return wanted


def remember(db: Database, issue: str, list_id: int, segment: Segment | None) -> None:
    """Record the segment of this run (or that it mails the whole list); inside a transaction."""
    if segment is None:
        db.execute("DELETE FROM send_segments WHERE issue = ? AND list_id = ?", [issue, list_id])
        return
    db.execute(
        "INSERT INTO send_segments (issue, list_id, expression, recorded_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (issue, list_id) DO UPDATE SET expression = excluded.expression, "
        "recorded_at = excluded.recorded_at",
        [issue, list_id, segment.text, utc_now()],
    )
