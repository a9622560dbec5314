"""Link tokens: random, hashed at rest, one purpose each; confirm tokens expire and work once."""

from __future__ import annotations

import base64
import threading

import pytest

from mailer.audience.roster import add_subscriber
from mailer.audience.tokens import consume_token, hash_token, issue_token, lookup_token
from mailer.store.db import open_db


@pytest.fixture
def person(db, settings):
    add_subscriber(db, settings, "token.owner@example.se", name="Token Owner")
    return db.execute("SELECT id FROM subscribers").fetchone()[0]


def test_tokens_carry_at_least_128_random_bits_and_differ(db, person):
    tokens = {issue_token(db, "unsubscribe", person) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128


def test_only_the_hash_is_stored(db, settings, person):
    token = issue_token(db, "unsubscribe", person)
    stored = db.execute("SELECT token_hash FROM tokens").fetchone()[0]
    assert stored == hash_token(token) and stored != token
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("", "-wal"):
        file = settings.db_path.with_name(settings.db_path.name + suffix)
        if file.exists():
            assert token.encode() not in file.read_bytes()


def test_lookup_returns_the_owner_and_list(db, person):
    list_id = db.execute("SELECT id FROM lists WHERE name = 'newsletter'").fetchone()[0]
    token = issue_token(db, "preferences", person, list_id)
    found = lookup_token(db, "preferences", token)
    assert found["subscriber_id"] == person and found["list_id"] == list_id


def test_a_token_works_only_for_its_own_purpose(db, person):
    token = issue_token(db, "unsubscribe", person)
    assert lookup_token(db, "preferences", token) is None
    assert lookup_token(db, "confirm", token) is None
    assert lookup_token(db, "unsubscribe", token) is not None


def test_unknown_tampered_and_silly_tokens_are_refused(db, person):
    token = issue_token(db, "unsubscribe", person)
    assert lookup_token(db, "unsubscribe", token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert lookup_token(db, "unsubscribe", "") is None
    assert lookup_token(db, "unsubscribe", "x" * 10_000) is None
    with pytest.raises(ValueError):
        issue_token(db, "login", person)


def test_confirm_tokens_expire(db, person):
    token = issue_token(db, "confirm", person, ttl_seconds=-1)
    assert lookup_token(db, "confirm", token) is None
    assert consume_token(db, "confirm", token) is None


def test_confirm_tokens_always_get_an_expiry(db, person):
    issue_token(db, "confirm", person)
    assert db.execute("SELECT expires FROM tokens").fetchone()[0] is not None


def test_consumed_token_works_once(db, person):
    token = issue_token(db, "confirm", person)
    assert consume_token(db, "confirm", token) is not None
    assert consume_token(db, "confirm", token) is None
    assert lookup_token(db, "confirm", token) is None


def test_two_connections_consuming_at_once_have_one_winner(db, settings, person):
    token = issue_token(db, "confirm", person)
    results = []

    def click():
        own = open_db(settings.db_path)
        results.append(consume_token(own, "confirm", token) is not None)
        own.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]


def test_tokens_disappear_with_their_owner(db, settings, person):
    from mailer.audience.consent import erase_subscriber

    token = issue_token(db, "unsubscribe", person)
    erase_subscriber(db, settings, person)
    assert lookup_token(db, "unsubscribe", token) is None
    assert db.execute("SELECT count(*) FROM tokens").fetchone()[0] == 0


def test_signed_tokens_are_stable_need_no_row_and_die_with_the_person(db, settings, person):
    from mailer.audience.consent import erase_subscriber
    from mailer.audience.tokens import SIGNED_LENGTH, signed_token

    key = settings.secret_key
    created = db.execute("SELECT created FROM subscribers WHERE id = ?", [person]).fetchone()[0]
    token = signed_token(key, "unsubscribe", person, 1, created)
    assert token == signed_token(key, "unsubscribe", person, 1, created)  # one per subscription
    assert (
        len(token) == SIGNED_LENGTH and db.execute("SELECT count(*) FROM tokens").fetchone()[0] == 0
    )
    found = lookup_token(db, "unsubscribe", token, key)
    assert (found["subscriber_id"], found["list_id"], found["id"]) == (person, 1, None)
    assert lookup_token(db, "unsubscribe", token) is None  # without the key: stored tokens only
    assert lookup_token(db, "unsubscribe", token, "another-secret-key-0123456789") is None
    assert lookup_token(db, "preferences", token, key) is None
    assert consume_token(db, "unsubscribe", token) is None  # nothing to consume
    # the person is erased and somebody new gets the same row id: the old link opens nothing
    erase_subscriber(db, settings, "token.owner@example.se")
    add_subscriber(db, settings, "next.person@example.se")
    assert db.execute("SELECT id FROM subscribers").fetchone()[0] == person
    assert lookup_token(db, "unsubscribe", token, key) is None


def test_stored_tokens_from_earlier_sends_keep_working_with_the_key(db, settings, person):
    token = issue_token(db, "unsubscribe", person, 1)
    assert lookup_token(db, "unsubscribe", token, settings.secret_key)["subscriber_id"] == person
