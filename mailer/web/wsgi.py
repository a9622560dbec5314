"""The WSGI entry point for running behind a proxy: `gunicorn mailer.web.wsgi:app`.

Settings come from the environment and `.env` in the working folder, as for the CLI.
"""

from __future__ import annotations

from . import create_app, database

app = create_app()
database.migrate(app)
app.extensions["outbox"].start()  # service mail waiting from an earlier run goes out now
