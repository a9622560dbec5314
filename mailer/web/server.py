"""Running the app with waitress: `newsletter serve` (public) and `newsletter preview` (editor).

Limits that hold on a public address (`LIMITS`): waitress's default of 100 connections let
about 100 slow clients (a few bytes every few seconds) shut everyone else out. Slow clients
cost a socket, not a thread, so the connection limit is raised to what the process may open;
a request must arrive whole within `REQUEST_DEADLINE` seconds however it trickles, idle
keep-alive connections close after `channel_timeout`, and bodies are capped. nginx in front
(docs/nginx.conf) adds rate limits and its own timeouts.
"""

from __future__ import annotations

import dataclasses
import resource
import time
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError

PREVIEW_HOST = "127.0.0.1"


REQUEST_DEADLINE = 20.0  # seconds from a request's first byte to its last
LIMITS = {
    "channel_timeout": 30,  # idle keep-alive connections (waitress: 120)
    "cleanup_interval": 5,
    "max_request_header_size": 32 * 1024,  # waitress: 256 KB
    # waitress: 1 GB. The pages' forms stop at 64 KB (MAX_CONTENT_LENGTH); only a request with
    # an API token may send more (web.api.API_MAX_BODY: imports, issue bundles)
    "max_request_body_size": 64 * 1024 * 1024,
    "asyncore_use_poll": True,  # select() stops at 1024 sockets
    "backlog": 1024,
}


def connection_limit() -> int:
    """As many connections as the process may open sockets for, at most 1000 (waitress: 100)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(100, min(1000, soft - 64))


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    newsletters_dir: Path | None = None,
    trusted_proxy: str | None = None,
    announce=print,
    request_deadline: float = REQUEST_DEADLINE,
) -> None:
    """Serve the public pages until interrupted (put a TLS proxy such as nginx in front).

    Behind a proxy every request comes from the proxy's address, which would put everyone
    under one rate limit; `trusted_proxy` makes waitress take the client address from the
    X-Forwarded-For header that proxy (and only that one) sends.
    """
    from . import create_app, database
    from .retention import RetentionThread

    app = create_app(settings, newsletters_dir=newsletters_dir)
    server = _listen(app, host, port, threads, trusted_proxy, request_deadline)
    outbox = app.extensions["outbox"]
    database.migrate(app)  # the outbox reads its table before the first request
    outbox.start()  # service mail left waiting by an earlier run goes out now
    retention = RetentionThread(settings).start()  # NEWSLETTER_LEDGER_RETENTION_DAYS
    sender = app.extensions["sender"]
    sender.start()  # a send queued through the API before a restart goes on now
    announce(f"Serving {settings.base_url} on http://{host}:{port} (Ctrl+C to stop)")
    if settings.sender_missing:
        announce(
            "NEWSLETTER_FROM is not set: sign-ups wait unconfirmed (no mail goes out from the "
            "placeholder address) until it is set in .env and serve is restarted"
        )
    try:
        _run(server)
    finally:
        sender.stop()
        outbox.stop()
        retention.stop()


def serve_preview(settings: Settings, issue_dir: Path, *, port: int = 8001, announce=print) -> None:
    """Serve the live preview of `issue_dir` on 127.0.0.1 only, built with local links."""
    from . import create_app

    local = dataclasses.replace(settings, base_url=f"http://{PREVIEW_HOST}:{port}")
    app = create_app(
        local, newsletters_dir=Path(issue_dir).resolve().parent, preview_issue=Path(issue_dir)
    )
    server = _listen(app, PREVIEW_HOST, port, 8)
    announce(
        f"Preview of {Path(issue_dir).name}: http://{PREVIEW_HOST}:{port}/preview/ (Ctrl+C to stop)"
    )
    _run(server)


def _deadline_channel(base, deadline: float):
    """waitress's channel, closing a connection whose request has not arrived whole within
    `deadline` seconds of its first byte (activity alone keeps a trickle alive forever)."""

    class DeadlineChannel(base):
        request_started: float | None = None

        def received(self, data):
            if data and self.request is None:
                self.request_started = time.monotonic()
            result = super().received(data)
            if self.request is None:
                self.request_started = None
            return result

        def readable(self):
            started = self.request_started
            if started is not None and time.monotonic() - started > deadline:
                self.will_close = True  # the loop closes it when it asks writable()
                self.request_started = None
            return super().readable()

    return DeadlineChannel


def _listen(app, host, port, threads, trusted_proxy=None, deadline=REQUEST_DEADLINE):
    """Bind and configure the server; a port in use is a ConfigError before anything is said."""
    from waitress.channel import HTTPChannel
    from waitress.server import BaseWSGIServer, create_server

    proxy = {}
    if trusted_proxy:
        proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for"}}
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="newsletter",
            clear_untrusted_proxy_headers=True,
            connection_limit=connection_limit(),
            **LIMITS,
            **proxy,
        )
    except OSError as exc:
        raise ConfigError(f"{host}:{port}: cannot listen ({exc.strerror or exc})") from None
    channel = _deadline_channel(HTTPChannel, deadline)
    for dispatcher in [server, *getattr(server, "map", {}).values()]:
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = channel
    return server


def _run(server) -> None:
    try:
        server.run()
    finally:
        server.close()
