"""newsletter: compose, preview and mail newsletters, and keep the subscriber list lawful.

The library has four wings and two users of them (docs/architecture.md draws the arrows):

    compose/   issue folder -> build/ (email.html, email.txt, web.html)
    audience/  people, lists, consent, opt-in, import, tokens, erasure
    delivery/  send runs: ledger, engine, SMTP, messages, DKIM, pacing
    store/     the SQLite file, migrations, transactions
    check/     the quality gate (reads a build, makes a sample message)
    web/       the Flask app: public pages, archive, the editor's preview
    locale/    one catalogue per language for every string a person reads

Imports run one way: cli -> web, check -> compose, delivery -> audience -> store; config.py,
errors.py and locale/ may be used by all.
"""

from .config import Settings, load_settings
from .errors import MailerError

__all__ = ["MailerError", "Settings", "load_settings"]
