"""Processes that run beside the platform's runs: the UI, and CLI commands started mid-build.

`UiWatch` starts the Dagster webserver on the data dir's instance (as `make dev` does, without
the daemon, whose landing sensor would start runs of its own in the middle of the tests) and
watches it from a thread: whether it answers, which TCP addresses its processes listen on,
and whether any of them ever holds the warehouse open (DuckDB allows one writer; a reader in
another process would make the next dbt build fail to lock the file).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from pipelines.settings import REPO_ROOT
from tests.net_helpers import listening_addresses, open_files, process_tree

WAREHOUSE = "warehouse.duckdb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UiWatch:
    def __init__(self, data: Path, *, every: float = 0.5) -> None:
        self.data = data
        self.url = f"http://127.0.0.1:{free_port()}"
        self.every = every
        self.answers: list[float] = []  # wall-clock times of good answers to /server_info
        self.failures: list[str] = []  # failed polls after the UI had answered once
        self.warehouse_open: set[str] = set()
        self.addresses: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._log = open(data.parent / "ui.log", "w", encoding="utf-8")  # noqa: SIM115
        webserver = Path(sys.executable).with_name("dagster-webserver")
        port = self.url.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [str(webserver), "-h", "127.0.0.1", "-p", port, "-w", "workspace.yaml"],
            cwd=REPO_ROOT, env={**os.environ, "KK_DATA_DIR": str(data),
                                "DAGSTER_HOME": str(data / "dagster")},
            start_new_session=True, stdout=self._log, stderr=subprocess.STDOUT)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            pids = process_tree(self.proc.pid)
            self.warehouse_open |= {f for f in open_files(pids) if WAREHOUSE in f}
            self.addresses |= listening_addresses(pids)
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=10) as resp:
                    if resp.status == 200:
                        self.answers.append(time.time())
            except OSError as exc:
                if self.answers:
                    self.failures.append(f"{time.strftime('%H:%M:%S')} {exc}")
            self._stop.wait(self.every)

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not self.answers:
            assert self.proc.poll() is None, (self.data.parent / "ui.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the UI never answered"
            time.sleep(0.2)

    def graphql(self, query: str) -> dict:
        request = urllib.request.Request(f"{self.url}/graphql", data=json.dumps(
            {"query": query}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._log.close()


def cli_process(data: Path, *argv: str) -> subprocess.Popen[str]:
    """`kommunkvalitet ARGV` on `data` in the background, output captured."""
    env = {**os.environ, "KK_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster"),
           "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", *argv], env=env,
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for_dbt(data: Path, known: set[Path], proc: subprocess.Popen[str],
                 timeout: float = 600) -> None:
    """Until a new dbt log appears (dbt has started, the run holds the warehouse)."""
    logs = data / "logs" / "dbt"
    deadline = time.monotonic() + timeout
    while not set(logs.glob("*.log")) - known:
        assert proc.poll() is None, f"ended before dbt started: {proc.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, "dbt never started"
        time.sleep(0.2)


def finish(proc: subprocess.Popen[str], timeout: float = 900) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err
