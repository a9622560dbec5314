"""Send pacing: a per-second rate and a per-hour cap that carry over to the next run.

The state (the next free slot, messages per minute over the last hour) is loaded from the
ledger's send-state tables when a run starts and saved in the same transaction that claims
the rows, so stopping and starting again does not reset a provider's hourly quota.
"""

from __future__ import annotations

import math


class Pacer:
    """Hands out send slots; `take` reserves one, `wait_time` says how long until the next."""

    def __init__(
        self,
        per_second: float,
        per_hour: int,
        *,
        next_slot: float = 0.0,
        minute_counts: dict[int, int] | None = None,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_hour = per_hour
        self.next_slot = next_slot
        self.minutes: dict[int, int] = dict(minute_counts or {})
        self.taken_this_minute: dict[int, int] = {}

    def _hour_total(self, now: float) -> int:
        minute = int(now // 60)
        for old in [m for m in self.minutes if m <= minute - 60]:
            del self.minutes[old]
        return sum(self.minutes.values())

    def wait_time(self, now: float) -> float:
        """Seconds until a slot is free (0 when one is free now)."""
        wait = max(0.0, self.next_slot - now) if self.interval else 0.0
        if self.per_hour and self._hour_total(now) >= self.per_hour:
            oldest = min(self.minutes)
            wait = max(wait, (oldest + 60) * 60 - now)
        return wait

    def take(self, now: float) -> bool:
        """Reserve a slot at `now` if one is free."""
        if self.wait_time(now) > 0:
            return False
        if self.interval:
            # idle time earns no credit: no burst after a pause
            self.next_slot = max(self.next_slot, now) + self.interval
        minute = int(now // 60)
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        self.taken_this_minute[minute] = self.taken_this_minute.get(minute, 0) + 1
        return True

    def unsaved(self) -> list[tuple[int, int]]:
        """(minute, messages) taken since the last call, to add to the saved counts."""
        taken, self.taken_this_minute = self.taken_this_minute, {}
        return sorted(taken.items())

    @property
    def limited(self) -> bool:
        return bool(self.interval or self.per_hour)


def describe_rate(per_second: float, per_hour: int) -> str:
    parts = []
    if per_second > 0:
        parts.append(f"{per_second:g}/s")
    if per_hour > 0:
        parts.append(f"{per_hour}/hour")
    return ", ".join(parts) if parts else "no limit"


def eta_seconds(remaining: int, per_second: float) -> float:
    return remaining / per_second if per_second > 0 else math.nan
