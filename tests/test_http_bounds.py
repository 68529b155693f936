"""Issue 31, item 4 (and 8's deep JSON): an answer is read within bounds of size and time, and
an answer whose entries repeat a key is refused; every refusal names the URL. Through the real
clients over real HTTP against the local Kolada and SCB servers, and for Kolada through the
real ingest (no partial batch, a `failed` ledger row)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.eventlog.store import EMPTY_FILE_NAME, EventLog
from pipelines.sample.scb_server import SampleScbServer
from pipelines.sample.server import SampleKoladaServer
from pipelines.sources.bounded_body import MIB
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.ingest import ingest_values
from pipelines.sources.kolada.streams import KPI_VALUE
from pipelines.sources.scb.client import ScbClient, ScbError
from pipelines.sources.scb.streams import POPULATION_TABLE
from tests.test_http_faults import PAGE, SCOPE, SECOND_PAGE, FakeSleep
from tests.test_scb_client import SELECTION

LIMIT = 8 * MIB  # the clients' bound in these tests (64 MiB by default)
SECONDS = 2.0

# (fault kind, options, what the message says): each refused, naming the URL
REFUSED = {
    "huge-declared": ("huge", {"bytes": 256 * MIB}, "declares 256.0 MiB"),
    "huge-undeclared": ("huge", {"bytes": 256 * MIB, "declared": False}, "passed the limit"),
    "deep-json": ("deep", {"depth": 200_000}, "nests deeper"),
    "repeated-key": ("repeat", {"times_": 10_000}, "key"),
}


@pytest.fixture(scope="module")
def kolada():
    with SampleKoladaServer(day=1, max_page_size=PAGE) as srv:
        yield srv


def _kolada_client(server: SampleKoladaServer) -> KoladaClient:
    return KoladaClient(server.base_url, max_rps=1e6, backoff_base=0.01, max_attempts=4,
                        timeout=5, sleep=FakeSleep(), rng=random.Random(7),
                        max_page_bytes=LIMIT, max_page_seconds=SECONDS)


def _inject(server: Any, pattern: str, kind: str, opts: dict, times: int = 1) -> None:
    server.faults.clear()
    server.request_log.clear()
    server.faults.add(pattern, kind, times=times, **opts)


@pytest.mark.parametrize("name", list(REFUSED))
def test_kolada_answer_out_of_bounds_is_refused_naming_the_url(
        kolada: SampleKoladaServer, tmp_path: Path, name: str) -> None:
    kind, opts, says = REFUSED[name]
    _inject(kolada, SECOND_PAGE, kind, opts, times=99)
    log = EventLog(tmp_path / "events")
    started = time.monotonic()
    try:
        with _kolada_client(kolada) as client, pytest.raises(Exception) as raised:
            ingest_values(client, log, SCOPE, run_id="bounds", progress=lambda _: None)
    finally:
        kolada.faults.clear()
        assert kolada.request_log.wait_idle(30)
    message = str(raised.value)
    assert type(raised.value).__name__ in ("KoladaError", "KoladaUnavailable")
    assert f"127.0.0.1:{kolada.port}/v3/data" in message and "page=2" in message
    assert says in message
    assert time.monotonic() - started < 30
    # never retried: the same answer would come again
    assert len(kolada.request_log.targets("page=2")) == 1
    assert [p.name for p in log.event_files(KPI_VALUE) if p.name != EMPTY_FILE_NAME] == []
    ledger = [r for r in log.ledger().to_pylist() if r["stream"] == KPI_VALUE.name]
    assert [r["status"] for r in ledger] == ["failed"]


def test_kolada_repeated_key_message_says_how_often(kolada: SampleKoladaServer) -> None:
    _inject(kolada, r"/data/", "repeat", {"times_": 1000})
    try:
        with _kolada_client(kolada) as client, pytest.raises(Exception, match="1,000 times"):
            list(client.values(["N15428"], ["1784"], [2022]))
    finally:
        kolada.faults.clear()


def test_kolada_endless_answer_is_abandoned_in_time_and_retried(
        kolada: SampleKoladaServer, tmp_path: Path) -> None:
    """A body that trickles on forever is given up after its time (httpx's timeout is per
    read, so it never fired); the retry gets the page whole."""
    _inject(kolada, SECOND_PAGE, "endless", {"chunk": 512, "interval": 0.02, "seconds": 30})
    said: list[str] = []
    started = time.monotonic()
    try:
        with _kolada_client(kolada) as client:
            client._progress = said.append
            ingest_values(client, EventLog(tmp_path / "events"), SCOPE, run_id="endless",
                          progress=lambda _: None)
    finally:
        kolada.faults.clear()
        assert kolada.request_log.wait_idle(40)
    assert time.monotonic() - started < 15
    assert any("still arriving after 2 s" in line and "page=2" in line for line in said)


# -- SCB ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REFUSED))
def test_scb_answer_out_of_bounds_is_refused_naming_the_url(name: str) -> None:
    kind, opts, says = REFUSED[name]
    with SampleScbServer(day=1) as server:
        server.faults.add("/data", kind, times=99, **opts)
        started = time.monotonic()
        with (ScbClient(server.base_url, max_attempts=4, backoff_base=0.01, timeout=5,
                        max_answer_bytes=LIMIT, max_answer_seconds=SECONDS) as client,
              pytest.raises(ScbError) as raised):
            client.data(POPULATION_TABLE, SELECTION)
        assert server.request_log.wait_idle(30)
        data_calls = [e for e in server.request_log.entries if "/data" in e.target]
    message = str(raised.value)
    assert f"POST http://127.0.0.1:{server.port}/api/v2/tables/{POPULATION_TABLE}/data" in message
    assert says in message
    assert time.monotonic() - started < 30
    assert len(data_calls) == 1  # refused at once, not retried


def test_scb_endless_answer_is_abandoned_in_time_and_retried() -> None:
    with SampleScbServer(day=1) as server:
        server.faults.add("/data", "endless", chunk=512, interval=0.02, seconds=30)
        started = time.monotonic()
        with ScbClient(server.base_url, max_attempts=4, backoff_base=0.01, timeout=5,
                       max_answer_seconds=SECONDS) as client:
            [answer] = client.data(POPULATION_TABLE, SELECTION)
        assert server.request_log.wait_idle(40)
    assert answer.cells == 1212
    assert time.monotonic() - started < 15
