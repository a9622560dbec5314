"""Settings: read once from defaults, `.env`, the environment and CLI options into one object.

Nothing is silent: each setting remembers where it came from (`Settings.sources`, shown by
`newsletter config`), and relative paths are resolved against the project root, found like
git finds its repository (`find_project_root`), so a command run from a subfolder uses the
project's `.env` and database.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from .errors import ConfigError

SMTP_SECURITY_MODES = ("starttls", "ssl", "none")
SECRET_FIELDS = ("secret_key", "smtp_password", "dkim_private_key")
ENV_FILE_NAME = ".env"
# The default subscriber list of `subscribers add/import` and of `newsletter new`.
DEFAULT_LIST = "nyhetsbrev"
# Stands in while NEWSLETTER_FROM is unset (builds and previews work); sending refuses it.
PLACEHOLDER_FROM = "Newsletter <newsletter@example.org>"

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
    "SEND_CONNECTIONS": "send_connections",
    "DKIM_DOMAIN": "dkim_domain",
    "DKIM_SELECTOR": "dkim_selector",
    "DKIM_PRIVATE_KEY": "dkim_private_key",
}


def _is_project_root(folder: Path) -> bool:
    if (folder / "newsletters").is_dir() or (folder / ENV_FILE_NAME).is_file():
        return True
    # newsletters/newsletter.yml is the issues' shared header, not a project marker
    return (folder / "newsletter.yml").is_file() and folder.name != "newsletters"


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
    send_connections: int = 1
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_private_key: str = dataclasses.field(default="", repr=False)  # PEM text or a file path
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
    if settings.send_rate < 0 or settings.send_rate_per_hour < 0 or settings.send_connections < 1:
        raise ConfigError("SEND_RATE and SEND_RATE_PER_HOUR must be >= 0, SEND_CONNECTIONS >= 1")
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
    root = find_project_root() if project_root is None else Path(project_root).resolve()
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
        if field_name not in fields or field_name in ("project_root", "env_file", "sources"):
            raise ConfigError(f"unknown setting {field_name!r}")
        if value is not None:
            values[field_name] = _convert(fields[field_name], field_name, value)
            sources[field_name] = "option"
    settings = Settings(**values, project_root=root, env_file=used_file, sources=sources)
    _validate(settings)
    return settings


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, source) for every setting, secrets masked: `newsletter config`."""
    rows = []
    for env_name, field_name in ENV_NAMES.items():
        value = getattr(settings, field_name)
        if field_name in SECRET_FIELDS:
            shown = f"******** ({len(str(value))} characters)" if value else "(not set)"
        elif field_name == "from_address" and settings.sender_missing:
            shown = f"{value} (placeholder: sending refuses it)"
        else:
            shown = str(value) if value != "" else "(not set)"
        rows.append((env_name, shown, settings.sources.get(field_name, "default")))
    return rows
