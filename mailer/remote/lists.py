"""The subscriber list behind the commands: here (`LocalList`) or on a server (`RemoteList`),
chosen once from the settings by `open_list`.

Both answer the same methods with the same objects, so a command prints the same whether
the list is in this folder or on the server; the server's API handlers call `LocalList` too,
so each operation is written once. Which commands may create a database is decided here
(`open_local_db`): only a first write in a site folder (add, import, creating a list, making
a token) or a database named on purpose (--db, NEWSLETTER_DB); a read, or any command outside
a site folder, never leaves an empty database behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import sqlite_utils

from ..audience.import_report import ImportReport
from ..audience.lists import ListSettings
from ..config import Settings, is_site_folder
from ..delivery.bounces.run import BounceSummary
from ..errors import DatabaseError
from ..store.db import open_db


class NoListHere(DatabaseError):
    """A command needs the list, and this folder has neither a database nor a server."""


def no_list_message(settings: Settings) -> str:
    """One line naming both setups: a list here, or the server's."""
    server = "or use a server's list: set NEWSLETTER_SERVER and NEWSLETTER_API_TOKEN in .env"
    if not is_site_folder(settings.project_root) and settings.sources.get("db_path") in (
        None,
        "default",
    ):
        return (
            f"no site folder here ({settings.project_root} and the folders above hold no .env, "
            f"newsletters/ or newsletter.yml): make one with `newsletter init DIR`, {server}"
        )
    return (
        f"no subscriber list here ({settings.db_path} does not exist): start one with "
        f"`newsletter subscribers add` or `newsletter subscribers import`, {server}"
    )


def open_local_db(settings: Settings, *, create: bool = False) -> sqlite_utils.Database:
    """This folder's database; a missing one is made only by a write (`create`) in a site
    folder or at a path given on purpose, otherwise `NoListHere`."""
    path = Path(settings.db_path)
    if not path.exists():
        named = settings.sources.get("db_path") not in (None, "default")
        if not (create and (named or is_site_folder(settings.project_root))):
            raise NoListHere(no_list_message(settings))
    return open_db(path)


def open_list(settings: Settings, *, create: bool = False):
    """The list the commands act on: the server's when NEWSLETTER_SERVER is set, else this
    folder's (`create`: this command may make the database, see `open_local_db`)."""
    if settings.server_url:
        from .remote_list import RemoteList

        return RemoteList(settings)
    return LocalList(settings, create=create)


class LocalList:
    """The list in this folder's database, through the library's own functions."""

    where = "local"

    def __init__(
        self, settings: Settings, db: sqlite_utils.Database | None = None, *, create=False
    ):
        self.settings = settings
        self._db = db
        self._create = create

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = open_local_db(self.settings, create=self._create)
        return self._db

    def add(self, email, *, name="", list_name, language="sv", source=None) -> str:
        from ..audience.roster import add_subscriber

        return add_subscriber(
            self.db,
            self.settings,
            email,
            name=name,
            list_name=list_name,
            language=language,
            source=source,
        )

    def import_file(
        self,
        path: Path,
        *,
        list_name,
        source=None,
        dry_run=False,
        skip_invalid=False,
        progress: Callable[[int], object] | None = None,
    ) -> ImportReport:
        from ..audience.importer import import_csv

        if dry_run and not Path(self.settings.db_path).exists():
            self._create = False  # a dry run never makes the database
        return import_csv(
            self.db,
            self.settings,
            path,
            list_name=list_name,
            source=source,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            progress=progress,
        )

    def subscriptions(self, list_name=None, status=None) -> Iterable[dict]:
        from ..audience.roster import list_subscribers

        return list_subscribers(self.db, list_name, status)

    def set_fields(self, email, assignments: list[str]) -> dict[str, str]:
        from ..audience.roster import set_subscriber_fields

        return set_subscriber_fields(self.db, email, list(assignments))

    def show(self, email) -> dict:
        from ..audience.consent import export_subject
        from ..audience.subscribers import require_subscriber

        return export_subject(self.db, require_subscriber(self.db, email)["id"])

    def export(self, out: TextIO, fmt: str = "csv") -> int:
        from ..audience.roster import write_export

        return write_export(self.db, out, fmt)

    def unsubscribe(self, email, list_name=None) -> list[str]:
        from ..audience.roster import unsubscribe_address

        return unsubscribe_address(self.db, email, list_name)

    def reactivate(self, email, list_name=None) -> list[str]:
        from ..audience.roster import reactivate_address

        return reactivate_address(self.db, email, list_name)

    def erase(self, email, *, channel: str = "cli") -> None:
        from ..audience.consent import erase_subscriber

        erase_subscriber(self.db, self.settings, email, channel=channel)

    def purge(self, older_than=None) -> dict[str, int]:
        from ..audience.consent import purge_pending

        return purge_pending(self.db, self.settings, older_than)

    def lists(self) -> list[ListSettings]:
        from ..audience.lists import list_settings

        return list_settings(self.db)

    def configure_list(self, name, *, title=None, public=None, welcome=None) -> ListSettings:
        from ..delivery.welcome import configure_list

        return configure_list(self.db, name, title=title, public=public, welcome=welcome)

    def stats(self) -> dict:
        from ..audience.roster import stats

        return stats(self.db, self.settings)

    def bounces_import(self, files, *, dry_run=False, progress=None) -> BounceSummary:
        from ..delivery.bounces.run import import_bounces

        self.db  # noqa: B018 - refuses before reading when there is no list here
        return import_bounces(self.settings, files, dry_run=dry_run, progress=progress)

    def bounces_fetch(self, *, dry_run=False, progress=None) -> BounceSummary:
        from ..delivery.bounces.run import fetch_bounces

        self.db  # noqa: B018 - refuses before reading when there is no list here
        return fetch_bounces(self.settings, dry_run=dry_run, progress=progress)

    def gdpr_record(self, newsletters_dir: Path) -> str:
        from ..audience.processing_record import render_record
        from ..compose.site import load_site

        return render_record(self.db, self.settings, load_site(newsletters_dir))

    def audit(self, *, token_name=None, last=None) -> list[dict]:
        from .audit import list_audit

        return list_audit(self.db, token_name=token_name, limit=last)
