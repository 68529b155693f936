"""`make bench`: the twelve steps of issue 13, measured in one run, printed and saved.

Every platform step is its own `python -m pipelines.cli ...` process (the real CLI, Dagster
and client) against the bench server on 127.0.0.1 with the throttle off (KOLADA_MAX_RPS very
high; the bench server has none). Ratios are to the limit of the same run, so a busy machine
shifts every row alike; the load average before and after each step is recorded.

  python -m bench.run --workload S            (M is the default)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.pages import BENCH_DIR, ensure_cache
from bench.report import Row, render_table, targets
from bench.sampler import Measured, measure
from bench.server import BenchKoladaServer
from bench.steps import (
    SAMPLE_ASSESSMENT,
    nightly_history,
    publication_disk,
    run_id_of,
    slice_configs,
    step_windows,
    value_set_difference,
)
from bench.workload import WORKLOADS
from pipelines.settings import REPO_ROOT

RESULTS_DIR = BENCH_DIR / "results"
DBT_STEP, GX_STEP = "warehouse_models", "gx_suites"


class Bench:
    def __init__(self, workload: str, work: Path, timeout: float, profile: bool = False,
                 max_rss: int | None = None) -> None:
        self.workload = workload
        self.max_rss = max_rss
        self.failed: set[int] = set()
        self.profile = profile
        self.work = work
        self.timeout = timeout
        self.rows: list[Row] = []
        self.extra: dict[str, Any] = {}

    def env(self, data_dir: Path, server: BenchKoladaServer, scb_url: str, config: Path
            ) -> dict[str, str]:
        env = dict(os.environ)
        venv_bin = str(Path(sys.executable).parent)
        env.update(
            PATH=f"{venv_bin}:{env.get('PATH', '')}",  # dagster-dbt runs the `dbt` it finds
            PYTHONPATH=str(REPO_ROOT), KK_DATA_DIR=str(data_dir),
            DAGSTER_HOME=str(data_dir / "dagster"), KK_CONFIG=str(config), KK_SOURCE="live",
            KOLADA_BASE_URL=server.base_url, KOLADA_MAX_RPS="1000000", SCB_BASE_URL=scb_url,
            GX_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        return env

    def step(self, number: int, name: str, cmd: list[str], env: dict[str, str],
             needs: tuple[int, ...] = ()) -> Measured | None:
        """Measure one step; skipped (None) when a step it builds on failed."""
        if broken := [n for n in needs if n in self.failed]:
            self.failed.add(number)
            self.rows.append(Row(number, name, None, None, f"skipped: step {broken[0]} failed",
                                 (0.0, 0.0)))
            print(f"[bench] {number:>2}. {name}: skipped (step {broken[0]} failed)", flush=True)
            return None
        print(f"[bench] {number:>2}. {name} ...", flush=True)
        slug = f"{number:02d}-{name.split(' (')[0].replace(' ', '_').replace(',', '')}"
        if self.profile:  # py-spy samples the step and its subprocesses (dbt) at 20 Hz
            profiles = self.work / "profiles"
            profiles.mkdir(parents=True, exist_ok=True)
            cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                   "-r", "20", "--subprocesses", "-o", str(profiles / f"{slug}.txt"), "--",
                   *cmd]
        m = measure(cmd, env=env, cwd=str(REPO_ROOT), timeout=self.timeout,
                    max_rss=self.max_rss)
        log = self.work / "logs" / f"{slug}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(cmd)}\n{m.stdout}\n--- stderr ---\n{m.stderr}")
        status = m.killed or ("ok" if m.returncode == 0 else f"exit {m.returncode}")
        if status != "ok":
            self.failed.add(number)
        self.rows.append(Row(number, name, m.wall, m.peak_rss, status, m.load, m.peak_rss_sum))
        print(f"[bench]     {status} in {m.wall:.1f} s, peak {m.peak_rss / 2**20:,.0f} MiB "
              f"(PSS; RSS sum {m.peak_rss_sum / 2**20:,.0f}) "
              f"(load {m.load[0]:.2f} -> {m.load[1]:.2f}); log {log}", flush=True)
        return m

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "pipelines.cli", *args]


def run(workload: str, work: Path, timeout: float, peer: str, profile: bool = False,
        max_rss: int | None = None) -> dict[str, Any]:
    from pipelines.sample.scb_server import SampleScbServer

    cache, manifest = ensure_cache(workload, WORKLOADS[workload])
    config = cache / "config.yaml"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bench = Bench(workload, work, timeout, profile, max_rss)
    a, b = work / "A", work / "B"
    with BenchKoladaServer(cache) as server, SampleScbServer(day=1) as scb:
        env_a = bench.env(a, server, scb.base_url, config)
        env_b = bench.env(b, server, scb.base_url, config)
        limit_out = work / "limit.parquet"
        bench.step(1, "the limit (read_json -> Parquet)",
                   [sys.executable, "-m", "bench.limit", str(cache), str(limit_out)], env_a)
        bench.step(2, "full ingest over HTTP", bench.cli("ingest"), env_a)
        if 2 not in bench.failed:
            from pipelines.eventlog.store import EventLog
            from pipelines.sources.kolada.streams import KPI_VALUE

            bench.extra["value_set"] = value_set_difference(
                EventLog(a / "events").glob(KPI_VALUE), limit_out)
            print(f"[bench]     value set vs the limit: {bench.extra['value_set']}", flush=True)
        bench.step(3, "incremental re-ingest, no change", bench.cli("ingest"), env_a, (2,))
        bench.step(4, "full re-ingest, no change", bench.cli("ingest", "--full"), env_a, (2,))
        server.state = "rev1"
        bench.step(5, "re-ingest, 1 % revised (from_date)", bench.cli("ingest"), env_a, (2,))
        nights = sorted(s for s in manifest["states"] if s.startswith("night"))
        if 2 not in bench.failed:
            started = time.monotonic()
            bench.extra["history"] = nightly_history(server, server.base_url, a, config, nights)
            bench.extra["history_seconds"] = round(time.monotonic() - started, 1)
        server.state = nights[-1]
        bench.step(6, "full no-change re-ingest after 30 nights", bench.cli("ingest", "--full"),
                   env_a, (2,))
        if 2 in bench.failed:
            _seed_in_slices(bench, env_a, cache, config)
            if "seeded" in bench.extra:  # the same assertion, on the log seeded in slices
                from pipelines.eventlog.store import EventLog
                from pipelines.sources.kolada.streams import KPI_VALUE

                bench.extra["value_set"] = {**value_set_difference(
                    EventLog(a / "events").glob(KPI_VALUE), limit_out), "seeded": True}
                print(f"[bench]     value set vs the limit (seeded log): "
                      f"{bench.extra['value_set']}", flush=True)
        built = bench.step(0, "build (dbt + checks)", bench.cli("build"), env_a,
                           () if "seeded" in bench.extra else (2,))
        _phases(bench, built, a)
        bench.step(9, "publish", bench.cli("publish"), env_a, (0,))
        server.state = "base"
        bench.step(10, "end to end (refresh, empty data dir)", bench.cli("refresh"), env_b)
        bench.step(11, "a night with nothing new (refresh)", bench.cli("refresh"), env_b, (10,))
        _realistic_nights(bench, server, env_b, b, manifest)
        _peer(bench, server, cache, peer)
    # issue 30: steps 16-18, Kolada unit values ingested, built and published, in a data dir
    # and servers of their own (bench/unit_steps.py; BENCH_UNITS=0 skips them)
    from bench.unit_steps import run_unit_steps
    run_unit_steps(bench, workload)
    return _result(bench, manifest)


def _seed_in_slices(bench: Bench, env: dict[str, str], cache: Path, config: Path) -> None:
    """When the full ingest cannot run (killed over the RSS cap), seed the same log through
    the real CLI in KPI slices, so that dbt, the checks and publish are still measured at this
    size. Not measured itself; the rows that build on it say so."""
    kpi_ids = json.loads((cache / "meta" / "kpi-1.json").read_text(encoding="utf-8"))["values"]
    slices = slice_configs(config, sorted(k["id"] for k in kpi_ids), bench.work)
    started = time.monotonic()
    print(f"[bench]     seeding the log in {len(slices)} KPI slices (not measured) ...",
          flush=True)
    for path in slices:
        m = measure(bench.cli("ingest"), env={**env, "KK_CONFIG": str(path)},
                    cwd=str(REPO_ROOT), timeout=bench.timeout, max_rss=bench.max_rss)
        if m.returncode != 0:
            print(f"[bench]     seeding failed at {path.name}: {m.killed or m.returncode}",
                  flush=True)
            return
    bench.extra["seeded"] = {"slices": len(slices),
                             "seconds": round(time.monotonic() - started, 1)}


def _phases(bench: Bench, built: Measured | None, data_dir: Path) -> None:
    """Steps 7 (dbt) and 8 (GX) are the two phases of one `build` run: their windows come
    from the run's step events, their peaks from the samples inside each window."""
    build_row = bench.rows.pop()
    if built is None:
        for number, name in ((7, "dbt build (models + dbt tests)"), (8, "checks (GX suites)")):
            bench.rows.append(Row(number, name, None, None, build_row.status, build_row.load))
        return
    bench.extra["build_total"] = {"wall": built.wall, "peak_rss": built.peak_rss}
    run_id = run_id_of(built.stdout)
    windows = step_windows(data_dir, data_dir / "dagster", run_id)
    for number, name, key in ((7, "dbt build (models + dbt tests)", DBT_STEP),
                              (8, "checks (GX suites)", GX_STEP)):
        if key in windows:
            start, end = windows[key]
            status = build_row.status + (" (log seeded in slices)" if "seeded" in bench.extra
                                         else "")
            bench.rows.append(Row(number, name, end - start, built.peak_between(start, end),
                                  status, build_row.load))
        else:
            bench.rows.append(Row(number, name, None, None, f"no step {key} ({build_row.status})",
                                  build_row.load))


def _realistic_nights(bench: Bench, server: BenchKoladaServer, env: dict[str, str],
                      data_dir: Path, manifest: dict[str, Any]) -> None:
    """Steps 13-15 on the full log of step 10: the first realistic night, an analyst's import
    of one Kommunkompassen file, then the other realistic nights, each end to end (ingest,
    build, checks, publish); the publication's disk is read after the first night and at
    the end (`du` semantics: a file linked into several versions counts once)."""
    nights = sorted(s for s in manifest["states"] if s.startswith("real"))
    if not nights:
        return
    published = data_dir / "published"
    bench.extra["publication"] = {"after_full_night": publication_disk(published)}
    server.state = nights[0]
    bench.step(13, "a realistic night (refresh)", bench.cli("refresh"), env, (10,))
    assessment = bench.work / "kommunkompassen_exempel_2020.csv"
    shutil.copyfile(SAMPLE_ASSESSMENT, assessment)
    bench.step(14, "import one assessment file (end to end)",
               bench.cli("import", str(assessment)), env, (10,))
    walls = []
    for n, state in enumerate(nights[1:], start=2):
        server.state = state
        m = bench.step(15, f"realistic night {n} (refresh)", bench.cli("refresh"), env, (10,))
        if m is None or bench.rows[-1].status != "ok":
            break
        walls.append(bench.rows.pop())
    if walls:  # one row: the mean of the nights after the first, each measured on its own
        mean = sum(r.wall or 0.0 for r in walls) / len(walls)
        peak = max(r.peak_rss or 0 for r in walls)
        bench.rows.append(Row(15, f"realistic nights 2-{len(walls) + 1} (mean per night)",
                              mean, peak, "ok", (walls[0].load[0], walls[-1].load[1])))
        bench.extra["realistic_nights"] = [{"wall": r.wall, "peak_rss": r.peak_rss}
                                           for r in walls]
    bench.extra["publication"].update(after_nights=publication_disk(published),
                                      nights=len(walls) + 1)


def _peer(bench: Bench, server: BenchKoladaServer, cache: Path, mode: str) -> None:
    from bench.peer import ensure_peer_venv, peer_command

    if mode == "0":
        bench.rows.append(Row(12, "peer: dlt rest_api -> DuckDB", None, None, "skipped "
                              "(BENCH_PEER=0)", (0.0, 0.0)))
        return
    python, why = ensure_peer_venv()
    if python is None:
        bench.rows.append(Row(12, "peer: dlt rest_api -> DuckDB", None, None,
                              f"skipped: {why}", (0.0, 0.0)))
        return
    env = dict(os.environ, RUNTIME__DLTHUB_TELEMETRY="false", DLT_TELEMETRY="false")
    bench.step(12, "peer: dlt rest_api -> DuckDB",
               peer_command(python, server.base_url, cache, bench.work / "peer"), env)


def _result(bench: Bench, manifest: dict[str, Any]) -> dict[str, Any]:
    bench.rows.sort(key=lambda r: r.number)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False,
                            cwd=REPO_ROOT,
                            capture_output=True, text=True).stdout.strip()
    return {
        "workload": bench.workload, "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit, "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                   "machine": platform.machine()},
        "world": manifest, "steps": [r.as_dict() for r in bench.rows],
        "targets": targets(bench.rows, bench.workload, bench.extra), "profiled": bench.profile,
        **bench.extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="M")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch data dirs (default /tmp/kk-bench-<workload>)")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get(
        "BENCH_TIMEOUT", "1200")), help="per-step timeout in seconds (recorded as timed out)")
    parser.add_argument("--peer", choices=("0", "1", "auto"),
                        default=os.environ.get("BENCH_PEER", "auto"))
    parser.add_argument("--max-rss-gib", type=float, default=float(os.environ.get(
        "BENCH_MAX_RSS_GIB", "8")), help="kill a step whose process tree passes this (recorded)")
    parser.add_argument("--profile", action="store_true",
                        help="record a py-spy profile of every step (timings are distorted; "
                        "the result is marked profiled)")
    args = parser.parse_args(argv)
    work = args.work or Path(f"/tmp/kk-bench-{args.workload}")
    result = run(args.workload, work, args.timeout, args.peer, args.profile,
                 int(args.max_rss_gib * 2**30))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "-profiled" if args.profile else ""
    out = RESULTS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.workload}{suffix}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print()
    print(render_table(result))
    print(f"\nwritten to {out}")
    value_set = result.get("value_set", {})
    return 0 if value_set.get("only_in_ingest") == value_set.get("only_in_limit") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
