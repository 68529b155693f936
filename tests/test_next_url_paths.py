"""Issue 31, item 7: a `next_url` whose path starts with the base's but whose dot segments
(literal or percent-encoded) lead out of it is refused before it is requested: paths are
compared normalised, never as text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipelines.base_url import normalised_path
from pipelines.eventlog.store import EventLog
from pipelines.sample.server import SampleKoladaServer
from pipelines.sources.kolada.client import KoladaClient, KoladaError, same_base
from pipelines.sources.kolada.ingest import ingest_values
from tests.test_http_faults import PAGE, SCOPE, SECOND_PAGE

ESCAPES = ["/v3/../evil/data", "/v3/%2e%2e/evil/data", "/v3/%2E%2e/evil/data",
           "/v3/./../../x", "/v3/data/%252e%252e/%252e%252e/x", "/v3/..%2fevil",
           "/v3/..%5cevil", "/v3\\..\\evil"]


@pytest.mark.parametrize("path", ESCAPES)
def test_a_path_that_resolves_outside_the_base_is_not_under_it(path: str) -> None:
    assert not same_base(f"http://h:8{path}", "http://h:8/v3")
    assert not normalised_path(path).startswith("/v3/")


@pytest.mark.parametrize("path", ["/v3/data/kpi/N1?page=2", "/v3/./data", "/v3/a/../data",
                                  "/v3/%2e/data", "/v3"])
def test_a_path_that_stays_inside_the_base_is_followed(path: str) -> None:
    assert same_base(f"http://h:8{path}", "http://h:8/v3")


@pytest.fixture(scope="module")
def server():
    with SampleKoladaServer(day=1, max_page_size=PAGE) as srv:
        yield srv


@pytest.mark.parametrize("path", ["/v3/../evil/data", "/v3/%2e%2e/evil/data",
                                  "/v3/./../../x"])
def test_an_absolute_next_url_with_dot_segments_is_never_requested(
        server: SampleKoladaServer, tmp_path: Path, path: str) -> None:
    server.faults.clear()
    server.request_log.clear()
    server.faults.add(SECOND_PAGE, "next_url", url=f"{server.origin}{path}")
    try:
        with (KoladaClient(server.base_url, max_rps=1e6, backoff_base=0.01, max_attempts=2,
                           timeout=2, sleep=lambda _: None, rng=random.Random(1)) as client,
              pytest.raises(KoladaError, match="leaves the configured base") as raised):
            ingest_values(client, EventLog(tmp_path / "events"), SCOPE, run_id="dots",
                          progress=lambda _: None)
    finally:
        server.faults.clear()
        assert server.request_log.wait_idle()
    assert path in str(raised.value) or "%2e" in str(raised.value)  # names the link
    # nothing outside /v3 was asked for, in any spelling
    for target in server.request_log.targets():
        assert normalised_path(target.split("?")[0]).startswith("/v3/"), target
