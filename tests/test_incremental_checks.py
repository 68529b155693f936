"""Checks that follow the change (issue 26): on an incremental build the dbt tests of the
kpi-partitioned models and the GX custom checks read only the changed KPIs, where that is sound
(dbt_project/macros/incremental_tests.sql, pipelines/checks/changed_kpis.py); a full build reads
everything. Real dbt builds of the sample and real GX suites on the warehouse they leave: a bad
row of a changed KPI fails the build's checks; a bad row planted in an unchanged KPI's partition
is not read by an incremental build (the saving, and its limit) and is found on the full path.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.checks.changed_kpis import LastBuild, last_build
from pipelines.checks.results import SuiteResult
from pipelines.checks.suites import run_warehouse_suites
from pipelines.cli import main
from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.settings import Layout
from pipelines.sources.kolada.streams import KPI_VALUE
from pipelines.warehouse.dbt_project import DBT_PROJECT_DIR, dbt_executable
from tests.env_helpers import platform_env
from tests.eventlog_helpers import Rec, value
from tests.incremental_helpers import Builder

SCORED_KPI = "N15428"  # a KKiK KPI of the sample
GX_MARTS = ["fct_kpi_values", "mart_kkik_scorecard", "mart_kkik_colour_counts"]
KEY_TEST = "unique_combination_fct_kpi_values_kpi_id__municipality_id__period__gender"
ACROSS_KPIS_TEST = "equals_sum_of_mart_kkik_colour_counts"  # sums over KPIs: reads everything


def test_a_suite_reads_the_changed_kpis_only_after_passing_on_the_build_before() -> None:
    build = LastBuild("b2", "b1", ("N00001",), frozenset({"fct_kpi_values"}))
    assert build.kpis_to_check("fct_kpi_values", {"fct_kpi_values": "b1"}) == ("N00001",)
    assert build.kpis_to_check("fct_kpi_values", {"fct_kpi_values": "b2"}) == ("N00001",)
    # failed, never run, or passed on an older warehouse (a build or `dbt docs` between)
    assert build.kpis_to_check("fct_kpi_values", {}) is None
    assert build.kpis_to_check("fct_kpi_values", {"fct_kpi_values": "b0"}) is None
    # a mart rebuilt whole, a full rebuild, an unknown last invocation
    assert build.kpis_to_check("mart_kkik_colour_counts", {"mart_kkik_colour_counts": "b1"}) \
        is None
    assert LastBuild("b2", "b1", None, frozenset({"fct_kpi_values"})).kpis_to_check(
        "fct_kpi_values", {"fct_kpi_values": "b1"}) is None
    assert LastBuild(None, None, ("N00001",), frozenset({"fct_kpi_values"})).kpis_to_check(
        "fct_kpi_values", {"fct_kpi_values": "b1"}) is None


def test_last_build_reads_a_missing_or_broken_vars_file_as_a_full_build(tmp_path: Path) -> None:
    broken = tmp_path / "build_vars.json"
    broken.write_text("{not json", encoding="utf-8")
    for vars_file in (tmp_path / "absent.json", broken):
        build = last_build(vars_file, tmp_path / "manifest.json")
        assert build.changed_kpis is None
        assert build.kpis_to_check("fct_kpi_values", {"fct_kpi_values": "x"}) is None


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with platform_env(tmp_path_factory.mktemp("incremental_checks") / "data") as data:
        yield data


def _append(layout: Layout, records: list[Rec], night: int) -> None:
    EventLog(layout.events_dir).append(
        KPI_VALUE, records_to_table(records), batch_id=f"99990101T0000000000{night:02d}Z_chk",
        snapshot=None, scope_source="test://incremental-checks")


def _gx(layout: Layout) -> dict[str, SuiteResult]:
    """The GX step as assets/checks.py runs it after the build."""
    return {r.mart: r for r in run_warehouse_suites(
        layout.warehouse_path, GX_MARTS, previous_manifest=None,
        build=last_build(layout.build_vars_file, layout.dbt_target_dir / "manifest.json"),
        passed_file=layout.gx_passed_file)}


def _compiled(builder: Builder, test_name: str) -> str:
    """The SQL the last build ran for the test (dbt shortens long names of compiled files)."""
    results = json.loads((builder.target / "run_results.json").read_text(encoding="utf-8"))
    (sql,) = [r["compiled_code"] for r in results["results"]
              if r["unique_id"].split(".")[2].startswith(test_name)]
    return sql


def _shares_outcome(result: SuiteResult):
    return next(o for o in result.outcomes if o.expectation == "shares_within_bounds")


def test_checks_follow_an_incremental_build(data_dir: Path) -> None:
    assert main(["ingest", "--source", "sample", "-q"]) == 0
    layout = Layout(data_dir)
    builder = Builder(data_dir, tests=True)

    # A full build: every test and check reads the whole mart
    assert not builder.build().incremental
    assert "kpi_id in" not in _compiled(builder, KEY_TEST)
    gx = _gx(layout)
    assert all(r.passed and r.custom_rows is None for r in gx.values()), gx
    with duckdb.connect(str(layout.warehouse_path), read_only=True) as con:
        share = con.execute(
            "select min(kpi_id) from dim_kpi where unit = 'andel (%)' and kpi_id != ? "
            "and kpi_id in (select kpi_id from fct_kpi_values)", [SCORED_KPI]).fetchone()[0]
    assert share is not None

    # Night 1: a new year of one KPI. Its tests read that KPI; a test across KPIs reads all
    _append(layout, [value(SCORED_KPI, m, 2031, 50.0 + i)
                     for i, m in enumerate(("1784", "0180", "1280", "1480"))], 1)
    assert builder.build().changed_kpis == (SCORED_KPI,)
    assert f"kpi_id in ('{SCORED_KPI}')" in _compiled(builder, KEY_TEST)
    assert "kpi_id in" not in _compiled(builder, ACROSS_KPIS_TEST)
    gx = _gx(layout)
    assert all(r.passed for r in gx.values()), [r.summary() for r in gx.values()]
    fct = gx["fct_kpi_values"]
    assert fct.custom_kpis == 1 and 0 < fct.custom_rows < fct.rows
    assert gx["mart_kkik_colour_counts"].custom_rows is None  # rebuilt whole

    # Night 2: a share above 100 % in a changed KPI fails the GX check that read only it
    _append(layout, [value(share, "1784", 2031, 250.0)], 2)
    assert builder.build().changed_kpis == (share,)
    gx = _gx(layout)
    assert gx["fct_kpi_values"].custom_kpis == 1 and not gx["fct_kpi_values"].passed
    outcome = _shares_outcome(gx["fct_kpi_values"])
    assert not outcome.success and outcome.sample[0]["kpi_id"] == share

    # Night 3: withdrawn; the suite failed last time, so it reads the whole mart again
    _append(layout, [value(share, "1784", 2031, None, deleted=True)], 3)
    assert builder.build().changed_kpis == (share,)
    gx = _gx(layout)
    assert gx["fct_kpi_values"].passed and gx["fct_kpi_values"].custom_rows is None

    # Night 4: a year out of range in a changed KPI fails the dbt build's filtered test
    _append(layout, [value(SCORED_KPI, "1784", 2200, 1.0)], 4)
    assert builder.build(expect_success=False).changed_kpis == (SCORED_KPI,)
    assert builder.last is not None and builder.last.returncode != 0
    assert "accepted_range_fct_kpi_values_period" in builder.last.stdout
    # ... and a failed build is not recorded: the next one is full and reads everything
    _append(layout, [value(SCORED_KPI, "1784", 2200, None, deleted=True)], 5)
    assert not builder.build().incremental
    assert "kpi_id in" not in _compiled(builder, KEY_TEST)
    assert all(r.passed for r in _gx(layout).values())

    # A bad row planted in an UNCHANGED KPI's partition (no build writes such a row) ...
    with duckdb.connect(str(layout.warehouse_path)) as con:
        con.execute("update fct_kpi_values set value = 250, gender = 'X' where rowid = "
                    "(select min(rowid) from fct_kpi_values where kpi_id = ?)", [share])
    # ... is not read by the next incremental build's checks: what they save, and their limit
    _append(layout, [value(SCORED_KPI, "1784", 2023, 77.7)], 6)
    assert builder.build().changed_kpis == (SCORED_KPI,)
    gx = _gx(layout)
    assert gx["fct_kpi_values"].passed and gx["fct_kpi_values"].custom_kpis == 1

    # ... and is found by the same checks on the full path (the vars file of a full build)
    content = json.loads(layout.build_vars_file.read_text(encoding="utf-8"))
    layout.build_vars_file.write_text(json.dumps({**content, "incremental_kpis": None,
                                                  "build_id": "full", "previous_build_id": None}),
                                      encoding="utf-8")
    done = subprocess.run(
        [dbt_executable(), "test", "--select", "fct_kpi_values", "--project-dir",
         str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path",
         str(builder.target), "--vars", json.dumps(builder.cli_vars), "--quiet"],
        capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "accepted_values_fct_kpi_values_gender" in done.stdout
    gx = _gx(layout)
    assert gx["fct_kpi_values"].custom_rows is None and not gx["fct_kpi_values"].passed
    assert _shares_outcome(gx["fct_kpi_values"]).sample[0]["kpi_id"] == share

