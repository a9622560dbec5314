"""Store: the SQLite file every process shares: opening it with the right pragmas, applying
each wing's migrations (named in `db.SCHEMA_MODULES`), and the IMMEDIATE transaction helper.

May import: errors. Never a wing: wings declare their tables, the store only runs them.
"""
