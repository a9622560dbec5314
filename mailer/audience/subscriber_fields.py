"""Checking what people type: e-mail addresses, names, languages and list names.

Addresses are stored in one canonical form (see `normalise_email`) so that uniqueness, the
suppression list and imports all agree on what "the same address" means. Names end up in
To: headers, so line breaks and control characters are refused.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from ..errors import SubscriberError
from ..locale import LANGUAGES

DEFAULT_LANGUAGE = "sv"
MAX_NAME_LENGTH = 200
LIST_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalise_email(address: str) -> str:
    """The canonical form of an address, or SubscriberError saying what is wrong with it.

    Syntax is checked by email-validator without DNS lookups. International domains are
    accepted and stored in their ASCII (IDNA) form, so `user@bücher.de` equals
    `user@xn--bcher-kva.de` and can be delivered by any server. Non-ASCII local parts
    (`åsa.lindström@exempel.se`, RFC 6531) are accepted in Unicode NFC form: they can only be
    delivered through a server that offers SMTPUTF8, which the sender checks per recipient
    (`mailer.delivery.smtputf8`). The local part is lower-cased too: RFC 5321 allows
    case-sensitive mailboxes, but practically no provider has them, and treating `Anna@` and
    `anna@` as two people would defeat unsubscribes and erasure.
    """
    if not isinstance(address, str) or not address.strip():
        raise SubscriberError("the e-mail address is empty")
    text = address.strip()
    if CONTROL_CHARACTERS.search(text):
        raise SubscriberError(f"{text!r} is not a valid e-mail address: it has control characters")
    local, _at, domain = text.rpartition("@")
    if len(local) <= 64 and DOT_ATOM.fullmatch(local):
        # fast path for the common case (an import checks 100,000 addresses): a plain ASCII
        # local part needs no more checks, and the domain's verdict is cached per domain
        try:
            email = f"{local}@{_ascii_domain(domain)}".lower()
        except EmailNotValidError as exc:
            raise SubscriberError(f"{text!r} is not a valid e-mail address: {exc}") from None
        if len(email) <= 254:
            return email
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise SubscriberError(f"{text!r} is not a valid e-mail address: {exc}") from None
    if result.ascii_email:
        return result.ascii_email.lower()
    local = unicodedata.normalize("NFC", result.local_part.lower())
    return f"{local}@{result.ascii_domain.lower()}"


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    """email-validator's verdict on a domain (ASCII form, or EmailNotValidError), cached."""
    return validate_email(
        f"x@{domain}", check_deliverability=False, allow_smtputf8=False
    ).ascii_domain


# Direction overrides and isolates, and zero-width characters: in a name they reverse or hide
# text ("Anna\u202eaknaB") in greetings, the To: header and the coordinator's lists.
INVISIBLE = frozenset(
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
JOINERS = frozenset("\u200c\u200d")  # ZWNJ/ZWJ: needed in Persian, Indic scripts and emoji


def _joins(text: str, index: int) -> bool:
    """A joiner between two visible characters does its job; anywhere else it only hides."""
    if index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    return not (before.isspace() or after.isspace() or {before, after} & (INVISIBLE | JOINERS))


def clean_name(name: str | None) -> str:
    """A display name without surrounding space; refuses line breaks and control characters
    (a name ends up in the To: header, where CR/LF would inject headers)."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise SubscriberError(f"name {name!r} is not text")
    for index, ch in enumerate(name):
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise SubscriberError(
                f"name {name!r} contains a line break or control character (U+{ord(ch):04X})"
            )
        if ch in INVISIBLE or (ch in JOINERS and not _joins(name, index)):
            raise SubscriberError(
                f"name contains the invisible character U+{ord(ch):04X} (it can reverse or hide "
                "text in greetings and headers); type the name again"
            )
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > MAX_NAME_LENGTH:
        raise SubscriberError(f"name is longer than {MAX_NAME_LENGTH} characters")
    return name


def clean_language(language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """One of LANGUAGES (sv, da, en); empty means `default`."""
    if language is None or not str(language).strip():
        return default
    code = str(language).strip().lower()
    if code not in LANGUAGES:
        raise SubscriberError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    return code


def clean_list_name(name: str) -> str:
    """A list name: lower-case letters, digits, - and _ (it appears in URLs and front matter)."""
    text = (name or "").strip().lower()
    if not LIST_NAME.fullmatch(text):
        raise SubscriberError(
            f"list name {name!r} is not valid: use lower-case letters, digits, '-' or '_'"
        )
    return text
