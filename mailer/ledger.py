"""The send ledger: one row per issue and recipient, the record that makes every send resumable."""

from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsletter-ledger")
