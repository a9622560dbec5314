"""What the laptop and the server agree on: the API version and where the API lives.

Bump `API_VERSION` when a request or an answer changes shape; a client speaks to a server of
the same version only (`GET /api/version` says which), so a mismatch is one clear error
instead of a half-understood answer.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

API_VERSION = 1
API_PREFIX = f"/api/v{API_VERSION}"
VERSION_PATH = "/api/version"


def tool_version() -> str:
    """The installed newsletter's version (`0+unknown` when run from an uninstalled checkout)."""
    try:
        return version("newsletter")
    except PackageNotFoundError:
        return "0+unknown"
