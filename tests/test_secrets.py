"""No secret printed (issue 15): a real CLI run that fails with a secret configured, and every
byte it left behind is searched: stdout, stderr, the run logs ($KK_DATA_DIR/logs/*.log),
alerts.jsonl, the Dagster instance (its SQLite event and run storage) and everything else
under the data dir. One test per secret: the alert webhook's URL (KK_ALERT_WEBHOOK_URL) and a
proxy's user:password (HTTP_PROXY / HTTPS_PROXY, also in the base64 form of its header).

The in-process checks of the alert code are in tests/test_operations.py (alerts.jsonl, the
log record, stdout/stderr of `publish`); a base URL with credentials in tests/test_bad_input.py.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT
from pipelines.sources.kolada.client import KoladaClient, KoladaUnavailable

WEBHOOK_TOKEN = "hook-t0ken-9f8e7d"
PROXY_USER, PROXY_PASSWORD = "kkuser", "pr0xy-pa55-4c3b"
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
             "all_proxy", "no_proxy")


def cli(data: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in PROXY_ENV}
    base.update(KK_DATA_DIR=str(data), DAGSTER_HOME=str(data / "dagster"),
                PYTHONPATH=str(REPO_ROOT), KK_SOURCE="live", **env)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *argv], env=base, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def leaks(secrets: list[str], proc: subprocess.CompletedProcess[str], data: Path) -> list[str]:
    """Where any of `secrets` appears: the output streams and every file under `data`."""
    found = [f"{name}: {s!r}" for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr))
             for s in secrets if s in text]
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found += [f"{path}: {s!r}" for s in secrets if s.encode() in content]
    return found


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that refuses every request (403), noting whether credentials came."""

    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Proxy-Authorization", ""))
        body = b"Access denied by policy"
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # SCB's data queries

    def do_CONNECT(self) -> None:  # https through the proxy: credentials refused
        self.seen.append(self.headers.get("Proxy-Authorization", ""))
        self.send_response(407)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("P", (_Proxy,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield (f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{server.server_address[1]}", seen)
    server.shutdown()
    server.server_close()


def proxy_secrets() -> list[str]:
    basic = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    return [PROXY_PASSWORD, basic]


@pytest.fixture(scope="module")
def failed_refresh(tmp_path_factory: pytest.TempPathFactory, proxy: tuple[str, list[str]]
                   ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One `refresh` with both secrets configured, failing through the proxy (HTTP 403), so
    its alert goes to the webhook, which is unreachable: both failure paths in one run."""
    url, _ = proxy
    data = tmp_path_factory.mktemp("secrets") / "data"
    failed = cli(data, ["refresh"], HTTP_PROXY=url, HTTPS_PROXY=url,
                 KOLADA_BASE_URL="http://kolada.test/v3", SCB_BASE_URL="http://scb.test/api/v2",
                 KK_ALERT_WEBHOOK_URL=f"http://127.0.0.1:1/hooks/{WEBHOOK_TOKEN}")
    assert failed.returncode == 1, failed.stderr[-2000:]
    return failed, data


def test_the_webhook_url_never_appears_in_output_logs_or_the_instance(
        failed_refresh: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    failed, data = failed_refresh
    # the alert was sent (and failed): the path whose error text would carry the URL
    assert '"delivered": "webhook' in (data / "alerts.jsonl").read_text()
    assert list((data / "logs").glob("*.log"))  # the run log exists and is searched
    assert leaks([WEBHOOK_TOKEN], failed, data) == []


def test_proxy_credentials_never_appear_in_output_logs_or_the_instance(
        failed_refresh: tuple[subprocess.CompletedProcess[str], Path],
        proxy: tuple[str, list[str]]) -> None:
    failed, data = failed_refresh
    _, seen = proxy
    assert "HTTP 403" in failed.stdout + failed.stderr  # the proxy's refusal is reported
    assert seen and all(h.startswith("Basic ") for h in seen)  # the credentials were in use
    assert leaks(proxy_secrets(), failed, data) == []


def test_proxy_credentials_are_not_in_the_error_of_a_refused_tunnel(
        proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = proxy
    seen.clear()
    for key in PROXY_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", url)
    said: list[str] = []
    with (KoladaClient("https://kolada.test/v3", max_attempts=2, backoff_base=0.01,
                       progress=said.append) as client,
          pytest.raises(KoladaUnavailable) as refused):
        client.get_page("https://kolada.test/v3/kpi")
    text = "\n".join([str(refused.value), repr(refused.value), *said])
    assert "407" in text and len(seen) == 2  # tried through the proxy, retried once
    assert [s for s in proxy_secrets() if s in text] == []
