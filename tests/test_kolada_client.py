"""The real KoladaClient over real HTTP against the sample server, with injected faults."""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pipelines.sample.server import SampleKoladaServer
from pipelines.sources.kolada.client import (
    KoladaClient,
    KoladaError,
    KoladaUnavailable,
    SuspiciousEmptyAnswer,
)
from pipelines.sources.kolada.streams import MUNICIPALITY
from pipelines.sources.kolada.throttle import TokenBucket

KPI = "N15428"
UNITS = ["0000", "0180", "1280", "1480", "1784"]
YEARS = list(range(2016, 2025))


class FakeSleep:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    def long(self, at_least: float = 0.01) -> list[float]:
        """Sleeps other than the throttle's (microseconds at the test's request rate)."""
        return [s for s in self.calls if s >= at_least]


@pytest.fixture(scope="module")
def server() -> Iterator[SampleKoladaServer]:
    with SampleKoladaServer(day=1) as srv:
        yield srv


@pytest.fixture(autouse=True)
def clean(server: SampleKoladaServer) -> Iterator[None]:
    server.faults.clear()
    server.request_log.clear()
    yield
    server.faults.clear()
    assert server.request_log.wait_idle(), "a request was still in flight 10 s after the test"


def make_client(base_url: str, sleep: FakeSleep | None = None, **kwargs: object) -> KoladaClient:
    options: dict[str, object] = {"max_rps": 1e6, "backoff_base": 0.01, "max_attempts": 4,
                                  "timeout": 5.0, "sleep": sleep or FakeSleep(),
                                  "rng": random.Random(7)}
    options.update(kwargs)
    return KoladaClient(base_url, **options)  # type: ignore[arg-type]


def expected_values(server: SampleKoladaServer, kpis: list[str], units: list[str],
                    years: list[int]) -> int:
    return server.world.select(kpis, units, years).value_count


def fetch(client: KoladaClient, kpis: list[str], units: list[str], years: list[int]
          ) -> list[str]:
    return sorted(r.entity_key for c in client.values(kpis, units, years) for r in c.records)


def test_client_paging_follows_next_url_to_the_end_despite_wrong_count() -> None:
    with SampleKoladaServer(day=1, max_page_size=7) as small:
        first = httpx.get(f"{small.base_url}/data/kpi/{KPI}/municipality/{','.join(UNITS)}"
                          f"/year/{','.join(map(str, YEARS))}").json()
        rows = small.world.select([KPI], UNITS, YEARS).row_count
        assert first["count"] != rows  # precondition: count is not the total
        small.request_log.clear()
        with make_client(small.base_url) as client:
            keys = fetch(client, [KPI], UNITS, YEARS)
        pages = [parse_qs(urlsplit(t).query).get("page", ["1"])[0]
                 for t in small.request_log.targets("/data/")]
    assert len(keys) == len(set(keys)) == expected_values(small, [KPI], UNITS, YEARS)
    # a set: under load a page may time out and be fetched again, which is correct behaviour
    assert sorted(set(map(int, pages))) == list(range(1, -(-rows // 7) + 1))


def test_client_chunks_more_than_25_ids(server: SampleKoladaServer) -> None:
    units = list(server.world.unit_ids[20:50])  # 30 ids
    with make_client(server.base_url) as client:
        keys = fetch(client, [KPI], units, [2023])
    segments = [urlsplit(t).path.split("/municipality/")[1].split("/")[0]
                for t in server.request_log.targets("/data/")]
    assert sorted(len(s.split(",")) for s in segments) == [5, 25]
    assert {k.split("|")[1] for k in keys} == set(units)


def test_server_rejects_more_than_25_ids_unchunked(server: SampleKoladaServer) -> None:
    units = ",".join(server.world.unit_ids[20:50])
    url = f"{server.base_url}/data/kpi/{KPI}/municipality/{units}/year/2023"
    with make_client(server.base_url) as client, pytest.raises(KoladaError, match="HTTP 400"):
        client.get_page(url)


def test_client_honours_retry_after_on_429(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "status", status=429, retry_after=3)
    sleep = FakeSleep()
    with make_client(server.base_url, sleep) as client:
        keys = fetch(client, [KPI], UNITS, [2023])
    assert sleep.long() == [3.0]
    assert len(keys) == expected_values(server, [KPI], UNITS, [2023])


@pytest.mark.parametrize("status", [500, 503])
def test_client_retries_server_errors(server: SampleKoladaServer, status: int) -> None:
    server.faults.add(r"/data/", "status", times=2, status=status)
    with make_client(server.base_url) as client:
        keys = fetch(client, [KPI], UNITS, [2023])
        assert client.requests == 3
    assert len(keys) == expected_values(server, [KPI], UNITS, [2023])
    assert [e.status for e in server.request_log.entries] == [status, status, 200]


def test_client_retries_after_its_timeout_on_a_slow_answer(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "slow", delay=1.5)
    with make_client(server.base_url, timeout=0.5) as client:
        keys = fetch(client, [KPI], UNITS, [2023])
        assert client.requests == 2
    assert server.faults.pending == 0
    assert len(keys) == expected_values(server, [KPI], UNITS, [2023])


def test_client_retries_truncated_json(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "truncated")
    with make_client(server.base_url) as client:
        keys = fetch(client, [KPI], UNITS, [2023])
        assert client.requests == 2
    assert [e.fault for e in server.request_log.entries] == ["truncated", None]
    assert len(keys) == expected_values(server, [KPI], UNITS, [2023])


def test_client_gives_up_with_url_and_last_failure(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "status", times=2, status=500)
    server.faults.add(r"/data/", "status", times=1, status=503)
    with (make_client(server.base_url, max_attempts=3) as client,
          pytest.raises(KoladaUnavailable) as info):
        fetch(client, [KPI], UNITS, [2023])
    (target,) = set(server.request_log.targets("/data/"))
    assert info.value.url == f"{server.origin}{target}"
    assert info.value.url in str(info.value) and "HTTP 503" in str(info.value)
    assert info.value.attempts == 3


def test_client_empty_answer_for_full_scope_is_suspicious(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "empty")
    with make_client(server.base_url) as client, pytest.raises(SuspiciousEmptyAnswer):
        fetch(client, [KPI], UNITS, [2023])


def test_client_keeps_several_requests_in_flight(server: SampleKoladaServer) -> None:
    units = list(server.world.unit_ids[:100])  # four chunks of 25
    server.faults.add(r"/data/", "slow", times=4, delay=0.3)
    with make_client(server.base_url, max_in_flight=4) as client:
        keys = fetch(client, [KPI], units, [2023])
    assert server.request_log.max_in_flight > 1
    assert len(keys) == expected_values(server, [KPI], units, [2023])


def test_client_metadata_reads_every_municipality(server: SampleKoladaServer) -> None:
    with make_client(server.base_url) as client:
        result = client.metadata(MUNICIPALITY)
    titles = {r.entity_key: r.payload["title"] for r in result.records}
    assert len(titles) == 312 and titles["2583"] == "Haparanda" and titles["1880"] == "Örebro"


# -- throttle ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_token_bucket_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(4)]
    assert waits == [0.0, 0.5, 0.5, 0.5] and clock.now == pytest.approx(1.5)


def test_token_bucket_idle_time_does_not_build_a_burst_beyond_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, capacity=2.0, clock=clock, sleep=clock.sleep)
    clock.now = 100.0
    waits = [bucket.acquire() for _ in range(3)]
    assert waits == [0.0, 0.0, 0.5]


@pytest.mark.parametrize("foreign", [
    "http://127.0.0.2:{port}/v3/data/kpi/N15428",       # another host on this machine
    "http://127.0.0.1:1/v3/data/kpi/N15428",            # another port
    "https://127.0.0.1:{port}/v3/data/kpi/N15428",      # another scheme
    "http://127.0.0.1:{port}/elsewhere/data/kpi",       # outside the base path
])
def test_client_never_follows_next_url_off_the_configured_base(
    server: SampleKoladaServer, foreign: str
) -> None:
    url = foreign.format(port=server.port)
    server.faults.add(r"/data/", "next_url", url=url)
    with make_client(server.base_url) as client, pytest.raises(KoladaError) as caught:
        fetch(client, [KPI], UNITS, [2023])
    assert "leaves the configured base" in str(caught.value) and url in str(caught.value)
    assert len(server.request_log.entries) == 1  # the foreign link was never requested


def test_client_stops_a_next_url_that_loops(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "next_url")  # the page links to itself
    with make_client(server.base_url) as client, pytest.raises(KoladaError, match="paging loop"):
        fetch(client, [KPI], UNITS, [2023])


def test_client_caps_a_long_retry_after_and_says_so(server: SampleKoladaServer) -> None:
    server.faults.add(r"/data/", "status", status=429, retry_after=300)
    sleep, said = FakeSleep(), []
    with make_client(server.base_url, sleep, retry_after_cap=20.0, progress=said.append) as c:
        fetch(c, [KPI], UNITS, [2023])
    assert sleep.long() == [20.0]
    assert any("asked to wait 300 s; waiting 20 s" in line for line in said)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from pipelines.sources.kolada.client import _retry_after, same_base

    assert _retry_after("7") == 7.0
    assert _retry_after("Wed, 21 Oct 2026 07:28:30 GMT", now=1792567700.0) == 10.0
    assert _retry_after("Wed, 21 Oct 2026 07:28:30 GMT", now=1792567720.0) == 0.0  # past
    assert _retry_after("soon") is None
    assert same_base("http://h:8/v3/data?x=1", "http://h:8/v3")
    assert same_base("https://api.kolada.se/v3/kpi", "https://api.kolada.se:443/v3")
    assert not same_base("http://h:8/v30/data", "http://h:8/v3")


def test_value_progress_comes_in_tenths_of_the_plan(server: SampleKoladaServer) -> None:
    said: list[str] = []
    kpis, units = server.world.kpi_ids[:52], server.world.unit_ids
    with make_client(server.base_url, progress=said.append) as client:
        fetch(client, list(kpis), list(units), [2023])
    chunks = [line for line in said if ": chunk " in line]
    assert 1 < len(chunks) <= 11
    done, plan = chunks[-1].split("chunk ")[1].split(",")[0].split("/")
    assert done == plan and int(plan) > len(chunks)
