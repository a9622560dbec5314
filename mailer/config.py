"""Settings: read once from defaults, `.env`, the environment and CLI options into one object.

Nothing is silent: each setting remembers where it came from (`Settings.sources`, shown by
`newsletter config`), and relative paths are resolved against the project root, found like
git finds its repository (`find_project_root`), so a command run from a subfolder uses the
project's `.env` and database.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from .errors import ConfigError

SMTP_SECURITY_MODES = ("starttls", "ssl", "none")
ENV_FILE_NAME = ".env"
# The default subscriber list of `subscribers add/import` and of `newsletter new`.
DEFAULT_LIST = "nyhetsbrev"
# Stands in while NEWSLETTER_FROM is unset (builds and previews work); sending refuses it.
PLACEHOLDER_FROM = "Newsletter <newsletter@example.org>"
IMAP_SECURITY_MODES = ("ssl", "starttls", "none")
DEFAULT_SOFT_LIMIT = "3/30/3"  # 3 soft bounces in 30 days, or soft bounces on 3 issues in a row

# Files the tool ships: their place inside the installed package -> their place in a checkout.
# setup.py copies each checkout path into the package when it builds a wheel or sdist.
BUNDLED = {
    "templates": "templates",
    "data/caniemail": "data/caniemail",
    "data/env.example": ".env.example",
}

# environment variable -> (field name, converter)
ENV_NAMES: dict[str, str] = {
    "NEWSLETTER_DB": "db_path",
    "NEWSLETTER_BASE_URL": "base_url",
    "NEWSLETTER_FROM": "from_address",
    "NEWSLETTER_REPLY_TO": "reply_to",
    "NEWSLETTER_SECRET_KEY": "secret_key",
    "NEWSLETTER_UNSUBSCRIBE_MAILTO": "unsubscribe_mailto",
    "NEWSLETTER_PENDING_RETENTION_DAYS": "pending_retention_days",
    "NEWSLETTER_CONFIRM_TTL_HOURS": "confirm_ttl_hours",
    "SMTP_HOST": "smtp_host",
    "SMTP_PORT": "smtp_port",
    "SMTP_USERNAME": "smtp_username",
    "SMTP_PASSWORD": "smtp_password",
    "SMTP_SECURITY": "smtp_security",
    "SMTP_TIMEOUT": "smtp_timeout",
    "SEND_RATE": "send_rate",
    "SEND_RATE_PER_HOUR": "send_rate_per_hour",
    "SEND_RATE_PER_DAY": "send_rate_per_day",
    "SEND_CONNECTIONS": "send_connections",
    "DKIM_DOMAIN": "dkim_domain",
    "DKIM_SELECTOR": "dkim_selector",
    "DKIM_PRIVATE_KEY": "dkim_private_key",
    "NEWSLETTER_SEND_LOCK_STALE_SECONDS": "send_lock_stale_seconds",
    "NEWSLETTER_BOUNCE_ADDRESS": "bounce_address",
    "BOUNCE_IMAP_HOST": "bounce_imap_host",
    "BOUNCE_IMAP_PORT": "bounce_imap_port",
    "BOUNCE_IMAP_USERNAME": "bounce_imap_username",
    "BOUNCE_IMAP_PASSWORD": "bounce_imap_password",
    "BOUNCE_IMAP_FOLDER": "bounce_imap_folder",
    "BOUNCE_IMAP_SECURITY": "bounce_imap_security",
    "BOUNCE_SOFT_LIMIT": "bounce_soft_limit",
    "NEWSLETTER_SERVER": "server_url",
    "NEWSLETTER_API_TOKEN": "api_token",
}


def _is_project_root(folder: Path) -> bool:
    if (folder / "newsletters").is_dir() or (folder / ENV_FILE_NAME).is_file():
        return True
    # newsletters/newsletter.yml is the issues' shared header, not a project marker
    return (folder / "newsletter.yml").is_file() and folder.name != "newsletters"


def is_site_folder(folder: str | os.PathLike) -> bool:
    """True when `folder` is a site (project) folder: it holds newsletters/, .env or
    newsletter.yml (`newsletter init` makes one)."""
    return _is_project_root(Path(folder))


def find_project_root(start: str | os.PathLike | None = None) -> Path:
    """The project folder: the nearest of `start` (default: the current directory) and its
    parents that holds `newsletters/`, `.env` or `newsletter.yml`; `start` itself if none does.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_project_root(folder):
            return folder
    return here


@dataclass(frozen=True)
class Settings:
    """Every setting the tool knows; build it with `load_settings`, pass it down as an argument.

    `project_root` is the folder relative paths are resolved against (see `find_project_root`);
    `sources` maps a field name to where its value came from: default, .env, environment or
    option; `env_file` is the settings file that was read, or None.
    """

    db_path: Path = Path("subscribers.db")
    base_url: str = "http://127.0.0.1:8000"
    from_address: str = PLACEHOLDER_FROM
    reply_to: str = ""
    secret_key: str = dataclasses.field(default="", repr=False)
    unsubscribe_mailto: str = ""
    pending_retention_days: int = 14
    confirm_ttl_hours: int = 48
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = dataclasses.field(default="", repr=False)
    smtp_security: str = "starttls"
    smtp_timeout: float = 30.0
    send_rate: float = 0.0  # messages per second; 0 means no limit
    send_rate_per_hour: int = 0  # 0 means no limit
    send_rate_per_day: int = 0  # rolling 24 hours; 0 means no limit
    send_connections: int = 1
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_private_key: str = dataclasses.field(default="", repr=False)  # PEM text or a file path
    # a send lock of another host with no heartbeat for this long is taken over (tests shorten
    # it; a lock of a live process on this host is never taken over)
    send_lock_stale_seconds: float = 900.0
    bounce_address: str = ""  # envelope sender base: bounces+TOKEN@domain per message (VERP)
    bounce_imap_host: str = ""
    bounce_imap_port: int = 993
    bounce_imap_username: str = ""
    bounce_imap_password: str = dataclasses.field(default="", repr=False)
    bounce_imap_folder: str = "INBOX"
    bounce_imap_security: str = "ssl"
    bounce_soft_limit: str = DEFAULT_SOFT_LIMIT  # COUNT/DAYS/ISSUES
    # the server that keeps the list (the laptop drives it; see docs/api.md), and its token
    server_url: str = ""
    api_token: str = dataclasses.field(default="", repr=False)
    project_root: Path = dataclasses.field(default_factory=Path.cwd, compare=False)
    env_file: Path | None = dataclasses.field(default=None, compare=False)
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def sender_missing(self) -> bool:
        """True while NEWSLETTER_FROM is the placeholder: nobody can answer that address."""
        return parseaddr(self.from_address)[1] == parseaddr(PLACEHOLDER_FROM)[1]

    def require_sender(self) -> str:
        """The From address, or a clear error for a real send while it is the placeholder."""
        if self.sender_missing:
            raise ConfigError(
                "NEWSLETTER_FROM is not set: set it in .env to the address people see and can "
                "answer, e.g. 'Region Örebro län <nyhetsbrev@example.se>'"
            )
        return self.from_address

    @property
    def sender_domain(self) -> str:
        """The domain of the From address, used for Message-IDs."""
        return parseaddr(self.from_address)[1].rpartition("@")[2].lower()

    @property
    def dkim_enabled(self) -> bool:
        return bool(self.dkim_domain and self.dkim_selector and self.dkim_private_key)

    @property
    def soft_limit(self) -> tuple[int, int, int]:
        """BOUNCE_SOFT_LIMIT as (soft bounces, within days, issues in a row)."""
        return parse_soft_limit(self.bounce_soft_limit)

    def require_secret_key(self) -> str:
        """The secret key, or a clear error for commands that cannot work without one."""
        if len(self.secret_key) < 16:
            raise ConfigError(
                "NEWSLETTER_SECRET_KEY is missing or shorter than 16 characters; set it in .env "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self.secret_key

    def dkim_key_bytes(self) -> bytes:
        """The DKIM private key as PEM bytes, read from the file when the setting is a path."""
        value = self.dkim_private_key.strip()
        if value.startswith("-----BEGIN"):
            return value.encode()
        try:  # a pasted key without its header is "File name too long", which would echo it
            return Path(value).read_bytes()
        except OSError:
            raise ConfigError(  # the value is not repeated: it may be a mangled key
                "DKIM_PRIVATE_KEY is neither a PEM key (-----BEGIN ...) nor the path of a "
                "readable file; give the key file's path or the whole PEM text"
            ) from None


def parse_soft_limit(value: str) -> tuple[int, int, int]:
    """`COUNT/DAYS/ISSUES` (e.g. 3/30/3: three soft bounces within 30 days, or soft bounces on
    three issues in a row, end a subscription); `COUNT/DAYS` alone takes ISSUES = COUNT."""
    parts = [p.strip() for p in str(value).split("/")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 2:
        numbers.append(numbers[0])
    if len(numbers) != 3 or min(numbers) < 1:
        raise ConfigError(
            f"BOUNCE_SOFT_LIMIT={value!r}: give COUNT/DAYS/ISSUES with whole numbers >= 1, "
            f"e.g. {DEFAULT_SOFT_LIMIT} (3 soft bounces within 30 days, or on 3 issues in a row)"
        )
    return numbers[0], numbers[1], numbers[2]


def _validate_bounces(settings: Settings) -> None:
    parse_soft_limit(settings.bounce_soft_limit)
    if settings.bounce_imap_security not in IMAP_SECURITY_MODES:
        raise ConfigError(
            f"BOUNCE_IMAP_SECURITY={settings.bounce_imap_security!r}: use one of "
            f"{', '.join(IMAP_SECURITY_MODES)}"
        )
    if not 0 < settings.bounce_imap_port < 65536:
        raise ConfigError(f"BOUNCE_IMAP_PORT={settings.bounce_imap_port} is not a port number")
    for name, value in (
        ("NEWSLETTER_BOUNCE_ADDRESS", settings.bounce_address),
        ("BOUNCE_IMAP_HOST", settings.bounce_imap_host),
        ("BOUNCE_IMAP_USERNAME", settings.bounce_imap_username),
        ("BOUNCE_IMAP_FOLDER", settings.bounce_imap_folder),
    ):
        if any(ch in value for ch in "\r\n\x00"):
            raise ConfigError(f"{name} must not contain line breaks")
    address = settings.bounce_address
    if address:
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or any(c in address for c in ' <>"(),;:'):
            raise ConfigError(
                f"NEWSLETTER_BOUNCE_ADDRESS={address!r}: give a bare address such as "
                "bounces@example.se (no name, no angle brackets)"
            )
        if "+" in local:
            raise ConfigError(
                f"NEWSLETTER_BOUNCE_ADDRESS={address!r}: leave out the '+'; each message gets "
                "its own bounces+TOKEN@ address from it"
            )


LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: the only hosts plain http:// may reach."""
    import ipaddress

    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _validate_server(settings: Settings) -> None:
    """NEWSLETTER_SERVER: an https:// address, or http:// only to this machine (the token
    would cross the network in clear text otherwise)."""
    value = settings.server_url
    if not value:
        return
    url = urlsplit(value)
    try:
        url.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        url = urlsplit("")
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        raise ConfigError(
            f"NEWSLETTER_SERVER={value!r}: give the server's address such as "
            "https://news.example.org"
        )
    if url.scheme == "http" and not is_loopback_host(url.hostname):
        raise ConfigError(
            f"NEWSLETTER_SERVER={value!r}: plain http:// would send the API token in clear "
            f"text; use https://{url.netloc}{url.path} (http:// is only for 127.0.0.1/localhost)"
        )
    if any(ch in settings.api_token for ch in "\r\n\x00 "):
        raise ConfigError("NEWSLETTER_API_TOKEN must not contain spaces or line breaks")


def _convert(field: dataclasses.Field, name: str, raw: object) -> object:
    kind = field.type
    if isinstance(raw, Path) and kind in ("str", str):
        return str(raw)  # e.g. a key file path given to a text setting
    if not isinstance(raw, str):
        return raw
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("Path", Path):
            return Path(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind}") from None
    return raw


def _validate(settings: Settings) -> None:
    if settings.smtp_security not in SMTP_SECURITY_MODES:
        raise ConfigError(
            f"SMTP_SECURITY={settings.smtp_security!r}: use one of {', '.join(SMTP_SECURITY_MODES)}"
        )
    if not 0 < settings.smtp_port < 65536:
        raise ConfigError(f"SMTP_PORT={settings.smtp_port} is not a port number")
    url = urlsplit(settings.base_url)
    if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
        raise ConfigError(
            f"NEWSLETTER_BASE_URL={settings.base_url!r}: give an absolute http(s) address "
            "such as https://news.example.org"
        )
    addr = parseaddr(settings.from_address)[1]
    if "@" not in addr:
        raise ConfigError(
            f"NEWSLETTER_FROM={settings.from_address!r}: give an address such as "
            "'Region Örebro län <nyhetsbrev@example.se>'"
        )
    for name, value in (
        ("NEWSLETTER_FROM", settings.from_address),
        ("NEWSLETTER_REPLY_TO", settings.reply_to),
    ):
        if any(ch in value for ch in "\r\n"):
            raise ConfigError(f"{name} must not contain line breaks")
    if settings.smtp_timeout <= 0:
        raise ConfigError(f"SMTP_TIMEOUT={settings.smtp_timeout:g}: give a number of seconds > 0")
    if (
        min(settings.send_rate, settings.send_rate_per_hour, settings.send_rate_per_day) < 0
        or settings.send_connections < 1
    ):
        raise ConfigError(
            "SEND_RATE, SEND_RATE_PER_HOUR and SEND_RATE_PER_DAY must be >= 0, "
            "SEND_CONNECTIONS >= 1"
        )
    if settings.send_lock_stale_seconds <= 0:
        raise ConfigError("NEWSLETTER_SEND_LOCK_STALE_SECONDS must be > 0")
    if settings.pending_retention_days < 1 or settings.confirm_ttl_hours < 1:
        raise ConfigError(
            "NEWSLETTER_PENDING_RETENTION_DAYS and NEWSLETTER_CONFIRM_TTL_HOURS must be positive"
        )


def load_settings(
    overrides: Mapping[str, object] | None = None,
    *,
    env_file: str | os.PathLike | None = ".env",
    environ: Mapping[str, str] | None = None,
    project_root: str | os.PathLike | None = None,
    require_env_file: bool = False,
) -> Settings:
    """Layer defaults < `.env` < environment < `overrides` (CLI options, by field name).

    `.env` is read without touching `os.environ`, so tests and the web app see exactly what
    they were given. Empty override values (None) are ignored so unset CLI options fall through.
    A relative `env_file` and relative paths from defaults, `.env` and the environment are
    resolved against `project_root` (default: found from the current directory); paths given
    as options are the caller's to resolve. `require_env_file` makes a missing file an error
    (the user named it); otherwise a missing `.env` is simply not read.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    for derived in ("env_file", "sources"):  # a copy of another Settings' fields may carry them
        overrides.pop(derived, None)
    given_root = overrides.pop("project_root", None) if project_root is None else project_root
    root = find_project_root() if given_root is None else Path(given_root).resolve()
    layered: dict[str, object] = {}
    origin: dict[str, str] = {}
    used_file: Path | None = None
    if env_file is not None:
        path = Path(env_file)
        path = path if path.is_absolute() else root / path
        named = require_env_file and path.exists() and not path.is_dir()  # /dev/null too
        if path.is_file() or named:
            used_file = path
            for key, value in dotenv_values(path).items():
                if value is not None:
                    layered[key] = value
                    origin[key] = path.name
        elif require_env_file:
            raise ConfigError(f"--env-file {env_file}: no such file ({path})")
    for key, value in environ.items():
        if key in ENV_NAMES:
            layered[key] = value
            origin[key] = "environment"
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, object] = {}
    sources = {name: "default" for name in ENV_NAMES.values()}
    for env_name, field_name in ENV_NAMES.items():
        if env_name in layered and layered[env_name] != "":
            values[field_name] = _convert(fields[field_name], env_name, layered[env_name])
            sources[field_name] = origin[env_name]
    db_path = Path(values.get("db_path", Settings.db_path))
    values["db_path"] = db_path if db_path.is_absolute() else root / db_path
    for field_name, value in (overrides or {}).items():
        if field_name not in fields:
            raise ConfigError(f"unknown setting {field_name!r}")
        if value is not None:
            values[field_name] = _convert(fields[field_name], field_name, value)
            sources[field_name] = "option"
    settings = Settings(**values, project_root=root, env_file=used_file, sources=sources)
    _validate(settings)
    _validate_bounces(settings)
    _validate_server(settings)
    return settings


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, source) for every setting, secrets masked: `newsletter config`."""
    secret = {f.name for f in dataclasses.fields(Settings) if not f.repr}  # passwords, keys
    rows = []
    for env_name, field_name in ENV_NAMES.items():
        value = getattr(settings, field_name)
        if field_name in secret:
            shown = f"******** ({len(str(value))} characters)" if value else "(not set)"
        elif field_name == "from_address" and settings.sender_missing:
            shown = f"{value} (placeholder: sending refuses it)"
        else:
            shown = str(value) if value != "" else "(not set)"
        rows.append((env_name, shown, settings.sources.get(field_name, "default")))
    return rows


def bundled_path(name: str) -> Path:
    """A folder or file the tool ships (a key of `BUNDLED`), found through importlib.resources.

    Installed from a wheel it lies inside the package; in a checkout (editable install, or
    PYTHONPATH pointing at it) the package has no copy and the checkout's top level is used.
    """
    packaged = importlib.resources.files("mailer").joinpath(name)
    if packaged.is_dir() or packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / BUNDLED[name]


def user_data_dir(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> Path:
    """The person's own data folder for the tool (refreshed caniemail data), never the package.

    Linux and BSD: $XDG_DATA_HOME/newsletter (default ~/.local/share/newsletter); macOS:
    ~/Library/Application Support/newsletter; Windows: %LOCALAPPDATA%\\newsletter.
    """
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME") or Path.home())
    if platform.startswith("win"):
        base = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / "newsletter"
