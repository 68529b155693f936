"""Nobody let in: every server the platform starts listens on 127.0.0.1 only (issue 15).

The sample Kolada and SCB servers (in-process, and as the commands the README gives), and
their refusal of a non-loopback host. The UI (`make dev`'s command line) is checked here for
its host flag and started for real in tests/test_platform_sample.py, open during a refresh.
The report has no server: it is static files (and `--pdf` runs Chromium without a port);
a scan of the code keeps it that way.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.sample.scb_server import SampleScbServer
from pipelines.sample.server import SampleKoladaServer
from pipelines.settings import REPO_ROOT
from tests.net_helpers import is_loopback, listening_addresses

SERVER_MODULE = "pipelines/sample/server.py"  # LocalServer: the one place that binds


def test_the_sample_servers_listen_on_loopback_only() -> None:
    with SampleKoladaServer(day=1) as kolada, SampleScbServer() as scb:
        mine = listening_addresses({os.getpid()})
        assert ("127.0.0.1", kolada.port) in mine and ("127.0.0.1", scb.port) in mine
        assert all(is_loopback(address) for address, _ in mine)


@pytest.mark.parametrize("module", ["pipelines.sample.server", "pipelines.sample.scb_server"])
def test_the_sample_server_commands_listen_on_loopback_only(module: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", module, "--port", "0"], cwd=REPO_ROOT,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = next(line for line in proc.stdout if line.startswith("http"))
        port = int(re.match(r"http://127\.0\.0\.1:(\d+)/", url).group(1))
        addresses = listening_addresses({proc.pid})
        assert ("127.0.0.1", port) in addresses
        assert all(is_loopback(address) for address, _ in addresses)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_a_sample_server_refuses_a_non_loopback_host(host: str) -> None:
    server = SampleScbServer(host=host)
    with pytest.raises(ValueError, match="not a loopback address; the local servers bind to "
                                         "127.0.0.1 only"):
        server.start()
    assert server._httpd is None


def test_another_loopback_address_is_allowed() -> None:
    # the HTTP fault tests use 127.0.0.2 as "another host" (tests/test_http_faults.py)
    with SampleScbServer(host="127.0.0.2") as server:
        assert ("127.0.0.2", server.port) in listening_addresses({os.getpid()})


def test_make_dev_binds_the_ui_to_127_0_0_1_with_no_way_to_widen_it() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    [ui] = [line for line in recipe.splitlines() if "dg dev" in line]
    assert "--host 127.0.0.1" in ui and "$(" not in ui.split("dg dev", 1)[1]
    # the systemd unit runs `make dev` (docs/operations.md), the alerts link to 127.0.0.1
    operations = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "ExecStart=/usr/bin/make dev" in operations
    assert "127.0.0.1 only" in operations


_SERVERS = {"HTTPServer", "ThreadingHTTPServer", "TCPServer", "ThreadingTCPServer"}
_BINDS = {"bind", "listen", "create_server", "start_server", "serve"}


def _binding_calls(path: Path) -> list[str]:
    """Calls that open a listening socket: a socketserver class (or a subclass defined in the
    same file) constructed, or bind/listen/create_server/serve called."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    servers = set(_SERVERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
                getattr(b, "id", getattr(b, "attr", "")) in _SERVERS for b in node.bases):
            servers.add(node.name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in servers | _BINDS:
                found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {name}")
    return found


def test_only_the_local_server_class_binds_a_socket() -> None:
    calls = [c for folder in ("pipelines", "assets", "bench")
             for path in sorted((REPO_ROOT / folder).rglob("*.py")) for c in _binding_calls(path)]
    assert calls and all(c.startswith(SERVER_MODULE) for c in calls), calls
