"""The synthetic sample world: deterministic, plausible, and changing by design from day to day;
and the sample server's from_date and error answers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import httpx
import numpy as np
import pytest

from pipelines.sample import generator
from pipelines.sample.generator import world
from pipelines.sample.server import SampleKoladaServer
from pipelines.sample.world import NEW_YEAR, World
from pipelines.sources.kolada.records import KPI_FIELDS
from pipelines.sources.kolada.streams import KPI, MUNICIPALITY
from tests.conftest import REPO_ROOT

DIGEST_CODE = """
import hashlib, numpy as np
from pipelines.sample.generator import world
w = world({day})
h = hashlib.sha256()
for a in (w.exists, w.deleted, np.nan_to_num(w.value, nan=-1.0), w.count, w.changed_day):
    h.update(np.ascontiguousarray(a).tobytes())
h.update(repr(w.kpis).encode())
print(h.hexdigest())
"""


def digest(w: World) -> str:
    h = hashlib.sha256()
    for a in (w.exists, w.deleted, np.nan_to_num(w.value, nan=-1.0), w.count, w.changed_day):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(w.kpis).encode())
    return h.hexdigest()


def test_generator_is_deterministic_after_clearing_caches() -> None:
    before = digest(world(2))
    world.cache_clear()
    generator._static.cache_clear()
    assert digest(world(2)) == before


def test_generator_is_deterministic_across_processes_and_hash_seeds() -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", DIGEST_CODE.format(day=2)], cwd=REPO_ROOT,
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(world(2))


def test_generator_day1_covers_every_kpi_unit_and_year() -> None:
    w = world(1)
    rows = w.select()
    assert rows.row_count == len(w.kpi_ids) * 312 * len(range(2016, 2025))
    gendered = sum(k["is_divided_by_gender"] for k in w.kpis)
    assert len(w.kpis) / 4 <= gendered <= len(w.kpis) / 2.5


def test_generator_riket_is_the_unweighted_mean_of_kommuner() -> None:
    w = world(1)
    kommuner = [m["id"] for m in w.municipalities if m["type"] == "K"]
    rows = w.select(["N15428"], kommuner, [2022]).rows()
    known = [v["value"] for r in rows for v in r["values"] if v["value"] is not None]
    (riket,) = w.select(["N15428"], ["0000"], [2022]).rows()
    assert riket["values"][0]["count"] == len(known)
    assert riket["values"][0]["value"] == pytest.approx(sum(known) / len(known), abs=0.01)


def test_generator_shares_are_percentages_with_some_nulls() -> None:
    w = world(1)
    shares = [k["id"] for k in w.kpis if k["title"].endswith("andel (%)")
              and "Nettokostnadsavvikelse" not in k["title"]
              and "Självfinansieringsgrad" not in k["title"]]
    values = [v["value"] for r in w.select(shares).rows() for v in r["values"]]
    known = [v for v in values if v is not None]
    assert all(0 <= v <= 100 for v in known)
    assert 0.005 < 1 - len(known) / len(values) < 0.06


def test_generator_day2_changes_are_as_designed() -> None:
    day1, day2 = world(1), world(2)
    c = day2.changes
    assert 0.003 < c.revised / day1.value_count < 0.01
    assert 0.0005 < c.deleted / day1.value_count < 0.002
    assert day2.value_count == day1.value_count + c.added - c.deleted
    new_year = day2.select(years=[NEW_YEAR])
    assert new_year.value_count == c.added
    assert 1 <= len(set(new_year.cells[0].tolist())) <= 6
    assert len(c.retitled_kpis) == 1 and c.metadata[KPI.name] == 1
    assert c.metadata[MUNICIPALITY.name] == 0


def test_generator_from_date_answer_holds_only_changed_values() -> None:
    day1, day2 = world(1), world(2)
    old = {(r["kpi"], r["municipality"], r["period"], v["gender"]): (v["value"], v["count"])
           for r in day1.select().rows() for v in r["values"]}
    changed = [(r, v) for r in day2.select(since_day=2).rows() for v in r["values"]]
    assert len(changed) == day2.changes.values_changed
    for r, v in changed:
        key = (r["kpi"], r["municipality"], r["period"], v["gender"])
        if v["isdeleted"]:
            assert key in old and v["value"] is None
        else:
            assert old.get(key) != (v["value"], v["count"])


def test_generator_deleted_values_are_absent_from_full_answers() -> None:
    day2 = world(2)
    full = {(r["kpi"], r["municipality"], r["period"], v["gender"])
            for r in day2.select().rows() for v in r["values"]}
    deleted = [(r["kpi"], r["municipality"], r["period"], v["gender"])
               for r in day2.select(since_day=2).rows() for v in r["values"] if v["isdeleted"]]
    assert deleted and not full.intersection(deleted)


# -- server -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def day2_server() -> Iterator[SampleKoladaServer]:
    with SampleKoladaServer(day=2) as server:
        yield server


def _data_url(server: SampleKoladaServer, kpis: list[str]) -> str:
    units = ",".join(server.world.unit_ids[:25])
    return f"{server.base_url}/data/kpi/{','.join(kpis)}/municipality/{units}/year/2016,2024"


def test_server_from_date_of_served_day_returns_only_its_changes(
        day2_server: SampleKoladaServer) -> None:
    kpis = list(day2_server.world.kpi_ids[:20])
    since = day2_server.date_of(2).isoformat()
    rows = httpx.get(f"{_data_url(day2_server, kpis)}?from_date={since}").json()["values"]
    today = day2_server.world.select(kpis, day2_server.world.unit_ids[:25], [2016, 2024],
                                     since_day=2)
    assert sum(len(r["values"]) for r in rows) == today.value_count


def test_server_from_date_before_day1_returns_everything_with_tombstones(
        day2_server: SampleKoladaServer) -> None:
    kpis = list(day2_server.world.kpi_ids[:20])
    since = (day2_server.date_of(1) - timedelta(days=3)).isoformat()
    doc = httpx.get(f"{_data_url(day2_server, kpis)}?from_date={since}").json()
    full = httpx.get(_data_url(day2_server, kpis)).json()
    values = [v for r in doc["values"] for v in r["values"]]
    gone = sum(v["isdeleted"] for v in values)
    assert len(values) == sum(len(r["values"]) for r in full["values"]) + gone


def test_server_metadata_serves_swedish_text_as_utf8(day2_server: SampleKoladaServer) -> None:
    resp = httpx.get(f"{day2_server.base_url}/municipality/1880,2583")
    assert resp.headers["content-type"].endswith("charset=utf-8")
    assert "Örebro".encode() in resp.content
    assert {m["id"] for m in resp.json()["values"]} == {"1880", "2583"}


def test_server_kpi_objects_have_every_v3_field_and_say_synthetic(
        day2_server: SampleKoladaServer) -> None:
    (kpi,) = httpx.get(f"{day2_server.base_url}/kpi/N15428").json()["values"]
    assert set(KPI_FIELDS) <= set(kpi) and kpi["municipality_type"] == "K"
    assert kpi["description"].startswith("Syntetiskt exempeldata")


def test_server_retitles_one_kpi_on_day2(day2_server: SampleKoladaServer) -> None:
    (kpi_id,) = day2_server.world.changes.retitled_kpis
    (kpi,) = httpx.get(f"{day2_server.base_url}/kpi/{kpi_id}").json()["values"]
    before = {k["id"]: k["title"] for k in world(1).kpis}[kpi_id]
    assert kpi["title"] != before


def test_server_unknown_path_is_404(day2_server: SampleKoladaServer) -> None:
    assert httpx.get(f"{day2_server.base_url}/kpis").status_code == 404


def test_server_more_than_25_ids_is_400_with_json_error(day2_server: SampleKoladaServer
                                                        ) -> None:
    resp = httpx.get(f"{day2_server.base_url}/kpi/{','.join(day2_server.world.kpi_ids[:26])}")
    assert resp.status_code == 400 and "25" in resp.json()["error"]
