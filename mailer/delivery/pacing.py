"""Send pacing: a per-second rate and hourly and daily quotas that carry over to the next run.

The state (the next free slot, messages per minute over the last 24 hours) is loaded from the
ledger's send-state tables when a run starts and saved in the same transaction that claims
the rows, so stopping and starting again resets neither a provider's hourly nor its daily
quota. The windows roll: a message counts against the hour (day) for 60 (1,440) minutes.
"""

from __future__ import annotations

import math

HOUR_MINUTES = 60
DAY_MINUTES = 24 * 60


class Pacer:
    """Hands out send slots; `take` reserves one, `wait_time` says how long until the next."""

    def __init__(
        self,
        per_second: float,
        per_hour: int,
        per_day: int = 0,
        *,
        next_slot: float = 0.0,
        minute_counts: dict[int, int] | None = None,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_hour, self.per_day = per_hour, per_day
        self.next_slot = next_slot
        self.minutes: dict[int, int] = dict(minute_counts or {})
        self.taken_this_minute: dict[int, int] = {}
        self._at_minute: int | None = None
        self.hour_total = self.day_total = 0

    def _refresh(self, now: float) -> int:
        """Totals of the rolling hour and day, recomputed once a minute (not per message)."""
        minute = int(now // 60)
        if minute != self._at_minute:
            for old in [m for m in self.minutes if m <= minute - DAY_MINUTES]:
                del self.minutes[old]
            self.day_total = sum(self.minutes.values())
            self.hour_total = sum(n for m, n in self.minutes.items() if m > minute - HOUR_MINUTES)
            self._at_minute = minute
        return minute

    def _until_below(self, limit: int, total: int, window: int) -> float:
        """Seconds until enough of the oldest minutes leave the window to free one message."""
        minute = self._at_minute or 0
        for m in sorted(m for m in self.minutes if m > minute - window):
            total -= self.minutes[m]
            if total < limit:
                return (m + window) * 60.0
        return (minute + 1) * 60.0

    def quota_wait(self, now: float) -> tuple[float, str]:
        """(seconds, the setting that holds the run back) for the hourly and daily quotas."""
        self._refresh(now)
        wait, which = 0.0, ""
        if self.per_day and self.day_total >= self.per_day:
            wait = self._until_below(self.per_day, self.day_total, DAY_MINUTES) - now
            which = f"SEND_RATE_PER_DAY={self.per_day}"
        if self.per_hour and self.hour_total >= self.per_hour:
            hour = self._until_below(self.per_hour, self.hour_total, HOUR_MINUTES) - now
            if hour > wait:
                wait, which = hour, f"SEND_RATE_PER_HOUR={self.per_hour}"
        return max(wait, 0.0), which

    def wait_time(self, now: float) -> float:
        """Seconds until a slot is free (0 when one is free now)."""
        wait = max(0.0, self.next_slot - now) if self.interval else 0.0
        if self.per_hour or self.per_day:
            wait = max(wait, self.quota_wait(now)[0])
        return wait

    def take(self, now: float) -> bool:
        """Reserve a slot at `now` if one is free."""
        if self.wait_time(now) > 0:
            return False
        if self.interval:
            # idle time earns no credit: no burst after a pause
            self.next_slot = max(self.next_slot, now) + self.interval
        minute = self._refresh(now)
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        self.hour_total += 1
        self.day_total += 1
        self.taken_this_minute[minute] = self.taken_this_minute.get(minute, 0) + 1
        return True

    def unsaved(self) -> list[tuple[int, int]]:
        """(minute, messages) taken since the last call, to add to the saved counts."""
        taken, self.taken_this_minute = self.taken_this_minute, {}
        return sorted(taken.items())

    @property
    def limited(self) -> bool:
        return bool(self.interval or self.per_hour or self.per_day)


def describe_rate(per_second: float, per_hour: int, per_day: int = 0) -> str:
    parts = []
    if per_second > 0:
        parts.append(f"{per_second:g}/s")
    if per_hour > 0:
        parts.append(f"{per_hour}/hour")
    if per_day > 0:
        parts.append(f"{per_day}/day")
    return ", ".join(parts) if parts else "no limit"


def eta_seconds(remaining: int, per_second: float) -> float:
    return remaining / per_second if per_second > 0 else math.nan
