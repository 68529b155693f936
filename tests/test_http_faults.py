"""Every HTTP fault kind of issue 15, injected by the local sample server on 127.0.0.1, through
the real client and the real ingest: each is retried until the answer is whole, or fails with
a message naming the URL; never a partial batch; the ledger records the failure.

`FAULTS` is the list the closing note counts (one test per kind)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.eventlog.store import EMPTY_FILE_NAME, EventLog
from pipelines.sample.server import SampleKoladaServer
from pipelines.scope import IngestScope
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.ingest import ingest_values
from pipelines.sources.kolada.streams import KPI_VALUE
from tests.test_ingest_sample import live_state

SCOPE = IngestScope(kpi_groups=(), kpis=("N15428", "N00945"), kpi_themes={},
                    municipalities=("0180", "1480", "1784"), years=(2019, 2020, 2021, 2022),
                    networks=())
PAGE = 5  # small pages, so a fault can hit the middle of an answer
SECOND_PAGE = r"/data/.*[?&]page=2"


@dataclass(frozen=True)
class Fault:
    kind: str
    pattern: str
    opts: dict[str, Any] = field(default_factory=dict)
    times: int = 1
    recovers: bool = True  # retried until whole; else the ingest must fail naming the URL


def _http_date(seconds: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


FAULTS = {
    "429-retry-after-seconds": Fault("status", "/data/", {"status": 429, "retry_after": 2}),
    "429-retry-after-http-date": Fault("status", "/data/", {"status": 429,
                                                            "retry_after": "HTTPDATE"}),
    "500": Fault("status", SECOND_PAGE, {"status": 500}, times=2),
    "502": Fault("status", SECOND_PAGE, {"status": 502}),
    "503": Fault("status", "/data/", {"status": 503}),
    "read-timeout": Fault("slow", SECOND_PAGE, {"delay": 1.5}),
    "connection-reset": Fault("reset", SECOND_PAGE),
    "truncated-json": Fault("truncated", SECOND_PAGE),
    "html-with-200": Fault("html", "/data/"),
    "503-every-attempt": Fault("status", SECOND_PAGE, {"status": 503}, times=99,
                               recovers=False),
    "empty-answer-for-non-empty-scope": Fault("empty", "/data/", recovers=False),
    "next-url-loop": Fault("next_url", SECOND_PAGE, recovers=False),
    "next-url-other-host": Fault("next_url", SECOND_PAGE, {"url": "OTHER_HOST"},
                                 recovers=False),
    "next-url-other-port": Fault("next_url", SECOND_PAGE, {"url": "OTHER_PORT"},
                                 recovers=False),
    "count-lies": Fault("count", SECOND_PAGE, recovers=False),
}


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(scope="module")
def server() -> Iterator[SampleKoladaServer]:
    with SampleKoladaServer(day=1, max_page_size=PAGE) as srv:
        yield srv


@pytest.fixture(scope="module")
def reference(server: SampleKoladaServer, tmp_path_factory: pytest.TempPathFactory) -> set:
    """The live state of an ingest with no fault."""
    log = EventLog(tmp_path_factory.mktemp("reference") / "events")
    with _client(server, FakeSleep()) as client:
        ingest_values(client, log, SCOPE, run_id="reference", progress=lambda _: None)
    state = live_state(log)
    assert len(state) > 2 * PAGE  # several pages: a fault can hit the middle
    return state


def _client(server: SampleKoladaServer, sleep: FakeSleep) -> KoladaClient:
    return KoladaClient(server.base_url, max_rps=1e6, backoff_base=0.01, max_attempts=4,
                        timeout=0.75, sleep=sleep, rng=random.Random(7))


def _opts(fault: Fault, server: SampleKoladaServer) -> dict[str, Any]:
    opts = dict(fault.opts)
    if opts.get("retry_after") == "HTTPDATE":
        opts["retry_after"] = _http_date(3)
    if opts.get("url") == "OTHER_HOST":  # another loopback address: nothing leaves the machine
        opts["url"] = f"http://127.0.0.2:{server.port}/v3/data/kpi/N15428?page=2"
    elif opts.get("url") == "OTHER_PORT":
        opts["url"] = f"http://127.0.0.1:{server.port + 1}/v3/data/kpi/N15428?page=2"
    return opts


@pytest.mark.parametrize("name", list(FAULTS))
def test_http_fault_is_retried_or_fails_naming_the_url_never_a_partial_batch(
        server: SampleKoladaServer, reference: set, tmp_path: Path, name: str) -> None:
    fault = FAULTS[name]
    server.faults.clear()
    server.request_log.clear()
    server.faults.add(fault.pattern, fault.kind, times=fault.times, **_opts(fault, server))
    log, sleep = EventLog(tmp_path / "events"), FakeSleep()
    try:
        with _client(server, sleep) as client:
            if fault.recovers:
                ingest_values(client, log, SCOPE, run_id="faulty", progress=lambda _: None)
            else:
                with pytest.raises(Exception) as raised:
                    ingest_values(client, log, SCOPE, run_id="faulty", progress=lambda _: None)
    finally:
        left = server.faults.pending
        server.faults.clear()
        assert server.request_log.wait_idle()
    assert left < fault.times  # the fault was really injected (consumed by a request)
    ledger = [r for r in log.ledger().to_pylist() if r["stream"] == KPI_VALUE.name]
    files = [p.name for p in log.event_files(KPI_VALUE) if p.name != EMPTY_FILE_NAME]
    assert not list(log.tmp_dir.glob("*.tmp"))
    if fault.recovers:
        assert live_state(log) == reference  # the whole answer, after the retries
        assert [r["status"] for r in ledger] == ["committed"]
        if fault.kind == "status" and fault.opts.get("retry_after"):
            assert max(sleep.calls) >= 1.0  # Retry-After was honoured (seconds or HTTP-date)
    else:
        message = str(raised.value)
        assert f"127.0.0.1:{server.port}/v3/data" in message  # names the URL
        assert files == []  # never a partial batch
        assert [r["status"] for r in ledger] == ["failed"]
        assert message.split(":")[0] in ledger[0]["note"]


def test_http_fault_kinds_cover_issue_15() -> None:
    """The kinds the issue lists, each in FAULTS (the count in the closing note)."""
    assert len(FAULTS) == 15
    kinds = {f.kind for f in FAULTS.values()}
    assert kinds == {"status", "slow", "reset", "truncated", "html", "empty", "next_url", "count"}
