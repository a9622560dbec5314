"""The server's list, driven over its JSON API: the same methods and answers as `LocalList`.

Addresses travel in JSON bodies (POST), never in URLs, so no proxy's access log holds them.
Files travel as streamed request bodies: an import file as it is, bounce files packed in one
tar; reports come back as JSON and are turned into the same objects a local run makes.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ..audience.import_reader import rejected_path
from ..audience.import_report import ImportReport
from ..audience.lists import ListSettings
from ..config import Settings
from ..delivery.bounces.run import BounceSummary
from .client import ApiClient
from .wire import bounce_summary_from_json, decode_bytes, import_report_from_json, list_from_json


class CountingReader:
    """A file read for upload that reports the lines it has passed to `progress`; its `len`
    lets the upload carry a Content-Length (no chunked body for a proxy to refuse)."""

    def __init__(self, handle, progress: Callable[[int], object] | None) -> None:
        self.handle = handle
        self.progress = progress
        self.len = os.fstat(handle.fileno()).st_size

    def tell(self) -> int:
        return self.handle.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        if chunk and self.progress:
            self.progress(chunk.count(b"\n"))
        return chunk

    def __iter__(self):
        while chunk := self.read(64 * 1024):
            yield chunk


class RemoteList:
    """The list of NEWSLETTER_SERVER, reached with NEWSLETTER_API_TOKEN."""

    where = "remote"

    def __init__(self, settings: Settings, client: ApiClient | None = None) -> None:
        self.settings = settings
        self.client = client or ApiClient.from_settings(settings)

    def add(self, email, *, name="", list_name, language="sv", source=None) -> str:
        body = {
            "email": email,
            "name": name,
            "list": list_name,
            "language": language,
            "source": source,
        }
        return self.client.call("POST", "/subscribers/add", json=body)["message"]

    def import_file(
        self,
        path: Path,
        *,
        list_name,
        source=None,
        dry_run=False,
        skip_invalid=False,
        progress=None,
    ) -> ImportReport:
        from ..errors import SubscriberError

        path = Path(path)
        if not path.is_file():
            raise SubscriberError(f"{path}: no such file")
        params = {"name": path.name, "list": list_name, "dry_run": int(dry_run)}
        params |= {"skip_invalid": int(skip_invalid)}
        if source is not None:
            params["source"] = source
        with path.open("rb") as handle:
            answer = self.client.upload(
                "/subscribers/import", CountingReader(handle, progress), params=params
            )
        rejected = decode_bytes(answer.get("rejected"))
        rejected_file = None
        if rejected is not None:
            rejected_file = rejected_path(path)
            partial = rejected_file.with_name(rejected_file.name + ".partial")
            partial.write_bytes(rejected)  # as the server wrote it: the file's own encoding
            partial.replace(rejected_file)
        return import_report_from_json(answer["report"], path, rejected_file)

    def subscriptions(self, list_name=None, status=None) -> Iterable[dict]:
        params = {k: v for k, v in (("list", list_name), ("status", status)) if v}
        return self.client.call("GET", "/subscribers", params=params)["rows"]

    def set_fields(self, email, assignments: list[str]) -> dict[str, str]:
        body = {"email": email, "assignments": list(assignments)}
        return self.client.call("POST", "/subscribers/fields", json=body)["fields"]

    def show(self, email) -> dict:
        return self.client.call("POST", "/subscribers/show", json={"email": email})["document"]

    def export(self, out: TextIO, fmt: str = "csv") -> int:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")()
        headers = self.client.download(
            "/subscribers/export",
            params={"format": fmt},
            write=lambda chunk: out.write(decoder.decode(chunk)),
        )
        out.write(decoder.decode(b"", final=True))
        return int(headers.get("X-Newsletter-Count", "0"))

    def unsubscribe(self, email, list_name=None) -> list[str]:
        body = {"email": email, "list": list_name}
        return self.client.call("POST", "/subscribers/unsubscribe", json=body)["changed"]

    def reactivate(self, email, list_name=None) -> list[str]:
        body = {"email": email, "list": list_name}
        return self.client.call("POST", "/subscribers/reactivate", json=body)["changed"]

    def erase(self, email, *, channel: str = "cli") -> None:
        self.client.call("POST", "/subscribers/erase", json={"email": email})

    def purge(self, older_than=None) -> dict[str, int]:
        body = {"older_than": older_than}
        return self.client.call("POST", "/subscribers/purge", json=body)["counts"]

    def lists(self) -> list[ListSettings]:
        return [list_from_json(item) for item in self.client.call("GET", "/lists")["lists"]]

    def configure_list(self, name, *, title=None, public=None, welcome=None) -> ListSettings:
        body = {"title": title, "public": public, "welcome": welcome}
        return list_from_json(self.client.call("POST", f"/lists/{name}", json=body)["list"])

    def stats(self) -> dict:
        return self.client.call("GET", "/stats")

    def bounces_import(self, files, *, dry_run=False, progress=None) -> BounceSummary:
        """Pack the files (and Maildir folders) into one tar, upload it, get the summary."""
        from ..delivery.bounces.sources import count_files

        paths = [Path(p) for p in files]
        total = count_files(paths)  # checks every path here, before anything is sent
        manifest = {str(number): str(path) for number, path in enumerate(paths)}
        with tempfile.TemporaryFile() as packed:
            with tarfile.open(fileobj=packed, mode="w") as tar:
                data = json.dumps(manifest).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                for number, path in enumerate(paths):
                    tar.add(path, arcname=f"{number}/{path.name}")
            packed.seek(0)
            answer = self.client.upload(
                "/bounces/import",
                packed,
                params={"dry_run": int(dry_run)},
                content_type="application/x-tar",
            )
        if progress is not None:
            with progress(total) as bar:
                bar.update(total)
        return bounce_summary_from_json(answer["summary"])

    def bounces_fetch(self, *, dry_run=False, progress=None) -> BounceSummary:
        answer = self.client.call("POST", "/bounces/fetch", json={"dry_run": dry_run})
        return bounce_summary_from_json(answer["summary"])

    def gdpr_record(self, newsletters_dir: Path) -> str:
        return self.client.call("GET", "/gdpr/record")["markdown"]

    def audit(self, *, token_name=None, last=None) -> list[dict]:
        params = {k: v for k, v in (("token", token_name), ("last", last)) if v}
        return self.client.call("GET", "/audit", params=params)["entries"]
