"""A local, Kolada-v3-shaped HTTP server over the synthetic sample world.

Why a real HTTP server rather than a mocked transport: the client's paging, chunking,
retries, timeouts and concurrency are only exercised honestly over real sockets. Why
programmable faults: the live API's failure modes (429 with Retry-After, 5xx, slow answers,
cut-off bodies, silently empty answers) must be reproducible in tests within milliseconds.

Run it for manual use:  python -m pipelines.sample.server --day 2 --port 8765
"""

from __future__ import annotations

import argparse
import bisect
import ipaddress
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from pipelines.sample.generator import world
from pipelines.sample.units import UnitWorld, unit_world
from pipelines.sample.world import World
from pipelines.sources.kolada.streams import METADATA_STREAMS

MAX_IDS_PER_SEGMENT = 25
# The metadata endpoints are the ones the streams declare, so a new metadata stream is served
# as soon as the sample world has objects for it.
METADATA_PATHS = tuple(stream.endpoint for stream in METADATA_STREAMS)
FAULT_KINDS = ("status", "slow", "truncated", "empty", "next_url", "html", "reset", "count",
               "huge", "endless", "deep", "repeat")

_DATA_RE = re.compile(
    r"^/v3/data(?:/kpi/(?P<kpi>[^/]+))?(?:/municipality/(?P<municipality>[^/]+))?"
    r"(?:/year/(?P<year>[^/]+))?/?$"
)
_OUDATA_RE = re.compile(
    r"^/v3/oudata(?:/kpi/(?P<kpi>[^/]+))?(?:/ou/(?P<ou>[^/]+))?(?:/year/(?P<year>[^/]+))?/?$"
)
_META_RE = re.compile(rf"^/v3/(?P<path>{'|'.join(map(re.escape, METADATA_PATHS))})"
                      r"(?:/(?P<ids>[^/]+))?/?$")


class BadRequest(Exception):
    """Answered as HTTP 400 with a JSON error, like Kolada's own validation errors."""


# -- faults ---------------------------------------------------------------------------------


@dataclass
class Fault:
    pattern: re.Pattern[str]
    kind: str
    remaining: int
    opts: dict[str, Any]


class FaultPlan:
    """Faults that tests schedule: the first matching fault with attempts left is consumed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, path_pattern: str, kind: str, times: int = 1, **opts: Any) -> Fault:
        """Inject `kind` into the next `times` requests whose path+query matches the regex.

        kinds: "status" (status=503, retry_after=None), "slow" (delay=seconds, then a normal
        answer), "truncated" (a 200 with a cut-off JSON body), "empty" (a 200 with no values),
        "next_url" (a normal page whose next_url is `url`, default the page itself: a loop),
        "html" (status 200 with an HTML page, like a captive portal or a proxy's error page),
        "reset" (the connection is reset before any answer), "count" (a normal page whose
        `count` is `count`, default its size + 1000: a count that lies), "huge" (a 200 whose
        body is `bytes` long, default 256 MiB, declared in Content-Length unless
        `declared=False`), "endless" (a chunked 200 that sends `chunk` bytes every `interval`
        seconds until the client leaves or `seconds` pass), "deep" (a 200 of JSON nested
        `depth` deep, default 200,000), "repeat" (a normal page whose entries are its first
        entry `times_` times, default 10,000; SCB: a sparse `value` giving one position twice).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = Fault(re.compile(path_pattern), kind, times, dict(opts))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.pattern.search(target):
                    fault.remaining -= 1
                    return fault
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)


# -- request log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    target: str  # path + query
    started: float  # time.monotonic()
    status: int
    fault: str | None


@dataclass
class RequestLog:
    """Every request the server answered, and the peak number in flight at once."""

    entries: list[LoggedRequest] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self, entry: LoggedRequest) -> None:
        # In the order the requests arrived: a request is logged once its answer is written,
        # and a client's retry on a new connection can finish before the thread that answered
        # the previous attempt has logged it.
        with self._lock:
            self.in_flight -= 1
            bisect.insort(self.entries, entry, key=lambda e: e.started)

    def targets(self, contains: str = "") -> list[str]:
        with self._lock:
            return [e.target for e in self.entries if contains in e.target]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.max_in_flight = self.in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is in flight: a client that gave up on a slow answer leaves the
        server still writing it, and its log entry must not land in the next test's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.in_flight == 0:
                    return True
            time.sleep(0.02)
        return False


# -- answering ------------------------------------------------------------------------------


def _ids(segment: str | None) -> list[str] | None:
    if segment is None:
        return None
    ids = [x for x in segment.split(",") if x]
    if len(ids) > MAX_IDS_PER_SEGMENT:
        raise BadRequest(f"at most {MAX_IDS_PER_SEGMENT} ids per list, got {len(ids)}")
    return ids


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = query.get(name, [str(default)])[0]
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise BadRequest(f"{name} must be >= 1, got {value}")
    return value


class _Answerer:
    """Turns (path, query) into a v3 envelope for one page; no sockets, so it stays simple."""

    def __init__(self, day_world: World, base: Callable[[], str], max_page_size: int,
                 epoch: date) -> None:
        self.world = day_world
        self.units: UnitWorld = unit_world(day_world.day)
        self.base = base
        self.max_page_size = max_page_size
        self.epoch = epoch

    def since_day(self, from_date: str) -> int:
        try:
            when = date.fromisoformat(from_date)
        except ValueError as exc:
            raise BadRequest(f"from_date must be YYYY-MM-DD, got {from_date!r}") from exc
        return self.world.day - (self.epoch - when).days

    def answer(self, path: str, query: dict[str, list[str]]) -> dict[str, Any] | None:
        per_page = min(_int_param(query, "per_page", self.max_page_size), self.max_page_size)
        page = _int_param(query, "page", 1)
        if m := _META_RE.match(path):
            items = self._metadata(m["path"], _ids(m["ids"]), query)
            total = len(items)
            start = (page - 1) * per_page
            values: list[dict[str, Any]] = items[start:start + per_page]
        elif (m := _DATA_RE.match(path)) and path.rstrip("/") != "/v3/data":
            kpis, units, years_raw = _ids(m["kpi"]), _ids(m["municipality"]), _ids(m["year"])
            if sum(x is not None for x in (kpis, units, years_raw)) < 2:
                raise BadRequest("give at least two of kpi, municipality and year")
            try:
                years = None if years_raw is None else [int(y) for y in years_raw]
            except ValueError as exc:
                raise BadRequest(f"years must be numbers, got {m['year']!r}") from exc
            since = None
            if "from_date" in query:
                since = self.since_day(query["from_date"][0])
            selection = self.world.select(kpis, units, years, since_day=since)
            total = selection.row_count
            start = (page - 1) * per_page
            values = selection.rows(start, min(start + per_page, total)) if start < total else []
        elif (m := _OUDATA_RE.match(path)) and path.rstrip("/") != "/v3/oudata":
            values, total = self._oudata(m, query, page, per_page)
        else:
            return None
        return self._envelope(path, query, values, page, per_page, total)

    def _oudata(self, m: re.Match[str], query: dict[str, list[str]], page: int, per_page: int
                ) -> tuple[list[dict[str, Any]], int]:
        kpis, ous, years_raw = _ids(m["kpi"]), _ids(m["ou"]), _ids(m["year"])
        if sum(x is not None for x in (kpis, ous, years_raw)) < 2:
            raise BadRequest("give at least two of kpi, ou and year")
        try:
            years = None if years_raw is None else [int(y) for y in years_raw]
        except ValueError as exc:
            raise BadRequest(f"years must be numbers, got {m['year']!r}") from exc
        since = self.since_day(query["from_date"][0]) if "from_date" in query else None
        rows = self.units.select(kpis, ous, years, since_day=since)
        start = (page - 1) * per_page
        return rows[start:start + per_page], len(rows)

    def _metadata(self, name: str, ids: list[str] | None, query: dict[str, list[str]]
                  ) -> list[dict[str, Any]]:
        if name == "ou":
            items = list(self.units.units)
            if muni := query.get("municipality", [""])[0]:
                items = [o for o in items if o["municipality"] in muni.split(",")]
        else:
            items = list(self.world.metadata(name))
        if ids is not None:
            wanted = set(ids)
            items = [o for o in items if o["id"] in wanted]
        if title := query.get("title", [""])[0].lower():
            items = [o for o in items if title in o["title"].lower()]
        if name == "municipality" and (kind := query.get("region_type", [""])[0]):
            items = [o for o in items if o["type"] == kind]
        return items

    def _envelope(self, path: str, query: dict[str, list[str]], values: list[dict[str, Any]],
                  page: int, per_page: int, total: int) -> dict[str, Any]:
        def page_url(number: int) -> str:
            params = {k: v[0] for k, v in query.items()}
            params.update(per_page=str(per_page), page=str(number))
            return f"{self.base()}{path}?{urlencode(params)}"

        has_next = page * per_page < total
        return {
            "values": values,
            # Deliberately the page size, not the total: clients must not trust it.
            "count": len(values),
            "next_url": page_url(page + 1) if has_next else None,
            "previous_url": page_url(page - 1) if page > 1 else None,
        }


class JsonHandler(BaseHTTPRequestHandler):
    """The sample servers' request handling: quiet, keep-alive, every request in the owner's
    request log with its status and fault. Subclasses answer in `_serve(owner, method)`."""

    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection pool is used
    timeout = 30  # an idle keep-alive connection does not pin a thread forever
    owner: Any  # the server object, set on a per-server subclass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log records what tests need."""

    def _handle(self, method: str) -> None:
        owner = self.owner
        owner.request_log.enter()
        started = time.monotonic()
        status, fault_kind = 500, None
        try:
            status, fault_kind = self._serve(owner, method)
        except (BrokenPipeError, ConnectionResetError):
            status = 499  # the client gave up (e.g. its timeout) before we answered
            self.close_connection = True
        finally:
            owner.request_log.leave(LoggedRequest(method, self.path, started, status, fault_kind))

    def _serve(self, owner: Any, method: str) -> tuple[int, str | None]:
        raise NotImplementedError

    def _status_fault(self, fault: Fault | None, message_key: str) -> int | None:
        """Answer an injected `status` fault (returns its code) or wait out a `slow` one
        (returns None, and the request is answered normally)."""
        if fault is not None and fault.kind == "status":
            code = int(fault.opts.get("status", 503))
            headers = {}
            if fault.opts.get("retry_after") is not None:
                headers["Retry-After"] = str(fault.opts["retry_after"])
            self._json(code, {message_key: f"injected fault: HTTP {code}"}, headers)
            return code
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.opts.get("delay", 1.0)))
        return None

    def _body_fault(self, fault: Fault | None) -> int | None:
        """Answer an injected `reset`, `html`, `huge`, `endless` or `deep` fault (returns the
        status sent, 0 for a reset), else None. Shared by the Kolada and SCB servers."""
        if fault is None or fault.kind not in ("reset", "html", "huge", "endless", "deep"):
            return None
        self.close_connection = True
        if fault.kind == "reset":
            # linger 0: closing sends a TCP RST instead of a FIN, i.e. "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            return 0
        if fault.kind == "html":
            body = b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return 200
        opts = fault.opts
        if fault.kind == "deep":
            depth = int(opts.get("depth", 200_000))
            self._send(200, b"[" * depth + b"]" * depth)
            return 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        huge = fault.kind == "huge"
        size = int(opts.get("bytes", 256 * 1024 * 1024)) if huge else 1 << 40
        if huge and opts.get("declared", True):
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b" " * 65536
            while size > 0:  # padding, sent until the client gives up (BrokenPipe)
                self.wfile.write(block[:size])
                size -= len(block)
            return 200
        # chunked: an endless body, or a huge one that declares no length
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * (65536 if huge else int(opts.get("chunk", 65536)))
        interval = 0.0 if huge else float(opts.get("interval", 0.0))
        stop = time.monotonic() + (3600.0 if huge else float(opts.get("seconds", 60.0)))
        self.wfile.write(b"1\r\n{\r\n")
        while time.monotonic() < stop and size > 0:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            size -= len(chunk)
            if interval:
                time.sleep(interval)
        self.wfile.write(b"0\r\n\r\n")
        return 200

    def _json(self, code: int, doc: dict[str, Any], headers: dict[str, str] | None = None
              ) -> None:
        self._send(code, json.dumps(doc, ensure_ascii=False).encode("utf-8"), headers)

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Handler(JsonHandler):
    server_version = "SampleKolada/1.0"
    owner: SampleKoladaServer

    def do_GET(self) -> None:
        self._handle("GET")

    def _serve(self, owner: SampleKoladaServer, method: str) -> tuple[int, str | None]:
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        fault = owner.faults.take(self.path)
        code = self._status_fault(fault, "error")
        if code is not None:
            return code, "status"
        code = self._body_fault(fault)
        if code is not None:
            return code, fault.kind if fault else None
        try:
            doc = owner.answerer.answer(split.path, query)
        except BadRequest as exc:
            self._json(400, {"error": str(exc)})
            return 400, None
        if doc is None:
            self._json(404, {"error": f"no such endpoint: {split.path}"})
            return 404, None
        if fault is not None and fault.kind == "empty":
            doc = {"values": [], "count": 0, "next_url": None, "previous_url": None}
        if fault is not None and fault.kind == "next_url":
            # a page that links elsewhere: another host or port, or back to itself (a loop)
            doc = {**doc, "next_url": fault.opts.get("url") or
                   f"http://{owner.host}:{owner.port}{self.path}"}
        if fault is not None and fault.kind == "count":
            doc = {**doc, "count": int(fault.opts.get("count", len(doc["values"]) + 1000))}
        if fault is not None and fault.kind == "repeat" and doc["values"]:
            many = int(fault.opts.get("times_", 10_000))
            doc = {**doc, "values": [doc["values"][0]] * many, "count": many}
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        if fault is not None and fault.kind == "truncated":
            body = body[: max(1, int(len(body) * float(fault.opts.get("fraction", 0.5))))]
        self._send(200, body)
        return 200, fault.kind if fault else None

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def refuse_non_loopback(host: str, name: str) -> None:
    """The local servers answer anyone without authentication (synthetic data, fault plans),
    so they bind to a loopback address only (127.0.0.0/8 or ::1); 0.0.0.0 is refused."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{name} server: host {host!r} is not a loopback address; the local "
                         "servers bind to 127.0.0.1 only (nothing to serve to other machines)")


class LocalServer:
    """Start/stop of a sample server on 127.0.0.1 in a daemon thread; a context manager.
    Subclasses set `host`, `port`, `name` and return their handler class from `handler()`."""

    host: str
    port: int
    name = "sample"
    _httpd: _Server | None = None
    _thread: threading.Thread | None = None

    def handler(self) -> type[JsonHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        refuse_non_loopback(self.host, self.name)
        handler = type("Handler", (self.handler(),), {"owner": self})
        self._httpd = _Server((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SampleKoladaServer(LocalServer):
    """Serves the synthetic world of `day` on 127.0.0.1; use as a context manager.

    Dates for from_date: the served day is `epoch` (default: today, UTC) and day d is
    `epoch - (day - d)` days, so "changed since yesterday" means "changed on the served day".
    """

    name = "sample-kolada"

    def __init__(
        self,
        day: int = 1,
        *,
        max_page_size: int = 5000,
        epoch: date | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        self.day = day
        self.max_page_size = max_page_size
        self.epoch = epoch or datetime.now(UTC).date()
        self.host = host
        self.port = port
        self.faults = FaultPlan()
        self.request_log = RequestLog()
        self.world = world(day)
        self.answerer = _Answerer(self.world, lambda: self.origin, max_page_size, self.epoch)
        self._httpd = None
        self._thread = None

    def date_of(self, day: int) -> date:
        """The calendar date that stands for `day` in from_date queries."""
        return self.epoch - timedelta(days=self.day - day)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v3"

    def handler(self) -> type[JsonHandler]:
        return _Handler


def main(argv: list[str] | None = None) -> None:
    """Serve a sample day until Ctrl-C, for `KOLADA_BASE_URL=... kommunkvalitet ingest`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=int, default=1, help="which simulated day (>= 1)")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--max-page-size", type=int, default=5000)
    parser.add_argument("--epoch", type=date.fromisoformat, default=None,
                        help="date of the served day for from_date (default: today, UTC)")
    args = parser.parse_args(argv)
    server = SampleKoladaServer(args.day, max_page_size=args.max_page_size, epoch=args.epoch,
                                port=args.port)
    with server:
        w = server.world
        print(f"Sample Kolada (synthetic data), day {w.day}: {len(w.kpis)} KPIs, "
              f"{w.value_count:,} values", flush=True)
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
