"""The DNS records a site publishes so that its mail is trusted: SPF, DKIM, DMARC (and MX for
the bounce domain), worked out from the settings for `newsletter config --dns`.

Why the tool prints them: Gmail, Yahoo and Microsoft refuse or bin bulk mail whose From domain
has no aligned SPF or DKIM and no DMARC record, and the values (the DKIM public key above all)
are easy to get wrong by hand. The DKIM key is read from DKIM_PRIVATE_KEY; nothing secret is
printed (the public half of the key is public by design).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from ..config import Settings
from ..errors import ConfigError

# Relays whose SPF include is published and stable; any other relay gets `a:HOST` and a note.
KNOWN_RELAY_SPF = {
    "smtp.office365.com": "include:spf.protection.outlook.com",
    "smtp-mail.outlook.com": "include:spf.protection.outlook.com",
    "smtp.gmail.com": "include:_spf.google.com",
    "smtp-relay.gmail.com": "include:_spf.google.com",
}
RSA_ENCRYPTION_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1


@dataclass(frozen=True)
class DnsRecord:
    """One record to publish: owner name, type, value, and why it is there."""

    name: str
    type: str
    value: str
    why: str

    def zone_line(self) -> str:
        """The record as a zone-file line (TXT values quoted, split in 255-byte strings)."""
        value = self.value
        if self.type == "TXT":
            chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
            value = " ".join(f'"{chunk}"' for chunk in chunks)
        return f"{self.name}.\t3600\tIN\t{self.type}\t{value}"


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


def _der(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes([tag, length]) + body
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # a leading 0 keeps it positive
    return _der(0x02, body)


def dkim_public_key(settings: Settings) -> str:
    """The base64 SubjectPublicKeyInfo of DKIM_PRIVATE_KEY's RSA key, as `p=` wants it."""
    from dkim.crypto import UnparsableKeyError, parse_pem_private_key

    try:
        key = parse_pem_private_key(settings.dkim_key_bytes())
    except (UnparsableKeyError, ValueError, KeyError) as exc:
        raise ConfigError(
            "DKIM_PRIVATE_KEY: cannot read an RSA private key from it "
            f"({type(exc).__name__}); for an Ed25519 key publish its public half yourself"
        ) from None
    rsa_public = _der(0x30, _der_integer(key["modulus"]) + _der_integer(key["publicExponent"]))
    algorithm = _der(0x30, _der(0x06, RSA_ENCRYPTION_OID) + _der(0x05, b""))
    spki = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa_public))
    return base64.b64encode(spki).decode("ascii")


def spf_mechanism(smtp_host: str) -> tuple[str, str]:
    """The SPF mechanism that authorises the relay, and a note when it is a guess."""
    host = smtp_host.strip().lower().rstrip(".")
    if host in KNOWN_RELAY_SPF:
        return KNOWN_RELAY_SPF[host], ""
    if host in ("", "localhost", "127.0.0.1", "::1"):
        return "mx", (
            "SMTP_HOST is this machine: 'mx' assumes it sends from the domain's mail server; "
            "put the relay's own SPF include here if a provider sends for you"
        )
    return f"a:{host}", (
        f"{host} is not a relay whose SPF include is known: 'a:{host}' authorises that host's "
        "address; if your provider documents an include: (most do), use it instead"
    )


def dns_records(settings: Settings) -> tuple[list[DnsRecord], list[str]]:
    """The records the settings call for, and notes on what could not be worked out."""
    from_domain = _domain_of(settings.require_sender())
    records: list[DnsRecord] = []
    notes: list[str] = []
    mechanism, note = spf_mechanism(settings.smtp_host)
    if note:
        notes.append(note)
    envelope_domain = _domain_of(settings.bounce_address) if settings.bounce_address else ""
    spf_domains = [from_domain]
    if envelope_domain not in ("", from_domain):
        spf_domains.append(envelope_domain)
    for domain in spf_domains:
        records.append(
            DnsRecord(
                domain,
                "TXT",
                f"v=spf1 {mechanism} ~all",
                "SPF: which servers may send with this domain in the envelope sender "
                "(a domain has one SPF record: merge with an existing one)",
            )
        )
    if settings.dkim_enabled:
        domain = settings.dkim_domain.lower()
        records.append(
            DnsRecord(
                f"{settings.dkim_selector}._domainkey.{domain}",
                "TXT",
                f"v=DKIM1; k=rsa; p={dkim_public_key(settings)}",
                "DKIM: the public key receivers check the signature with",
            )
        )
        if domain != from_domain and not from_domain.endswith("." + domain):
            notes.append(
                f"DKIM_DOMAIN={domain} does not align with the From domain {from_domain}: "
                "DMARC passes on DKIM only when they share the organisational domain"
            )
    else:
        notes.append(
            "DKIM is off (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY): without it DMARC rests "
            "on SPF alone, which forwarding breaks; make a key with "
            "`openssl genrsa -out dkim.pem 2048` and set the three settings"
        )
    records.append(
        DnsRecord(
            f"_dmarc.{from_domain}",
            "TXT",
            f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{from_domain}; adkim=r; aspf=r",
            "DMARC: start with p=none and read the reports; after a few clean weeks raise it "
            "to p=quarantine",
        )
    )
    if envelope_domain:
        notes.append(
            f"Bounces come back to {settings.bounce_address.replace('@', '+TOKEN@')}: "
            f"{envelope_domain} needs an MX record for the mailbox BOUNCE_IMAP_HOST reads, and "
            "the mailbox must accept plus-addressing"
        )
    base_host = urlsplit(settings.base_url).hostname or ""
    if base_host:
        notes.append(
            f"{base_host} (NEWSLETTER_BASE_URL) needs an A/AAAA record for the server that runs "
            "`newsletter serve` behind nginx"
        )
    return records, notes


def format_dns_records(settings: Settings) -> str:
    """The records as zone-file lines, each with its reason, then the notes."""
    records, notes = dns_records(settings)
    lines = [f"; DNS records for {_domain_of(settings.from_address)} (newsletter config --dns)"]
    for record in records:
        lines += ["", f"; {record.why}", record.zone_line()]
    if notes:
        lines.append("")
        lines += [f"; Note: {note}" for note in notes]
    return "\n".join(lines)
