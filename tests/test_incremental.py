"""An incremental build equals a full rebuild of the same event log, row for row (issue 26).

The sample's first day is ingested through the CLI; then a sequence of nights is appended to
the real event log (the sample's day 2 through the CLI; a new year, revisions and tombstones; a
retitled KPI; a Kommunkompassen file imported by the importer; a republished liknande kommuner
group), and after each night the warehouse is built the way the `warehouse_models` asset builds
it: the plan of pipelines.warehouse.incremental, its KPI ids in the build's vars file, dbt with
--full-refresh only when the plan says full. At the end one full rebuild of a copy of the same
log goes into a second warehouse, and every model's table is compared with EXCEPT ALL both
ways: 0 rows may differ. dbt runs the models and seeds only (the tests check content, which the
comparison does exactly); the CLI and Dagster path is tests/test_platform_sample.py's.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.settings import Layout
from pipelines.sources.kolada.streams import KPI, KPI_VALUE, MUNICIPALITY_GROUP
from pipelines.sources.kommunkompassen.importer import import_file, known_municipalities
from tests.env_helpers import platform_env
from tests.eventlog_helpers import Rec, value
from tests.incremental_helpers import Builder

pytestmark = pytest.mark.slow

SCORED_KPI = "N15428"  # a KKiK KPI of the sample (Arvika's board in the README)
OTHER_KPI = "N00640"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with platform_env(tmp_path_factory.mktemp("incremental") / "data") as data:
        yield data


def _latest_payload(layout: Layout, stream: str, key: str) -> dict:
    with duckdb.connect() as con:
        row = con.execute(
            "select payload from read_parquet(?) where entity_key = ? "
            "order by recorded_at desc, batch_id desc limit 1",
            [str(layout.events_dir / stream / "*.parquet"), key]).fetchone()
    assert row is not None, (stream, key)
    return json.loads(row[0])


def _append(layout: Layout, stream, records: list[Rec], night: int) -> None:
    EventLog(layout.events_dir).append(
        stream, records_to_table(records), batch_id=f"99990101T0000000000{night:02d}Z_test",
        snapshot=None, scope_source="test://incremental")


def _tables(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and table_type = 'BASE TABLE' order by table_name").fetchall()]


def _differing_rows(incremental: Path, full: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows, rows only in the incremental build, rows only in the full one)."""
    found = {}
    with duckdb.connect() as con:
        con.execute("attach ? as inc (read_only)", [str(incremental)])
        con.execute("attach ? as ful (read_only)", [str(full)])
        for table in _tables(full):
            # table names come from the full warehouse's own catalog (dbt's models and seeds)
            quoted = '"' + table.replace('"', '""') + '"'
            only_inc = con.execute(f"select count(*) from (select * from inc.main.{quoted} "
                                   f"except all select * from ful.main.{quoted})").fetchone()[0]
            only_full = con.execute(f"select count(*) from (select * from ful.main.{quoted} "
                                    f"except all select * from inc.main.{quoted})").fetchone()[0]
            rows = con.execute(f"select count(*) from ful.main.{quoted}").fetchone()[0]
            found[table] = (rows, only_inc, only_full)
    return found


def test_incremental_nights_equal_one_full_rebuild(data_dir: Path, tmp_path: Path) -> None:
    assert main(["ingest", "--source", "sample", "-q"]) == 0
    layout = Layout(data_dir)
    builder = Builder(data_dir)

    first = builder.build()
    assert not first.incremental and "no successful build recorded" in first.full_reason

    # Night 1: the sample's day 2 (revisions, deletions, additions of values)
    assert main(["ingest", "--source", "sample", "--sample-day", "2", "-q"]) == 0
    night = builder.build()
    assert night.incremental and 0 < len(night.changed_kpis) < 52, night.summary()

    # Night 2: a new year for one KPI, a revision of another, a value deleted (tombstone)
    _append(layout, KPI_VALUE, [value(SCORED_KPI, m, 2031, 50.0 + i)
                                for i, m in enumerate(("1784", "0180", "1280", "1480"))]
            + [value(OTHER_KPI, "1784", 2022, 12.5),
               value(OTHER_KPI, "0180", 2021, None, deleted=True)], 2)
    night = builder.build()
    assert night.incremental and set(night.changed_kpis) == {SCORED_KPI, OTHER_KPI}

    # Night 3: a retitled KPI touches only that KPI
    kpi = _latest_payload(layout, KPI.name, OTHER_KPI)
    _append(layout, KPI, [Rec(OTHER_KPI, {**kpi, "title": kpi["title"] + " (ny titel)"})], 3)
    night = builder.build()
    assert night.incremental and night.changed_kpis == (OTHER_KPI,)

    # Night 4: a Kommunkompassen file, imported by the importer: no KPI recomputed
    assessment = tmp_path / "kommunkompassen_0180_2024.csv"
    rows = [("Kommunkod;Kommun;År;Version;Område nr;Område;Poäng;Sverigesnitt;Totalt;Styrkor;"
             "Förbättringsområden")]
    rows += [f"0180;Stockholm;2024;2020;{n};{name};{60 + n};50,0;;;" for n, name in (
        (1, "Samspel mellan förtroendevalda och medborgare"), (2, "Samhällsutveckling"),
        (3, "Styrning och kontroll"), (4, "Effektivitet"))]
    assessment.write_text("\n".join(rows) + "\n", encoding="utf-8")
    log = EventLog(layout.events_dir)
    outcome = import_file(assessment, log, layout=layout, batch_id="99990101T000000000004Z_kk",
                          run_id="test", municipalities=known_municipalities(log), remove=False)
    assert outcome.batch is not None and outcome.batch.appended > 0
    night = builder.build()
    assert night.incremental and night.changed_kpis == ()
    # ... and builds the assessment models and the window marts, not the value chain
    assert builder.selected is not None
    assert {"mart_kommunkompassen", "mart_quality_profile", "mart_revisions"} <= builder.selected
    assert not {"fct_kpi_values", "mart_kkik_scorecard", "dim_municipality"} & builder.selected

    # Night 5: a republished liknande kommuner group reaches every KPI: a full rebuild
    with duckdb.connect() as con:
        group = con.execute(
            "select entity_key from read_parquet(?) where payload like '%iknande%' "
            "order by entity_key limit 1",
            [str(layout.events_dir / MUNICIPALITY_GROUP.name / "*.parquet")]).fetchone()[0]
    payload = _latest_payload(layout, MUNICIPALITY_GROUP.name, group)
    payload["members"] = payload["members"][1:]
    _append(layout, MUNICIPALITY_GROUP, [Rec(group, payload)], 5)
    night = builder.build()
    assert not night.incremental and MUNICIPALITY_GROUP.name in night.full_reason

    # Night 6: revisions of a KPI after the full one, then nothing new
    _append(layout, KPI_VALUE, [value(SCORED_KPI, "1784", 2023, 77.7),
                                value(SCORED_KPI, "1280", 2023, None, deleted=True)], 6)
    night = builder.build()
    assert night.incremental and night.changed_kpis == (SCORED_KPI,)
    assert builder.selected is not None and "mart_kkik_scorecard" in builder.selected
    assert not {"int_kommunkompassen_current", "stg_scb__population_events",
                "int_ou_values_current"} & builder.selected
    again = builder.build()
    assert again.incremental and again.changed_kpis == ()
    assert builder.selected is not None and "fct_kpi_values" not in builder.selected

    # One full rebuild of the same log, in a second data dir
    full_dir = tmp_path / "full"
    shutil.copytree(layout.events_dir, full_dir / "events")
    full = Builder(full_dir)
    assert not full.build().incremental
    differing = _differing_rows(layout.warehouse_path, full.layout.warehouse_path)
    assert {"fct_kpi_values", "mart_kkik_scorecard", "mart_kkik_board",
            "mart_kkik_peer_members", "mart_kpi_trends", "mart_kpi_wide"} <= set(differing)
    bad = {t: d for t, d in differing.items() if d[1] or d[2]}
    assert bad == {}, f"tables differing between incremental and full (rows, +inc, +full): {bad}"
    assert all(rows > 0 for rows, _, _ in (differing[t] for t in ("fct_kpi_values",
                                                                 "mart_kkik_scorecard")))
