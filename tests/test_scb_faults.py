"""The HTTP faults of issue 15, now for SCB as for Kolada (tests/test_http_faults.py), injected
by the local PxWeb server on 127.0.0.1, through the real ScbClient and the real population
ingest: each is retried until the answer is whole, or fails with a message naming the URL;
never a partial batch; the ledger records the failure. `FAULTS` is the list the closing note
counts (one test per kind)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipelines.eventlog.store import EMPTY_FILE_NAME, EventLog
from pipelines.sample.scb_server import SampleScbServer
from pipelines.sources.bounded_body import MIB
from pipelines.sources.scb.client import ScbClient
from pipelines.sources.scb.ingest import ingest_population
from pipelines.sources.scb.streams import POPULATION, POPULATION_TABLE
from tests.test_scb_client import FakeClock
from tests.test_scb_ingest import UNITS, YEARS

DATA = "/data"


@dataclass(frozen=True)
class Fault:
    kind: str
    pattern: str = DATA
    opts: dict[str, Any] = field(default_factory=dict)
    times: int = 1
    recovers: bool = True


FAULTS = {
    "429-retry-after": Fault("status", opts={"status": 429, "retry_after": 2}),
    "403-window-full": Fault("status", opts={"status": 403}),
    "500": Fault("status", opts={"status": 500}, times=2),
    "502": Fault("status", opts={"status": 502}),
    "503-metadata": Fault("status", "/metadata", {"status": 503}),
    "read-timeout": Fault("slow", opts={"delay": 1.5}),
    "connection-reset": Fault("reset"),
    "truncated-json": Fault("truncated", opts={"fraction": 0.4}),
    "html-with-200": Fault("html"),
    "endless-body": Fault("endless", opts={"chunk": 512, "interval": 0.02, "seconds": 20}),
    "503-every-attempt": Fault("status", opts={"status": 503}, times=99, recovers=False),
    "empty-answer": Fault("empty", recovers=False),
    "huge-body": Fault("huge", opts={"bytes": 256 * MIB}, recovers=False),
    "deep-json": Fault("deep", opts={"depth": 200_000}, recovers=False),
    "repeated-key": Fault("repeat", recovers=False),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    log = EventLog(tmp_path_factory.mktemp("scb-reference") / "events")
    with SampleScbServer(day=1) as server, ScbClient(server.base_url) as client:
        ingest_population(client, log, UNITS, YEARS, run_id="reference", progress=lambda _: None)
    return {e["entity_key"]: e["payload"] for e in log.events(POPULATION).to_pylist()}


@pytest.mark.parametrize("name", list(FAULTS))
def test_scb_fault_is_retried_or_fails_naming_the_url_never_a_partial_batch(
        reference: dict, tmp_path: Path, name: str) -> None:
    fault = FAULTS[name]
    log, clock = EventLog(tmp_path / "events"), FakeClock()
    with SampleScbServer(day=1) as server:
        server.faults.add(fault.pattern, fault.kind, times=fault.times, **fault.opts)
        client = ScbClient(server.base_url, max_attempts=4, backoff_base=0.01, timeout=0.75,
                           rng=random.Random(3), clock=clock, sleep=clock.sleep,
                           max_answer_seconds=2.0)
        with client:
            if fault.recovers:
                ingest_population(client, log, UNITS, YEARS, run_id="faulty",
                                  progress=lambda _: None)
            else:
                with pytest.raises(Exception) as raised:
                    ingest_population(client, log, UNITS, YEARS, run_id="faulty",
                                      progress=lambda _: None)
        left = server.faults.pending
        server.faults.clear()
        assert server.request_log.wait_idle(30)
    assert left < fault.times  # the fault was really injected
    ledger = [r for r in log.ledger().to_pylist() if r["stream"] == POPULATION.name]
    assert not list(log.tmp_dir.glob("*.tmp"))
    if fault.recovers:
        state = {e["entity_key"]: e["payload"] for e in log.events(POPULATION).to_pylist()}
        assert state == reference  # the whole answer, after the retries
        assert [r["status"] for r in ledger] == ["committed"]
    else:
        message = str(raised.value)
        assert f"127.0.0.1:{server.port}/api/v2/tables/{POPULATION_TABLE}" in message
        files = [p.name for p in log.event_files(POPULATION) if p.name != EMPTY_FILE_NAME]
        assert files == []  # never a partial batch
        assert [r["status"] for r in ledger] == ["failed"]


def test_scb_fault_kinds_match_koladas() -> None:
    """SCB is faulted as Kolada is: every kind the Kolada suite injects that SCB can answer
    (not next_url or count: PxWeb has no paging), plus the bounds of issue 31."""
    kinds = {f.kind for f in FAULTS.values()}
    assert kinds == {"status", "slow", "reset", "truncated", "html", "empty", "huge",
                     "endless", "deep", "repeat"}
    assert len(FAULTS) == 15
