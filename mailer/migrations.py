"""Schema migrations: subscribers, lists, subscriptions, consent log, tokens, suppressions."""

from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsletter-subscribers")
