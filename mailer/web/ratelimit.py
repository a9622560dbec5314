"""An in-process sliding-window rate limiter (per client IP, per e-mail address).

It lives in the memory of one process: with several worker processes (gunicorn -w 4) each
counts on its own, so the effective limit is that many times higher. waitress (`newsletter
serve`) runs one process with threads, where the limit is exact. Keys are kept hashed and
the table is bounded, so a flood of distinct keys cannot exhaust memory.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque

MAX_KEYS = 50_000


class RateLimiter:
    """Allow at most `limit` hits per key within `window` seconds."""

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Count one hit for `key`; False when it is over the limit (the hit is not counted)."""
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        now = self.clock()
        with self._lock:
            if len(self._hits) >= MAX_KEYS:
                self._forget_old(now)
            hits = self._hits.setdefault(digest, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def blocked(self, key: str) -> float:
        """Seconds until `key` may hit again (0 when it may now); counts nothing."""
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        now = self.clock()
        with self._lock:
            hits = self._hits.get(digest)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if not hits or len(hits) < self.limit:
                return 0.0
            return hits[0] + self.window - now

    def _forget_old(self, now: float) -> None:
        cutoff = now - self.window
        for digest in [d for d, hits in self._hits.items() if not hits or hits[-1] <= cutoff]:
            del self._hits[digest]
        if len(self._hits) >= MAX_KEYS:  # still full of live keys: drop the oldest half
            for digest in list(self._hits)[: MAX_KEYS // 2]:
                del self._hits[digest]
