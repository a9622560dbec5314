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


class SubscriberError(MailerError):
    """A subscriber operation was refused (invalid address, suppressed, unknown list...)."""


class SendError(MailerError):
    """Sending cannot start or had to stop (SMTP refused, login failed, paused)."""


class BounceError(MailerError):
    """Bounce reports cannot be read (IMAP server refused, a file is missing or unreadable)."""


class RemoteError(MailerError):
    """The server (NEWSLETTER_SERVER) cannot be reached, refused the token or failed."""
