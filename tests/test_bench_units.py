"""The unit workload (bench/units.py, bench/unit_steps.py) cannot silently rot: a tiny run ingests
every value of its world, and a second full fetch appends nothing; the unit steps of `make bench`
build their world over the units of each KPI's kind, run the real CLI and read their figures.
Nothing here times anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.units import main


def test_bench_units_ingests_its_world_then_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--kpis", "3", "--units", "30", "--years", "4"])
    out = json.loads(capsys.readouterr().out)
    assert out["values"] == 3 * 30 * 4
    assert out["full"]["appended"] == 360 and out["no_change"]["appended"] == 0
    assert out["full"]["requests"] == 1  # 3 KPIs x 4 years: one request, every unit, one page


# -- the unit steps of make bench (bench/unit_steps.py) ---------------------------------------

def test_the_unit_bench_world_puts_each_kpi_over_the_units_of_its_kind() -> None:
    from bench.unit_steps import unit_bench_world
    from pipelines.sample.units import KPI_KINDS

    w = unit_bench_world(3, (2023, 2024), ["1780", "1784"])
    kinds = set(KPI_KINDS.values())
    assert len(w.units) == 3 * len(kinds) and len(w.values) == 3 * len(KPI_KINDS) * 2
    assert all(ou.startswith(KPI_KINDS[kpi]) for kpi, ou, _ in w.values)
    assert all(re.fullmatch(r"V\d{2}[A-Z]\S+", u["id"]) for u in w.units)
    assert {u["municipality"] for u in w.units} == {"1780", "1784"}
    assert all(u["id"][4:8] == u["municipality"] for u in w.units)  # Kolada's id shape
    again = unit_bench_world(3, (2023, 2024), ["1780", "1784"])
    assert again.values == w.values and again.units == w.units
    with pytest.raises(ValueError, match="at least one unit"):
        unit_bench_world(0, (2024,), ["1780"])


def test_dbt_node_seconds_are_read_from_dbt_s_own_log_lines() -> None:
    from bench.unit_steps import UNIT_NODE_RE, dbt_node_seconds

    log = (
        "12:00:01  179 of 665 OK created sql table model main.mart_revisions ......... "
        "[\x1b[32mOK\x1b[0m in 0.76s]\n"
        "12:00:02  294 of 665 OK created sql table model main.mart_unit_scorecard .... "
        "[\x1b[32mOK\x1b[0m in 12.50s]\n"
        "12:00:03  287 of 665 PASS mart_unit_scorecard::test_unit_scorecard_ranks ... "
        "[\x1b[32mPASS\x1b[0m in 0.73s]\n"
        "12:00:04  1 of 665 START sql table model main.int_ou_values_current ........ [RUN]\n"
        "12:00:05  18 of 665 OK loaded seed file main.unit_kinds ................... "
        "[\x1b[32mINSERT 7\x1b[0m in 0.03s]\n")
    nodes = dbt_node_seconds(log)
    assert len(nodes) == 4  # a START line has no time
    unit = sum(s for what, s in nodes.items() if UNIT_NODE_RE.search(what))
    assert unit == pytest.approx(12.50 + 0.73 + 0.03)


def test_figures_say_the_unit_cost_per_million_against_the_municipal_steps(
        tmp_path: Path) -> None:
    from bench.report import Row, unit_figures_line
    from bench.unit_steps import figures, unit_bench_world

    w = unit_bench_world(50, tuple(range(2015, 2025)), ["1780", "1784"])  # 4,500 values
    rows = {n: Row(n, str(n), wall, 1, "ok", (0.0, 0.0)) for n, wall in
            ((2, 10.0), (7, 50.0), (8, 10.0), (9, 30.0), (16, 0.9), (17, 1.8), (18, 0.45))}
    f = figures(tmp_path, w, rows, municipal_values=1_000_000)
    assert f["unit_values"] == 4_500
    assert f["per_million_unit_values"] == {"ingest_s": 200.0, "build_s": 400.0,
                                            "publish_s": 100.0}
    # per million: units 200 s vs 10 s ingest, 400 vs 60 build, 100 vs 30 publish
    assert f["per_million_against_municipal"] == {"ingest": 20.0, "build": 6.67,
                                                  "publish": 3.33}
    assert "ingest 20.0x" in unit_figures_line(f)


def test_the_unit_ingest_step_runs_through_the_cli_and_logs_every_unit_value(
        tmp_path: Path) -> None:
    """Step 16 for real on a tiny world (the sample's municipal values and 2 units of each
    kind over 10 years): measured, ok, and the event log holds exactly the world's unit
    values. The build and publish steps are the platform's own (tested elsewhere)."""
    import duckdb

    from bench.run import Bench
    from bench.unit_steps import FIRST_STEP, run_unit_steps
    from pipelines.eventlog.store import EventLog
    from pipelines.sources.kolada.streams import OU_VALUE

    bench = Bench("units", tmp_path, timeout=300.0)
    run_unit_steps(bench, "S", units_per_kind=2, ingest_only=True)
    (row,) = bench.rows
    assert row.number == FIRST_STEP and row.status == "ok", (tmp_path / "logs").iterdir()
    assert row.wall > 0 and row.peak_rss > 0
    figures = bench.extra["units"]
    assert figures["unit_values"] == 9 * 2 * 10 and figures["units"] == 6 * 2
    log = EventLog(tmp_path / "U" / "events")
    keys = duckdb.connect().execute("select count(distinct entity_key) from read_parquet(?)",
                                    [log.glob(OU_VALUE)]).fetchone()[0]
    assert keys == figures["unit_values"]
    assert figures["event_log_bytes"][OU_VALUE.name] > 0
    assert "dbt_node_seconds" not in figures  # no build ran
