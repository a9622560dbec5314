"""Running the app with waitress: `newsletter serve` (public) and `newsletter preview` (editor)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError

PREVIEW_HOST = "127.0.0.1"


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    newsletters_dir: Path | None = None,
    trusted_proxy: str | None = None,
    announce=print,
) -> None:
    """Serve the public pages until interrupted (put a TLS proxy such as nginx in front).

    Behind a proxy every request comes from the proxy's address, which would put everyone
    under one rate limit; `trusted_proxy` makes waitress take the client address from the
    X-Forwarded-For header that proxy (and only that one) sends.
    """
    import waitress

    from . import create_app, database

    app = create_app(settings, newsletters_dir=newsletters_dir)
    outbox = app.extensions["outbox"]
    database.migrate(app)  # the outbox reads its table before the first request
    outbox.start()  # service mail left waiting by an earlier run goes out now
    announce(f"Serving {settings.base_url} on http://{host}:{port} (Ctrl+C to stop)")
    try:
        _run(waitress, app, host, port, threads, trusted_proxy)
    finally:
        outbox.stop()


def serve_preview(settings: Settings, issue_dir: Path, *, port: int = 8001, announce=print) -> None:
    """Serve the live preview of `issue_dir` on 127.0.0.1 only, built with local links."""
    import waitress

    from . import create_app

    local = dataclasses.replace(settings, base_url=f"http://{PREVIEW_HOST}:{port}")
    app = create_app(
        local, newsletters_dir=Path(issue_dir).resolve().parent, preview_issue=Path(issue_dir)
    )
    announce(
        f"Preview of {Path(issue_dir).name}: http://{PREVIEW_HOST}:{port}/preview/ (Ctrl+C to stop)"
    )
    _run(waitress, app, PREVIEW_HOST, port, 4)


def _run(waitress, app, host: str, port: int, threads: int, trusted_proxy=None) -> None:
    proxy = {}
    if trusted_proxy:
        proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for"}}
    try:
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="newsletter",
            clear_untrusted_proxy_headers=True,
            **proxy,
        )
    except OSError as exc:
        raise ConfigError(f"{host}:{port}: cannot listen ({exc.strerror or exc})") from None
