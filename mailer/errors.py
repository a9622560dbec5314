"""The one exception family of the library; the CLI turns these into messages and exit codes."""


class MailerError(Exception):
    """Something the user can fix; the message says where (file and line, CSV row, host:port)."""

    exit_code = 1


class ConfigError(MailerError):
    """A setting is missing or invalid."""


class IssueError(MailerError):
    """An issue folder cannot be read or built."""


class DatabaseError(MailerError):
    """The subscriber database cannot be opened or is from a newer version."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot take a write now (locked beyond the limit, disk full): nothing was
    written, and the same action later will work. The web app answers 503 with Retry-After."""


class SubscriberError(MailerError):
    """A subscriber operation was refused (invalid address, suppressed, unknown list...)."""


class SendError(MailerError):
    """Sending cannot start or had to stop (SMTP refused, login failed, paused)."""


class BounceError(MailerError):
    """Bounce reports cannot be read (IMAP server refused, a file is missing or unreadable)."""


class RemoteError(MailerError):
    """The server (NEWSLETTER_SERVER) cannot be reached, refused the token or failed."""


class SignInError(MailerError):
    """An OAuth 2.0 access token could not be had (identity provider refused, token command
    failed); the message names the provider's error code and the setting to fix."""
