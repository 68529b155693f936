"""The bench harness cannot silently rot: its world is deterministic, its server's pages are
read by the real client, and the limit's flattening means the same values as records.py.

Nothing here times anything (speed lives in `make bench`, never in unit tests).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from bench.limit import flatten_sql
from bench.pages import render
from bench.server import BenchKoladaServer
from bench.workload import BenchWorld, build_world
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.records import value_records
from pipelines.sources.kolada.streams import KPI

TINY_YEARS = (2021, 2022, 2023)


def _tiny() -> BenchWorld:
    # 54 KPIs: the sample's 52 real ones and two generated; 30 units: two unit chunks
    return build_world(54, years=TINY_YEARS, n_units=30)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchWorld, Path]:
    w = _tiny()
    out = tmp_path_factory.mktemp("bench") / "tiny"
    render(w, out, per_page=400)
    return w, out


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.json")):
        if path.name != "manifest.json":  # holds the render time
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_bench_generator_is_deterministic(tiny: tuple[BenchWorld, Path], tmp_path: Path) -> None:
    w, out = tiny
    again = _tiny()
    assert again.kpi_ids == w.kpi_ids and again.unit_ids == w.unit_ids
    assert np.array_equal(again.value, w.value, equal_nan=True)
    assert np.array_equal(again.live, w.live)
    render(again, tmp_path / "again", per_page=400)
    assert _digest(tmp_path / "again") == _digest(out)


def test_bench_server_pages_are_read_by_the_real_client(tiny: tuple[BenchWorld, Path]) -> None:
    w, out = tiny
    with BenchKoladaServer(out) as server, KoladaClient(server.base_url, max_rps=1e6) as client:
        chunks = list(client.values(w.kpi_ids, w.unit_ids, w.years))
        assert sum(c.pages for c in chunks) > len(chunks)  # paging via next_url was followed
        assert sum(len(c.records) for c in chunks) == w.value_count
        assert len(client.metadata(KPI).records) == len(w.kpi_ids)
        assert sum(len(c.records) for c in client.values(
            w.kpi_ids, w.unit_ids, w.years, from_date=date(2026, 1, 1))) == 0
        server.state = "rev1"
        revised = [r for c in client.values(w.kpi_ids, w.unit_ids, w.years,
                                            from_date=date(2026, 1, 1)) for r in c.records]
    state = next(s for s in w.states() if s.name == "rev1")
    assert len(revised) == int(state.delta.sum())


def test_bench_limit_flattening_matches_records_parsing(tiny: tuple[BenchWorld, Path]) -> None:
    _, out = tiny
    limit = set(duckdb.connect().execute(flatten_sql(str(out / "full" / "*.json"))).fetchall())
    parsed = set()
    for page in sorted((out / "full").glob("*.json")):
        for record in value_records(json.loads(page.read_text(encoding="utf-8"))["values"],
                                    str(page)):
            p = record.payload
            parsed.add((p["kpi"], p["municipality"], p["period"], p["gender"], p["value"],
                        p["status"], p["count"], record.deleted))
    assert limit == parsed
    assert len(parsed) == _tiny().value_count


def test_realistic_nights_publish_a_new_year_for_few_kpis_and_revise_few_others(
        tiny: tuple[BenchWorld, Path]) -> None:
    """Each realistic night is what its from_date answer says: the new year of another 5 %
    of the KPIs (in the scope, absent from base) and revisions of 1 % of the others' last two
    published years, against the night before; the client reads exactly those values."""
    w, out = tiny
    new_year = w.years[-1]
    assert not w.live[:, :, -1].any() and w.pending is not None and w.pending.any()
    nights = [s for s in w.states() if s.name.startswith("real")]
    assert [s.name for s in nights] == [f"real{n:02d}" for n in range(1, 11)]
    published: set[str] = set()
    with BenchKoladaServer(out) as server, KoladaClient(server.base_url, max_rps=1e6) as client:
        for state in nights:
            server.state = state.name
            records = [r.payload for c in client.values(w.kpi_ids, w.unit_ids, w.years,
                                                         from_date=date(2026, 1, 1))
                       for r in c.records]
            assert len(records) == int(state.delta.sum())
            new_kpis = {p["kpi"] for p in records if p["period"] == new_year}
            revised = {(p["kpi"], p["period"]) for p in records if p["period"] != new_year}
            assert len(new_kpis) == round(0.05 * len(w.kpi_ids))  # 3 of 54
            assert not new_kpis & published  # each night publishes other KPIs' new year
            published |= new_kpis
            assert {k for k, _ in revised} and not {k for k, _ in revised} & new_kpis
            assert {y for _, y in revised} <= set(w.years[-3:-1])  # the last two published
