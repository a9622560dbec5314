"""The laptop's HTTP client of the server's JSON API (docs/api.md), built from Settings.

Every failure becomes one `RemoteError` line that says what happened and what to do: the
server unreachable (naming host:port), the token refused, too many failures, the server
failing, the connection cut, another API version. The token travels only in the
`Authorization` header, over https:// (http:// only to this machine, see config), with
certificate checks on (a private CA is trusted through REQUESTS_CA_BUNDLE or SSL_CERT_FILE),
and redirects are not followed, so it never reaches another address.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import requests

from ..config import Settings
from ..errors import ConfigError, RemoteError
from .protocol import API_PREFIX, API_VERSION, VERSION_PATH, tool_version

CONNECT_TIMEOUT = 10.0  # seconds to open the connection
READ_TIMEOUT = 300.0  # seconds the server may think (an import of 100,000 rows)
TOKEN_REFUSED = (
    "token refused: wrong or revoked, make a new one with `newsletter tokens create NAME` "  # noqa: S105
    "on the server and put it in NEWSLETTER_API_TOKEN"
)


class ApiClient:
    """One server, one token. `call` and friends return the decoded JSON answer."""

    def __init__(
        self,
        server_url: str,
        token: str,
        *,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = server_url.rstrip("/")
        url = urlsplit(self.base_url)
        self.where = f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"
        self._token = token
        self.timeout = timeout
        self.session = session or requests.Session()
        self._version_checked = False

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs) -> ApiClient:
        """The client for NEWSLETTER_SERVER with NEWSLETTER_API_TOKEN (both must be set)."""
        if not settings.server_url:
            raise ConfigError("NEWSLETTER_SERVER is not set: this folder keeps its own list")
        if not settings.api_token:
            raise ConfigError(
                f"NEWSLETTER_SERVER is {settings.server_url} but NEWSLETTER_API_TOKEN is not set: "
                "run `newsletter tokens create NAME` on the server and put the token it prints "
                "in this folder's .env"
            )
        return cls(settings.server_url, settings.api_token, **kwargs)

    def __repr__(self) -> str:  # never the token
        return f"ApiClient({self.base_url!r})"

    # --- what commands use ---------------------------------------------------------------

    def version(self) -> dict:
        """The server's answer to GET /api/version: {"api": N, "newsletter": "x.y.z"}."""
        return self._json(self._send("GET", VERSION_PATH, auth=False))

    def check_version(self) -> None:
        """Once per client: refuse a server that speaks another API version, naming both."""
        if self._version_checked:
            return
        answer = self.version()
        theirs, their_tool = answer.get("api"), answer.get("newsletter", "?")
        if theirs != API_VERSION:
            older = "server" if isinstance(theirs, int) and theirs < API_VERSION else "laptop"
            raise RemoteError(
                f"the server {self.where} speaks API version {theirs} (newsletter {their_tool}), "
                f"this computer version {API_VERSION} (newsletter {tool_version()}): upgrade "
                f"newsletter on the {older} (pipx upgrade newsletter) so both agree"
            )
        self._version_checked = True

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
    ) -> Any:
        """A JSON request to `API_PREFIX + path`; the decoded JSON answer."""
        self.check_version()
        return self._json(self._send(method, API_PREFIX + path, json=json, params=params))

    def upload(
        self,
        path: str,
        body: IO[bytes] | Path,
        *,
        params: dict | None = None,
        content_type: str = "application/octet-stream",
    ) -> Any:
        """POST a file as the request body, streamed (never read whole into memory)."""
        self.check_version()
        headers = {"Content-Type": content_type}
        if isinstance(body, Path):
            with body.open("rb") as stream:
                return self._json(
                    self._send(
                        "POST", API_PREFIX + path, data=stream, params=params, headers=headers
                    )
                )
        return self._json(
            self._send("POST", API_PREFIX + path, data=body, params=params, headers=headers)
        )

    def download(
        self,
        path: str,
        *,
        params: dict | None = None,
        write: Callable[[bytes], object],
        chunk_size: int = 64 * 1024,
    ) -> Mapping[str, str]:
        """GET a streamed answer (an export), handing each chunk to `write`; returns the
        answer's headers. A connection cut midway is an error, never a silently short file."""
        self.check_version()
        response = self._send("GET", API_PREFIX + path, params=params, stream=True)
        with response:
            try:
                for chunk in response.iter_content(chunk_size):
                    write(chunk)
            except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError):
                raise RemoteError(self._cut()) from None
            return response.headers  # case-insensitive: a proxy may change the case

    # --- the one place requests are made and failures are named ---------------------------

    def _send(self, method, path, *, auth=True, stream=False, headers=None, **kwargs):
        headers = {"Accept": "application/json", **(headers or {})}
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=stream,
                **kwargs,
            )
        except requests.exceptions.SSLError as exc:
            raise RemoteError(
                f"{self.where}: the server's TLS certificate is not trusted ({_reason(exc)}); "
                "for a private CA set REQUESTS_CA_BUNDLE to its certificate file"
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise RemoteError(
                f"cannot reach the server at {self.where}: no answer within "
                f"{self.timeout[0]:g} s; check NEWSLETTER_SERVER and that `newsletter serve` runs"
            ) from None
        except requests.exceptions.ReadTimeout:
            raise RemoteError(
                f"the server at {self.where} did not answer within {self.timeout[1]:g} s; "
                "the request may still complete there: check before running it again"
            ) from None
        except requests.exceptions.ChunkedEncodingError:
            raise RemoteError(self._cut()) from None
        except requests.ConnectionError as exc:
            if _was_connected(exc):
                raise RemoteError(self._cut()) from None
            raise RemoteError(
                f"cannot reach the server at {self.where} ({_reason(exc)}); check "
                "NEWSLETTER_SERVER and that `newsletter serve` runs there"
            ) from None
        if response.status_code >= 300:
            with response:
                self._refuse(response)
        return response

    def _refuse(self, response: requests.Response):
        status = response.status_code
        if status == 401:
            raise RemoteError(TOKEN_REFUSED)
        if status == 429:
            wait = response.headers.get("Retry-After", "a while")
            raise RemoteError(
                f"the server at {self.where} refuses requests from this address for {wait} s "
                "after too many failed attempts; wait, then check NEWSLETTER_API_TOKEN"
            )
        if 300 <= status < 400:
            raise RemoteError(
                f"the server at {self.where} redirects to {response.headers.get('Location')}; "
                "set NEWSLETTER_SERVER to that address (the token is not sent on)"
            )
        message = _error_message(response)
        if status >= 500:
            raise RemoteError(
                f"the server at {self.where} failed (HTTP {status}"
                + (f": {message}" if message else "")
                + "); nothing is known to have changed. Its log says why"
            )
        if message is None:
            raise RemoteError(
                f"{self.where} answered HTTP {status} without the newsletter API; is "
                "NEWSLETTER_SERVER the address of `newsletter serve`?"
            )
        raise RemoteError(message)  # the library's own message, as it reads locally

    def _json(self, response: requests.Response) -> Any:
        try:
            with response:
                return response.json()
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError):
            raise RemoteError(self._cut()) from None
        except ValueError:
            raise RemoteError(
                f"{self.where} answered without the newsletter API (not JSON); is "
                "NEWSLETTER_SERVER the address of `newsletter serve`?"
            ) from None

    def _cut(self) -> str:
        return (
            f"the connection to {self.where} was cut before the answer was complete; run the "
            "same command again (a change is applied at most once)"
        )


def _error_message(response: requests.Response) -> str | None:
    """The server's `{"error": "..."}` text, or None when the answer is not the API's."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        body = jsonlib.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else None


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without the URL and its noise."""
    text = str(exc)
    for marker in ("Errno", "CERTIFICATE_VERIFY_FAILED", "Connection refused"):
        if marker in text:
            start = text.find("[" + marker) if "[" + marker in text else text.find(marker)
            return text[start:].split("'))")[0].split('")')[0].rstrip(")")
    return type(exc).__name__


def _was_connected(exc: requests.ConnectionError) -> bool:
    """True when the connection was made and then dropped (reset, closed mid-answer)."""
    text = str(exc)
    return any(
        sign in text for sign in ("RemoteDisconnected", "Connection aborted", "reset by peer")
    )


def describe_server(settings: Settings) -> str:
    """`newsletter config`'s line about the server: its address and the token's name as the
    server knows it (never the token), or why it could not be asked."""
    if not settings.server_url:
        return "Server:         (none: the list is in this folder's NEWSLETTER_DB)"
    try:
        answer = ApiClient.from_settings(settings).call("GET", "/whoami")
    except (RemoteError, ConfigError) as exc:
        return f"Server:         {settings.server_url} (not asked: {exc})"
    return (
        f"Server:         {settings.server_url} (token {answer['token']!r}, newsletter "
        f"{answer['newsletter']}, API {answer['api']})"
    )
