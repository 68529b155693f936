"""The real ScbClient over real HTTP against the sample PxWeb server: limits, splits, faults."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from pipelines.sample.population import AGES, population_world
from pipelines.sample.scb_server import SampleScbServer
from pipelines.sources.scb.client import (
    CallWindow,
    ScbClient,
    ScbError,
    ScbUnavailable,
    split_selection,
)
from pipelines.sources.scb.jsonstat import selection_cells
from pipelines.sources.scb.streams import POPULATION_CONTENT, POPULATION_TABLE

REGIONS = ["00", "17", "1784", "0180", "1280", "2584"]
SELECTION = [("Region", REGIONS), ("Alder", list(AGES)), ("ContentsCode", [POPULATION_CONTENT]),
             ("Tid", ["2023", "2024"])]  # 6 x 101 x 1 x 2 = 1,212 cells


class FakeClock:
    """A clock that advances only when the client sleeps: waits are counted, not spent."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(server: SampleScbServer, clock: FakeClock | None = None, **kw) -> ScbClient:
    options = {"max_attempts": 4, "backoff_base": 0.01, "timeout": 5.0, "rng": random.Random(3)}
    if clock is not None:
        options.update(clock=clock, sleep=clock.sleep)
    options.update(kw)
    return ScbClient(server.base_url, **options)


@pytest.fixture
def server() -> Iterator[SampleScbServer]:
    with SampleScbServer(day=1) as srv:
        yield srv
    srv.faults.clear()


def statuses(server: SampleScbServer) -> list[int]:
    return [e.status for e in server.request_log.entries]


def expected(region: str, year: str, age: str) -> int:
    w = population_world(1)
    return int(w.counts[w.regions.index(region), int(year) - 2016, AGES.index(age)])


def test_config_is_read_before_anything_else(server: SampleScbServer) -> None:
    with client_for(server) as client:
        client.metadata(POPULATION_TABLE)
        assert client.config.max_data_cells == 150_000
        assert client.config.max_calls == 30 and client.config.time_window == 10.0
    paths = server.request_log.targets()
    assert paths[0].startswith("/api/v2/config")
    assert sum(p.startswith("/api/v2/config") for p in paths) == 1


def test_data_answers_every_cell_with_the_served_number(server: SampleScbServer) -> None:
    with client_for(server) as client:
        [answer] = client.data(POPULATION_TABLE, SELECTION)
    assert answer.cells == 1212 and answer.dataset.size == 1212
    cells = {(c["Region"], c["Tid"], c["Alder"]): v for c, v in answer.dataset.cells()}
    for key in [("1784", "2024", "0"), ("00", "2023", "100+"), ("17", "2024", "67")]:
        assert cells[key] == expected(*key)
    assert answer.provenance.updated == population_world(1).updated
    assert len(answer.provenance.body_sha256) == 64


def test_reordered_dimensions_decode_to_the_same_numbers() -> None:
    with SampleScbServer(day=1) as plain, SampleScbServer(
        day=1, dimension_order=("Tid", "ContentsCode", "Alder", "Region")
    ) as reordered, client_for(plain) as a, client_for(reordered) as b:
        [x] = a.data(POPULATION_TABLE, SELECTION)
        [y] = b.data(POPULATION_TABLE, SELECTION)
    assert [d.id for d in y.dataset.dimensions] == ["Tid", "ContentsCode", "Alder", "Region"]
    assert [d.id for d in x.dataset.dimensions] != [d.id for d in y.dataset.dimensions]
    def by_coords(ds):
        return {tuple(sorted(c.items())): v for c, v in ds.cells()}
    assert by_coords(x.dataset) == by_coords(y.dataset)


def test_a_selection_over_the_cell_limit_is_split_and_never_refused() -> None:
    with SampleScbServer(day=1, max_data_cells=500) as server, client_for(server) as client:
        answers = client.data(POPULATION_TABLE, SELECTION)
        assert statuses(server).count(403) == 0
    assert len(answers) >= 3
    assert all(a.cells <= 500 for a in answers)
    assert sum(a.cells for a in answers) == 1212
    covered = [tuple(sorted(c.items())) for a in answers for c, _ in a.dataset.cells()]
    assert len(covered) == len(set(covered)) == 1212
    assert len({a.provenance.body_sha256 for a in answers}) == len(answers)


def test_split_selection_keeps_contents_whole_and_covers_exactly() -> None:
    parts = split_selection(SELECTION, 200)
    assert all(selection_cells(p) <= 200 for p in parts)
    assert all(dict(p)["ContentsCode"] == [POPULATION_CONTENT] for p in parts)
    cells = {(r, a, t) for p in parts for r in dict(p)["Region"] for a in dict(p)["Alder"]
             for t in dict(p)["Tid"]}
    assert len(cells) == sum(selection_cells(p) for p in parts) == 1212
    with pytest.raises(ScbError, match="cannot be split"):
        split_selection([("ContentsCode", ["a", "b", "c"])], 2)


def test_the_call_window_is_obeyed_without_a_single_refusal() -> None:
    # 3 calls per 1 s on the server; the client must pace itself from /config
    with SampleScbServer(day=1, max_calls=3, time_window=1.0) as server:
        with client_for(server) as client:
            started = time.monotonic()
            for _ in range(5):
                client.data(POPULATION_TABLE, [("Region", ["1784"]), ("Alder", ["0"]),
                                               ("ContentsCode", [POPULATION_CONTENT]),
                                               ("Tid", ["2024"])])
            elapsed = time.monotonic() - started
        assert server.refused == 0
        assert client.requests == 6  # config + 5 data calls
        assert client.waited > 0.5
        assert elapsed >= 1.0  # 6 calls at 3 per second need more than one window


def test_call_window_waits_exactly_until_the_oldest_call_leaves() -> None:
    clock = FakeClock()
    window = CallWindow(2, 10.0, clock=clock, sleep=clock.sleep)
    window.acquire()
    clock.now = 4.0
    window.acquire()
    window.acquire()  # third call: waits until t=10 (first call leaves)
    assert clock.sleeps == [pytest.approx(6.01)]
    window.exhaust()
    window.acquire()
    assert clock.sleeps[-1] == pytest.approx(10.01)


@pytest.mark.parametrize("refuse_status", [429, 403])
def test_a_refusal_for_the_window_waits_it_out_and_succeeds(refuse_status: int) -> None:
    # The server allows 2 calls per 0.5 s but its /config claims 50: the client believes it,
    # is refused (429, or 403 as older PxWeb answers), waits the window out and goes on.
    with SampleScbServer(day=1, max_calls=2, time_window=0.5,
                         refuse_status=refuse_status) as server:
        server.config_doc = lambda: {"maxDataCells": 150_000, "maxCallsPerTimeWindow": 50,
                                     "timeWindow": 0.5}
        with client_for(server) as client:
            answers = [client.data(POPULATION_TABLE, SELECTION)[0] for _ in range(3)]
        assert server.refused >= 1
        assert client.refusals == server.refused
        assert statuses(server).count(refuse_status) == server.refused
        assert [a.cells for a in answers] == [1212] * 3


def test_429_from_the_server_is_retried_after_the_window() -> None:
    with SampleScbServer(day=1) as server:
        server.faults.add("/data", "status", times=2, status=429)
        clock = FakeClock()
        with client_for(server, clock) as client:
            [answer] = client.data(POPULATION_TABLE, SELECTION)
        assert answer.cells == 1212
        assert client.refusals == 2
        # each refusal counts the whole window as used: the next call waits ~10 s
        assert sum(s for s in clock.sleeps if s > 5) >= 19.0


def test_403_too_many_cells_is_an_error_at_once_not_a_wait() -> None:
    with SampleScbServer(day=1, max_data_cells=100) as server:
        server.config_doc = lambda: {"maxDataCells": 10_000, "maxCallsPerTimeWindow": 30,
                                     "timeWindow": 10}
        clock = FakeClock()
        with client_for(server, clock) as client, pytest.raises(ScbError, match="Too many cells"):
            client.data(POPULATION_TABLE, SELECTION)
        assert statuses(server).count(403) == 1


@pytest.mark.parametrize("fault, opts", [("status", {"status": 503}), ("status", {"status": 500}),
                                         ("truncated", {"fraction": 0.4})])
def test_transient_faults_are_retried(fault: str, opts: dict) -> None:
    with SampleScbServer(day=1) as server:
        server.faults.add("/data", fault, times=2, **opts)
        clock = FakeClock()
        with client_for(server, clock) as client:
            [answer] = client.data(POPULATION_TABLE, SELECTION)
        assert answer.cells == 1212
        assert client.requests == 1 + 3


def test_persistent_failure_names_the_url_and_the_cause() -> None:
    with SampleScbServer(day=1) as server:
        server.faults.add("/data", "status", times=10, status=502)
        clock = FakeClock()
        with client_for(server, clock) as client, pytest.raises(ScbUnavailable) as caught:
            client.data(POPULATION_TABLE, SELECTION)
    assert "tables/TAB638/data" in str(caught.value) and "HTTP 502" in str(caught.value)
    assert caught.value.attempts == 4


def test_a_bad_query_is_a_400_raised_at_once_with_scbs_message() -> None:
    with SampleScbServer(day=1) as server:
        clock = FakeClock()
        with client_for(server, clock) as client, pytest.raises(ScbError, match="unknown value"):
            client.data(POPULATION_TABLE, [("Region", ["9999"]), ("ContentsCode", ["BE0101N1"]),
                                           ("Tid", ["2024"])])
        assert statuses(server).count(400) == 1


def test_unusable_config_is_refused() -> None:
    with SampleScbServer(day=1) as server:
        server.config_doc = lambda: {"maxDataCells": 0, "maxCallsPerTimeWindow": 30,
                                     "timeWindow": 10}
        with client_for(server) as client, pytest.raises(ScbError, match="unusable limits"):
            client.metadata(POPULATION_TABLE)
