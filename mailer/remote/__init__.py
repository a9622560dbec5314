"""Remote: one list, two machines. On the server: API tokens and the audit log of changes made
through them; on the laptop: the HTTP client of the server's JSON API (docs/api.md).

The list commands' two implementations (local library, HTTP client) live here too.

May import: compose, delivery, audience, store, config, errors, locale. Never web or check.
"""
