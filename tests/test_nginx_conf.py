"""docs/nginx.conf, the reverse proxy the README recommends, run for real in front of
`newsletter serve`: it parses, redirects to HTTPS, proxies, caps bodies and keeps the tokens
of personal links out of its access log (Debian package nginx; .ci/run installs it)."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.fixtures_web import PROJECT_ROOT, free_port, stop_process
from tests.test_serve_limits import start

CONF = PROJECT_ROOT / "docs" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.slow


def local_copy(folder, cert, key, http_port, https_port, app_port):
    """docs/nginx.conf with loopback ports, a test certificate and logs in `folder`."""
    text = CONF.read_text(encoding="utf-8")
    swaps = [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/letsencrypt/live/news.example.se/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/news.example.se/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{folder}/"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
    ]
    for old, new in swaps:
        assert old in text, old  # the shipped file still has what the README describes
        text = text.replace(old, new)
    text = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", text)  # no IPv6 in every sandbox
    (folder / "site.conf").write_text(text, encoding="utf-8")
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    main = f"""
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/site.conf;
}}
"""
    (folder / "nginx.conf").write_text(main, encoding="utf-8")
    return folder / "nginx.conf"


def request(url, data=None):
    context = ssl._create_unverified_context()  # noqa: S323 - our own self-signed test certificate
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_shipped_nginx_conf_runs_in_front_of_serve(tmp_path, certificate):
    if not os.path.exists(NGINX):
        pytest.fail("nginx not found; .ci/run installs it (apt-get install nginx)")
    cert, key = certificate
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    main = local_copy(tmp_path, cert, key, http_port, https_port, app_port)
    checked = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)],
                             capture_output=True, text=True, timeout=30)  # fmt: skip
    assert checked.returncode == 0, checked.stderr

    app = start([sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--port", str(app_port),
                 "--trusted-proxy", "127.0.0.1"], tmp_path, app_port)  # fmt: skip
    proxy = subprocess.Popen(
        [NGINX, "-c", str(main), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):  # at most ~10 s for nginx to listen
            try:
                status, _headers, body = request(f"https://127.0.0.1:{https_port}/")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError(f"nginx did not answer: {(tmp_path / 'error.log').read_text()}")
        assert status == 200 and b"<html" in body

        status, headers, _ = request(f"http://127.0.0.1:{http_port}/archive/")
        assert status == 301
        assert headers["Location"] == "https://127.0.0.1/archive/"

        status, _, _ = request(f"https://127.0.0.1:{https_port}/subscribe", data=b"x" * 100_000)
        assert status == 413  # client_max_body_size, before the app sees it

        before = (tmp_path / "newsletter.access.log").read_text(encoding="utf-8")
        request(f"https://127.0.0.1:{https_port}/unsubscribe/secret-token-in-the-path")
        time.sleep(0.2)
        logged = (tmp_path / "newsletter.access.log").read_text(encoding="utf-8")
        assert "secret-token-in-the-path" not in logged and "GET / " in before
    finally:
        stop_process(proxy)
        stop_process(app)
