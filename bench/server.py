"""Serves a rendered bench cache (pages.py) on 127.0.0.1: Kolada-v3 answers from files.

Why its own handler rather than a mode of pipelines/sample/server.py: the sample server
renders every answer from arrays in Python; here an answer is one file read, so the server's
cost stays out of what the bench measures. It reuses the sample servers' socket plumbing
(keep-alive, quiet, the request log) and has no throttle at all.

`state` picks which from_date answers are served (a state's delta, or empty pages); full
answers are always the base state, which is what every no-change step compares against.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.pages import FROM_DATE, ORIGIN, data_path, page_key
from pipelines.sample.server import JsonHandler, LocalServer, RequestLog

_DATA_RE = re.compile(r"^/v3/data/kpi/(?P<kpi>[^/]+)/municipality/(?P<municipality>[^/]+)"
                      r"/year/(?P<year>[^/]+)/?$")
_META_RE = re.compile(r"^/v3/(?P<name>kpi|kpi_groups|municipality|municipality_groups|ou)/?$")


class BenchKoladaServer(LocalServer):
    name = "bench-kolada"

    def __init__(self, cache: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cache = Path(cache)
        self.host = host
        self.port = port
        self.state = "base"
        self.request_log = RequestLog()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v3"

    def handler(self) -> type[JsonHandler]:
        return _Handler

    def answer(self, target: str) -> tuple[int, bytes]:
        """(status, body) for a GET of `target` (path + query); no sockets, for tests too."""
        split = urlsplit(target)
        query = parse_qs(split.query)
        page = query.get("page", ["1"])[0]
        from_date = query.get("from_date", [None])[0]
        if m := _META_RE.match(split.path):
            file = self.cache / "meta" / f"{m['name']}-{page}.json"
        elif m := _DATA_RE.match(split.path):
            key = page_key(m["kpi"], m["municipality"], m["year"])
            if from_date is None:
                file = self.cache / "full" / f"{key}-{page}.json"
            else:
                file = self.cache / "delta" / self.state / f"{key}-{page}.json"
                if not file.exists() and page == "1":  # nothing changed in this chunk
                    return 200, _empty()
        else:
            return 404, _error(f"no such endpoint: {split.path}")
        if not file.exists():
            path = data_path(m["kpi"], m["municipality"], m["year"]) if "kpi" in m.groupdict() \
                else split.path
            return 404, _error(f"the bench pre-renders only the client's chunk plan; no page "
                               f"{page} for {path}")
        body = file.read_bytes().replace(ORIGIN.encode(), f"http://{self.host}:{self.port}"
                                         .encode())
        if from_date is not None:
            body = body.replace(FROM_DATE.encode(), from_date.encode())
        return 200, body


def _empty() -> bytes:
    return b'{"values": [], "count": 0, "next_url": null, "previous_url": null}'


def _error(message: str) -> bytes:
    import json

    return json.dumps({"error": message}).encode("utf-8")


class _Handler(JsonHandler):
    server_version = "BenchKolada/1.0"
    owner: Any

    def do_GET(self) -> None:
        self._handle("GET")

    def _serve(self, owner: BenchKoladaServer, method: str) -> tuple[int, str | None]:
        status, body = owner.answer(self.path)
        self._send(status, body)
        return status, None
