"""Security headers on every response: a strict CSP, no framing, no referrer, no sniffing.

Pages carry tokens in their URLs, so no referrer leaves them and nothing is cached. A view
that needs a looser policy (an issue's web version has inline styles; the editor's preview
frames the email) sets its own `Content-Security-Policy` header, which is then kept.
"""

from __future__ import annotations

from flask import Flask, Response, request

# Public pages: our own stylesheet and images, no script at all, forms only to ourselves.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# An issue's web version: its inline <style> and style attributes, our images, no script.
ISSUE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
# Served files (images): nothing inside them may run.
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"

COMMON_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def with_csp(response: Response, policy: str) -> Response:
    """Give one response its own Content-Security-Policy (kept by `add_headers`)."""
    response.headers["Content-Security-Policy"] = policy
    return response


def add_headers(response: Response) -> Response:
    """Fill in the headers every response gets, without overriding what a view chose."""
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    if "X-Frame-Options" in response.headers and "frame-ancestors 'self'" in response.headers.get(
        "Content-Security-Policy", ""
    ):
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
