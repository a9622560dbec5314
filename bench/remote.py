"""Prints how long a 100,000-row `subscribers import` takes through the server's API (the
laptop's CLI uploading to `newsletter serve` on 127.0.0.1) against the same import run
locally, as medians of interleaved runs and their ratio.

Target (issue 19): the import through the server within 2x the local import's time. Each run
is the real CLI in a fresh process into a fresh database (for the server: a fresh `serve`
process, started before the clock starts), so both do the same work.

    python bench/remote.py                 # 100,000 rows, 3 rounds
    python bench/remote.py --rows 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, str(ROOT / "cli.py")]
SECRET = "bench-secret-key-0123456789"  # noqa: S105 - a throwaway key for a temp database
SETTING_NAMES = ("NEWSLETTER_", "SMTP_", "SEND_", "DKIM_", "BOUNCE_")


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_NAMES)}
    env.update(NEWSLETTER_SECRET_KEY=SECRET, PYTHONPATH=str(ROOT), **values)
    return env


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["E-post", "Namn", "Språk", "consent_date"])
        for i in range(rows):
            writer.writerow([f"person{i}@example{i % 300}.se", f"Person Nummer {i}",
                             ("sv", "da", "en")[i % 3], "2025-03-31"])  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds one CLI command takes; a failure stops the bench with its output."""
    started = time.perf_counter()
    done = subprocess.run(CLI + args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def local_import(work: Path, data: Path) -> float:
    folder = Path(tempfile.mkdtemp(prefix="local-", dir=work))
    (folder / ".env").write_text("", encoding="utf-8")
    return run(["subscribers", "import", str(data)], folder, clean_env())


def remote_import(work: Path, data: Path) -> float:
    """A fresh server site and `serve` (untimed), then the laptop's import (timed)."""
    site = Path(tempfile.mkdtemp(prefix="server-", dir=work))
    (site / ".env").write_text("", encoding="utf-8")
    port = free_port()
    env = clean_env(NEWSLETTER_BASE_URL=f"http://127.0.0.1:{port}")
    made = subprocess.run([*CLI, "tokens", "create", "bench"], cwd=site, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    server = subprocess.Popen([*CLI, "serve", "--port", str(port)], cwd=site, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(300):  # at most ~30 s to listen
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        laptop = Path(tempfile.mkdtemp(prefix="laptop-", dir=work))
        (laptop / ".env").write_text("", encoding="utf-8")
        laptop_env = clean_env(NEWSLETTER_SERVER=f"http://127.0.0.1:{port}",
                               NEWSLETTER_API_TOKEN=made.stdout.strip())  # fmt: skip
        seconds = run(["subscribers", "import", str(data)], laptop, laptop_env)
        assert not (laptop / "subscribers.db").exists()
        return seconds
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        work = Path(tmp)
        data = work / f"members-{options.rows}.csv"
        write_file(data, options.rows)
        size_mb = data.stat().st_size / 1e6
        local, remote = [], []
        for number in range(1, options.rounds + 1):  # interleaved: load hits both alike
            first, second = (
                (local_import, remote_import) if number % 2 else (remote_import, local_import)
            )
            times = {first: first(work, data), second: second(work, data)}
            local.append(times[local_import])
            remote.append(times[remote_import])
            print(f"round {number}/{options.rounds}: local {local[-1]:.2f} s, "
                  f"through the server {remote[-1]:.2f} s", file=sys.stderr)  # fmt: skip
    ratio = statistics.median(remote) / statistics.median(local)
    print(f"rows: {options.rows:,} ({size_mb:.1f} MB CSV), rounds: {options.rounds}")
    print(f"local import (CLI, median):              {statistics.median(local):.2f} s")
    print(f"import through the server (CLI, median): {statistics.median(remote):.2f} s")
    print(f"ratio server/local: {ratio:.2f}x (target: within 2x) -> "
          f"{'OK' if ratio <= 2 else 'OVER TARGET'}")  # fmt: skip


if __name__ == "__main__":
    main()
