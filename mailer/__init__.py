"""newsletter: compose, preview and mail newsletters, and keep the subscriber list lawful."""

from .config import Settings, load_settings
from .errors import MailerError

__all__ = ["MailerError", "Settings", "load_settings"]
