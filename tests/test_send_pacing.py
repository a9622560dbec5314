"""Send pacing: per-second slots and the hourly cap, saved in and restored from the database."""

from __future__ import annotations

from mailer.delivery import ledger
from mailer.delivery.pacing import Pacer
from mailer.store.db import transaction

NOW = 1_800_000_000.0  # a fixed moment, whole minutes apart from the hour buckets


def test_per_second_rate_spaces_the_slots_without_bursts_after_idling():
    pacer = Pacer(per_second=4, per_hour=0)
    assert pacer.take(NOW)
    assert not pacer.take(NOW)  # the next slot is a quarter second later
    assert pacer.wait_time(NOW) == 0.25
    assert pacer.take(NOW + 0.25)
    # after a long pause only one slot is free, not a burst of saved-up ones
    assert pacer.take(NOW + 100) and not pacer.take(NOW + 100)


def test_hourly_cap_blocks_until_the_oldest_minute_leaves_the_window():
    pacer = Pacer(per_second=0, per_hour=3)
    assert all(pacer.take(NOW + n) for n in range(3))
    assert not pacer.take(NOW + 10)
    wait = pacer.wait_time(NOW + 10)
    assert 3500 < wait <= 3600
    assert pacer.take(NOW + 10 + wait)


def test_pacing_state_survives_a_restart_through_the_database(db):
    first = Pacer(per_second=2, per_hour=5)
    for n in range(5):
        assert first.take(NOW + n)
    with transaction(db):
        ledger.save_pacing(db, first.next_slot, first.unsaved())
    next_slot, minutes = ledger.load_pacing(db, NOW + 5)
    second = Pacer(per_second=2, per_hour=5, next_slot=next_slot, minute_counts=minutes)
    assert sum(minutes.values()) == 5
    assert not second.take(NOW + 6)  # the hour's five are used, whoever used them
    assert second.wait_time(NOW + 6) > 3000


def test_daily_quota_rolls_over_24_hours_and_the_hourly_one_still_applies():
    pacer = Pacer(per_second=0, per_hour=2, per_day=3)
    assert pacer.take(NOW) and pacer.take(NOW + 1)
    wait, setting = pacer.quota_wait(NOW + 2)
    assert setting == "SEND_RATE_PER_HOUR=2" and 3500 < wait <= 3600
    assert pacer.take(NOW + 3600)  # the third of the day, in the next hour
    wait, setting = pacer.quota_wait(NOW + 3601)
    assert setting == "SEND_RATE_PER_DAY=3"
    assert 86400 - 3601 - 60 < wait <= 86400 - 3601  # until the first minute leaves the day
    assert pacer.take(NOW + 3601 + wait)


def test_daily_counts_survive_a_restart_through_the_database(db):
    first = Pacer(per_second=0, per_hour=0, per_day=4)
    for n in range(4):
        assert first.take(NOW + n * 3600)  # spread over four hours
    with transaction(db):
        ledger.save_pacing(db, first.next_slot, first.unsaved())
    next_slot, minutes = ledger.load_pacing(db, NOW + 5 * 3600)
    second = Pacer(per_second=0, per_hour=0, per_day=4, next_slot=next_slot, minute_counts=minutes)
    assert not second.take(NOW + 5 * 3600)
    assert second.quota_wait(NOW + 5 * 3600)[1] == "SEND_RATE_PER_DAY=4"
