"""A self-hosted proof-of-work challenge for the embedded sign-up form (the ALTCHA scheme).

Why: a form on another site cannot use our CSRF cookie, and a third-party captcha would hand
the visitors to someone else. Instead the browser proves it spent a little work: the server
picks a random salt and a secret number n below `maxnumber`, sends sha256(salt + n) and an
HMAC of it, and the browser tries numbers until the hash matches (well under a second in a
browser; costly for a bot posting thousands). The server checks the HMAC (so nobody can make
their own easy challenge), the hash, the expiry inside the salt, and that the solution was not
used before (in this process). No cookie, no state until a solution arrives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time

ALGORITHM = "SHA-256"
MAX_NUMBER = 50_000
LIFETIME_SECONDS = 600
_USED_LIMIT = 100_000


def _signature(key: bytes, challenge: str) -> str:
    return hmac.new(key, challenge.encode("ascii"), hashlib.sha256).hexdigest()


def _key(secret_key: str) -> bytes:
    # a key of its own, derived from the site's secret: a leaked challenge signature says
    # nothing about the tokens and links signed with the secret itself
    return hmac.new(secret_key.encode(), b"form-challenge", hashlib.sha256).digest()


def create_challenge(secret_key: str, *, now: float | None = None, max_number: int = MAX_NUMBER):
    """A new challenge as the browser gets it (JSON-ready)."""
    expires = int((now if now is not None else time.time()) + LIFETIME_SECONDS)
    salt = f"{secrets.token_hex(12)}?expires={expires}"
    number = secrets.randbelow(max_number + 1)
    challenge = hashlib.sha256(f"{salt}{number}".encode("ascii")).hexdigest()
    return {
        "algorithm": ALGORITHM,
        "challenge": challenge,
        "maxnumber": max_number,
        "salt": salt,
        "signature": _signature(_key(secret_key), challenge),
    }


def solve(challenge: dict) -> str:
    """The browser's part, in Python (for tests and for sites posting JSON from a server)."""
    for number in range(int(challenge["maxnumber"]) + 1):
        digest = hashlib.sha256(f"{challenge['salt']}{number}".encode("ascii")).hexdigest()
        if digest == challenge["challenge"]:
            solution = {key: challenge[key] for key in ("algorithm", "challenge", "salt")}
            solution |= {"number": number, "signature": challenge["signature"]}
            return base64.b64encode(json.dumps(solution).encode()).decode("ascii")
    raise ValueError("no solution")


class SolutionChecker:
    """Verifies solutions and remembers the used ones until they expire (per process)."""

    def __init__(self, secret_key: str, clock=time.time) -> None:
        self._key = _key(secret_key)
        self._clock = clock
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, payload: str) -> bool:
        """True for a genuine, unexpired, unused solution; it is then used up."""
        try:
            solution = json.loads(base64.b64decode(payload.encode("ascii"), validate=True))
            salt, challenge = str(solution["salt"]), str(solution["challenge"])
            number, signature = int(solution["number"]), str(solution["signature"])
            algorithm = solution.get("algorithm", ALGORITHM)
            expires = int(salt.rsplit("?expires=", 1)[1])
        except (ValueError, KeyError, IndexError, TypeError, UnicodeError, AttributeError):
            return False
        now = self._clock()
        if algorithm != ALGORITHM or expires < now or not 0 <= number <= 10_000_000:
            return False
        if not hmac.compare_digest(signature, _signature(self._key, challenge)):
            return False
        digest = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()
        if not hmac.compare_digest(digest, challenge):
            return False
        with self._lock:
            if len(self._used) >= _USED_LIMIT:
                self._used = {k: v for k, v in self._used.items() if v >= now}
            if challenge in self._used:
                return False
            self._used[challenge] = expires
        return True
