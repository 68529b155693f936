"""The unit workload (issue 30): a full and a no-change ingest of Kolada unit values through the
real client, parser and event log against the local server, timed, with peak memory.

Unit pages take the bulk Arrow path (ou_values_arrow), with the checked Python path
(records.ou_value_records) for pages it cannot vouch for; their cost per value decides how
many unit KPIs one machine can hold, and this measures it (docs/scaling.md, "Units").

  python -m bench.units --kpis 25 --units 1000 --years 20      (500,000 values)

Prints one JSON line: values, seconds and values/s per stage, and the process's peak RSS.
With --steps, runs instead the unit steps of `make bench` alone (bench/unit_steps.py: ingest,
build and publish through the CLI, measured) and prints their table and figures:

  python -m bench.units --steps --units-per-kind 3500      (M's size)
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from pipelines.eventlog.store import EventLog
from pipelines.sample.profiles import rng_for
from pipelines.sample.server import SampleKoladaServer
from pipelines.sample.units import UnitValue, UnitWorld
from pipelines.scope import IngestScope, UnitScope
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.ou_ingest import ingest_ou_values


def world(kpis: int, units: int, years: int) -> tuple[UnitWorld, list[str], list[int]]:
    """Every unit has a value for every KPI and year (the dense worst case)."""
    kpi_ids = [f"N9{i:04d}" for i in range(kpis)]
    ou_ids = [f"V15EBENCH{i:06d}" for i in range(units)]
    year_list = list(range(2026 - years, 2026))
    r = rng_for("bench-units", kpis, units, years)
    drawn = r.normal(70, 10, size=kpis * units * years).round(1).tolist()
    values, i = {}, 0
    for k in kpi_ids:
        for o in ou_ids:
            for y in year_list:
                values[(k, o, y)] = UnitValue(drawn[i], False, 1)
                i += 1
    meta = tuple({"id": o, "municipality": "1784", "title": f"Bench unit {o}"} for o in ou_ids)
    return UnitWorld(1, meta, values), kpi_ids, year_list


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def steps(units_per_kind: int, work: Path, timeout: float) -> int:
    """The unit steps of `make bench` alone, in `work`; their table and figures printed."""
    import shutil

    from bench.report import render_table
    from bench.run import Bench
    from bench.unit_steps import run_unit_steps

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bench = Bench("units", work, timeout, max_rss=8 * 2**30)
    run_unit_steps(bench, "M", units_per_kind)
    figures = bench.extra["units"]
    world = {"kpis": figures["kpis"], "units": figures["units"], "years": [0, 0],
             "values": figures["unit_values"], "full_pages": 0, "bytes_full": 0}
    print(render_table({"workload": "units", "world": world, "commit": "-", "when": "-",
                        "steps": [r.as_dict() for r in bench.rows], "targets": []}))
    print(json.dumps(figures, indent=2))
    return 1 if bench.failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpis", type=int, default=25)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--steps", action="store_true",
                        help="run the unit steps of make bench alone (ingest, build, publish)")
    parser.add_argument("--units-per-kind", type=int, default=3500)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kk-bench-units"))
    parser.add_argument("--timeout", type=float, default=1200.0)
    args = parser.parse_args(argv)
    if args.steps:
        raise SystemExit(steps(args.units_per_kind, args.work, args.timeout))
    before = peak_mib()
    built = time.perf_counter()
    unit_world, kpi_ids, years = world(args.kpis, args.units, args.years)
    built = time.perf_counter() - built
    scope = IngestScope(kpi_groups=(), kpis=(kpi_ids[0],), kpi_themes={}, municipalities="all",
                        years=tuple(years), networks=(),
                        units=UnitScope({"bench": tuple(kpi_ids)}, "all"))
    out: dict[str, object] = {"values": len(unit_world.values), "world_seconds": round(built, 1),
                              "rss_before_mib": round(before)}
    with tempfile.TemporaryDirectory() as tmp, SampleKoladaServer(day=1) as server, \
            KoladaClient(server.base_url, max_rps=10_000.0) as client:
        server.answerer.units = unit_world
        log = EventLog(Path(tmp) / "events")
        for stage in ("full", "no_change"):
            started = time.perf_counter()
            report = ingest_ou_values(client, log, scope, run_id=f"bench-{stage}", full=True,
                                      progress=lambda _: None)
            seconds = time.perf_counter() - started
            out[stage] = {"seconds": round(seconds, 1), "appended": report.result.appended,
                          "values_per_s": round(len(unit_world.values) / seconds),
                          "requests": report.requests}
        out["peak_rss_mib"] = round(peak_mib())
        out["event_log_mib"] = round(sum(p.stat().st_size for p in Path(tmp).rglob("*")
                                         if p.is_file()) / 2**20, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
