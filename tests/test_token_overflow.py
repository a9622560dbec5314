"""Signed tokens naming ids SQLite cannot hold (>= 2^63) are a 404 on every token route."""

from __future__ import annotations

import base64
import logging

import pytest

from mailer.audience import tokens
from tests.conftest import SECRET_KEY

ROUTES = [
    ("unsubscribe", "/unsubscribe/{}"),
    ("preferences", "/preferences/{}"),
    ("preferences", "/preferences/{}/export"),
    ("preferences", "/preferences/{}/erase"),
]


def crafted(purpose: str, subscriber_id: int, list_id: int, key: str = SECRET_KEY) -> str:
    """A signed token with a correct MAC under `key` (the worst case: the key has leaked)."""
    code = tokens.SIGNED_PURPOSES.index(purpose) + 1
    payload = tokens._SIGNED.pack(tokens.SIGNED_VERSION, code, subscriber_id, list_id)
    raw = payload + tokens._signature(key, payload, "no such subscriber")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("ids", [(2**63, 1), (2**64 - 1, 0), (1, 2**63), (2**64 - 1, 2**64 - 1)])
def test_huge_ids_are_404_on_every_route_get_and_post_without_traceback(client, lists, caplog, ids):
    caplog.set_level(logging.DEBUG)
    for purpose, pattern in ROUTES:
        url = pattern.format(crafted(purpose, *ids))
        for method in ("get", "post"):
            response = getattr(client, method)(url, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 404, (method, url)
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "Traceback" not in logged and "OverflowError" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_lookup_of_a_huge_id_is_none(db):
    assert (
        tokens.lookup_token(db, "unsubscribe", crafted("unsubscribe", 2**63, 1), SECRET_KEY) is None
    )
