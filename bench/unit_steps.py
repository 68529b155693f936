"""The unit steps of `make bench` (issue 30): Kolada unit values ingested, built and published
by the real CLI, measured like every other step, with what they add per million unit values.

Why its own data dir and servers: the bench's municipal world is pre-rendered pages with no
unit endpoints, and the unit marts need a municipal build around them (the kommun's and Riket's
values, the gate's checks on every mart). So the unit steps run the sample's municipal world
(day 1, served by the sample Kolada server) plus a national unit world put in its place: the
sample's nine default unit KPIs (real ids, titles and directions, so the scorecard ranks and
colours them) over `units_per_kind` generated units of each KPI's kind, spread evenly over the
290 kommuner, every year of the scope (dense: the worst case). The sample server renders unit
answers from Python in the bench's own process: its CPU shares the two cores, its memory is not
in the measured PSS.

Steps: 16 the ingest (the sample's municipal values and the unit values), 17 the build (dbt +
checks), 18 the publish. The figures (`units` in the result JSON): values and units, the unit
streams' event log, the warehouse and the unit marts' share of the publication, dbt's
node-seconds of the unit models and their tests (from the build's dbt log), each per million
unit values, and the unit steps against the municipal ones of the same run.

  python -m bench.units --steps --units-per-kind 500      (the unit steps alone, printed)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pipelines.sample.units import KPI_KINDS, UnitValue, UnitWorld
from pipelines.settings import DEFAULT_CONFIG
from pipelines.sources.kolada.streams import KPI_VALUE, OU, OU_VALUE

# Units of each kind per workload: M's 6 kinds x 3,500 = 21,000 units (Kolada has 35,368 of
# all kinds); 9 KPIs x their kind's units x 10 years = 315,000 unit values. Sized for the
# bench's budget: 522,000 (5,800 a kind) took 415 s for the three steps at load 6-11 on the
# shared 2-core machine, the sample's own share of it ~150 s (docs/performance.md, "Units").
UNITS_PER_KIND = {"S": 1_000, "M": 3_500}
FIRST_STEP = 16
# dbt's lines of a finished node, with or without the time of day in front:
# "179 of 665 OK created sql table model main.mart_revisions .... [OK in 0.76s]"
# The dbt nodes of the unit data: its staging, intermediate and mart models and their tests.
UNIT_NODE_RE = re.compile(r"(stg_kolada__ou_|int_ou|int_ous_|mart_unit_|unit_kinds)")
_DBT_LINE_RE = re.compile(
    r"^(?:[\d:.]+\s+)?\d+ of \d+ (?:OK|PASS|WARN) (?P<what>.+?) \.*\s*\[.*? in "
    r"(?P<s>\d+(?:\.\d+)?)s\]",
    re.MULTILINE)
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def unit_bench_world(units_per_kind: int, years: tuple[int, ...], kommuner: list[str],
                     seed: int = 20261207) -> UnitWorld:
    """Every default unit KPI over `units_per_kind` units of its kind, every year (dense).

    Unit i of a kind lies in kommun i % len(kommuner), with the id shape Kolada uses (kind,
    'E', the kommun's code, a serial), so the marts' id checks and the kind (the id's first
    three characters) hold."""
    import numpy as np

    if units_per_kind < 1 or not years or not kommuner:
        raise ValueError("a unit world needs at least one unit per kind, one year and a kommun")
    kinds = sorted(set(KPI_KINDS.values()))
    units: list[dict[str, str]] = []
    of_kind: dict[str, list[str]] = {}
    for kind in kinds:
        ids = []
        for i in range(units_per_kind):
            kommun = kommuner[i % len(kommuner)]
            ou = f"{kind}E{kommun}B{i:05d}"
            ids.append(ou)
            units.append({"id": ou, "municipality": kommun, "title": f"Bench-enhet {kind} {i}"})
        of_kind[kind] = ids
    rng = np.random.default_rng(seed)
    values: dict[tuple[str, str, int], UnitValue] = {}
    for kpi in sorted(KPI_KINDS):
        ids = of_kind[KPI_KINDS[kpi]]
        drawn = rng.normal(70.0, 10.0, size=(len(ids), len(years))).clip(0, 100).round(1)
        for ou, row in zip(ids, drawn.tolist(), strict=True):
            for year, v in zip(years, row, strict=True):
                values[(kpi, ou, year)] = UnitValue(v, False, 1)
    return UnitWorld(1, tuple(sorted(units, key=lambda u: u["id"])), values)


def scope_years(config: Path) -> tuple[int, ...]:
    years = yaml.safe_load(config.read_text(encoding="utf-8"))["kolada"]["years"]
    return tuple(range(int(years["from"]), int(years["to"]) + 1))


def dbt_node_seconds(dbt_log: str) -> dict[str, float]:
    """Seconds per dbt node line ("... OK created sql table model main.x ... in 1.23s"), by
    the line's description; a node's unit tests and data tests are lines of their own."""
    out: dict[str, float] = {}
    for m in _DBT_LINE_RE.finditer(_ANSI_RE.sub("", dbt_log)):
        out[m["what"].strip()] = out.get(m["what"].strip(), 0.0) + float(m["s"])
    return out


def _bytes(paths: Any) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


def figures(data_dir: Path, world: UnitWorld, rows: dict[int, Any],
            municipal_values: int | None) -> dict[str, Any]:
    """What the unit data added, from the data dir the steps left and their rows."""
    values = len(world.values)
    per_m = values / 1e6
    out: dict[str, Any] = {"unit_values": values, "units": len(world.units),
                           "kpis": len(KPI_KINDS)}
    events = data_dir / "events"
    out["event_log_bytes"] = {s: _bytes((events / s).rglob("*"))
                              for s in (OU.name, OU_VALUE.name, KPI_VALUE.name)}
    warehouse = data_dir / "warehouse.duckdb"
    out["warehouse_bytes"] = warehouse.stat().st_size if warehouse.exists() else None
    current = data_dir / "published" / "current"
    if current.exists():
        every = [p for p in current.rglob("*") if p.is_file()]
        unit_files = [p for p in every if p.name.startswith("mart_unit_")]
        out["publication_bytes"] = _bytes(every)
        out["unit_marts_bytes"] = _bytes(unit_files)
        out["unit_marts_bytes_by_format"] = {
            fmt: _bytes(p for p in unit_files if p.suffix == f".{fmt}")
            for fmt in ("parquet", "csv", "xlsx")}
    logs = sorted((data_dir / "logs" / "dbt").glob("*.log"), key=lambda p: p.stat().st_mtime)
    if logs:
        nodes = dbt_node_seconds(logs[-1].read_text(encoding="utf-8", errors="replace"))
        unit = sum(s for what, s in nodes.items() if UNIT_NODE_RE.search(what))
        out["dbt_node_seconds"] = {
            "all": round(sum(nodes.values()), 1), "unit_nodes": round(unit, 1),
            "mart_revisions": round(sum(s for w, s in nodes.items()
                                        if re.search(r"\bmain\.mart_revisions\b", w)), 1)}
        out["dbt_unit_node_seconds_per_million"] = round(unit / per_m, 1) if per_m else None
    ingest, build, publish = (rows.get(FIRST_STEP + i) for i in range(3))
    out["per_million_unit_values"] = {
        name: round(row.wall / per_m, 1) if row is not None and row.wall and per_m else None
        for name, row in (("ingest_s", ingest), ("build_s", build), ("publish_s", publish))}
    if municipal_values:
        # each unit step's cost per million values against the municipal step of the same run
        # (2 full ingest, 7+8 dbt and checks, 9 publish): above 1, a unit value costs more
        out["municipal_values"] = municipal_values
        m_per = municipal_values / 1e6

        def walls(*numbers: int) -> float | None:
            found = [rows.get(n) for n in numbers]
            if any(r is None or r.wall is None or r.status.split(" ")[0] != "ok" for r in found):
                return None
            return sum(r.wall for r in found)

        against = {}
        for name, unit_row, municipal in (("ingest", ingest, walls(2)),
                                          ("build", build, walls(7, 8)),
                                          ("publish", publish, walls(9))):
            if unit_row is None or unit_row.wall is None or not municipal or not per_m:
                against[name] = None
            else:
                against[name] = round((unit_row.wall / per_m) / (municipal / m_per), 2)
        out["per_million_against_municipal"] = against
    return out


def run_unit_steps(bench: Any, workload: str, units_per_kind: int | None = None, *,
                   ingest_only: bool = False) -> None:
    """Steps 16-18 in `bench.work / "U"`, appended to `bench.rows`; figures in
    `bench.extra["units"]`. BENCH_UNITS=0 records them as skipped; `ingest_only` runs step 16
    alone (the harness's own test: a build and a publish take minutes)."""
    import os

    from bench.report import Row, unit_figures_line

    if os.environ.get("BENCH_UNITS", "1") == "0":
        for i, name in enumerate(("units: ingest", "units: build (dbt + checks)",
                                  "units: publish")):
            bench.rows.append(Row(FIRST_STEP + i, name, None, None, "skipped (BENCH_UNITS=0)",
                                  (0.0, 0.0)))
        return
    from pipelines.sample.generator import world as sample_world
    from pipelines.sample.scb_server import SampleScbServer
    from pipelines.sample.server import SampleKoladaServer

    per_kind = units_per_kind or UNITS_PER_KIND.get(workload, UNITS_PER_KIND["S"])
    data_dir = bench.work / "U"
    config = DEFAULT_CONFIG
    kommuner = sorted(m["id"] for m in sample_world(1).municipalities if m["type"] == "K")
    world = unit_bench_world(per_kind, scope_years(config), kommuner)
    label = f"{len(world.values):,} unit values"
    print(f"[bench] units: {len(world.units):,} units x {len(KPI_KINDS)} KPIs = {label} "
          f"(+ the sample's municipal world) in {data_dir}", flush=True)
    with SampleKoladaServer(day=1) as server, SampleScbServer(day=1) as scb:
        server.answerer.units = world
        env = bench.env(data_dir, server, scb.base_url, config)
        n = FIRST_STEP
        bench.step(n, f"units: ingest (sample + {label})", bench.cli("ingest"), env)
        if not ingest_only:
            bench.step(n + 1, "units: build (dbt + checks)", bench.cli("build"), env, (n,))
            bench.step(n + 2, "units: publish", bench.cli("publish"), env, (n + 1,))
    rows = {r.number: r for r in bench.rows}
    municipal = bench.extra.get("value_set", {}).get("ingested")
    bench.extra["units"] = figures(data_dir, world, rows, municipal)
    print(f"[bench]     units: {unit_figures_line(bench.extra['units'])}", flush=True)
