"""What the bench runs besides the measured CLI calls: the 30 nights of history, the limit's
set-equality check, and reading a build's phase timings from the Dagster instance.

All of this runs in the bench's own process and is not measured.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.limit import VALUE_COLUMNS

# The analyst's file of the import step: the sample's Kommunkompassen export (real kommun codes,
# which the bench world's units are).
SAMPLE_ASSESSMENT = (Path(__file__).resolve().parent.parent / "pipelines" / "sample"
                     / "assessments" / "kommunkompassen_exempel_2020.csv")

_RUN_RE = re.compile(r"^run (?P<id>[0-9a-f-]{36}) \(", re.MULTILINE)


def run_id_of(stdout: str) -> str | None:
    """The Dagster run id from the CLI's summary line `run <id> (<job>): ...`."""
    m = _RUN_RE.search(stdout)
    return m["id"] if m else None


def step_windows(data_dir: Path, dagster_home: Path, run_id: str | None
                 ) -> dict[str, tuple[float, float]]:
    """{step key: (first start, last end)} in epoch seconds, from the instance's event log.

    Without a run id (a build killed before its summary line), the instance's latest run: the
    steps it finished before the kill still have their windows."""
    import dagster as dg

    from pipelines.orchestration.instance import shared_instance
    from pipelines.settings import load_settings

    settings = load_settings({"KK_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(dagster_home)})
    instance = shared_instance(settings)
    if run_id is None:
        latest = instance.get_runs(limit=1)
        if not latest:
            return {}
        run_id = latest[0].run_id
    start, end = dg.DagsterEventType.STEP_START, {dg.DagsterEventType.STEP_SUCCESS,
                                                  dg.DagsterEventType.STEP_FAILURE}
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type={start, *end}):
        key, kind = entry.step_key, entry.dagster_event_type
        if key and kind == start:
            starts[key] = min(starts.get(key, entry.timestamp), entry.timestamp)
        elif key:
            ends[key] = max(ends.get(key, entry.timestamp), entry.timestamp)
    instance.dispose()
    # a step with a start and no end was killed mid-way: it has no window to report
    return {k: (starts[k], ends[k]) for k in starts if k in ends}


def value_set_difference(events_glob: str, limit_parquet: Path) -> dict[str, int]:
    """Counts of the ingest's current values, the limit's values and both differences.

    Read right after the first full ingest, when every kpi_value event is an upsert of the
    base state: the set must equal the limit's, value for value.
    """
    import duckdb

    cols = ", ".join(VALUE_COLUMNS)
    sql = f"""
        with ingested as (
            select payload->>'kpi' as kpi, payload->>'municipality' as municipality,
                   (payload->>'period')::bigint as period, payload->>'gender' as gender,
                   (payload->>'value')::double as value, payload->>'status' as status,
                   (payload->>'count')::bigint as count, event_type = 'deleted' as isdeleted
            from read_parquet('{events_glob}')
        ),
        lim as (select {cols} from read_parquet('{limit_parquet}'))
        select (select count(*) from ingested),
               (select count(*) from lim),
               (select count(*) from (select {cols} from ingested except all select {cols} from lim)),
               (select count(*) from (select {cols} from lim except all select {cols} from ingested))
    """
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    ingested, limit, only_ingested, only_limit = con.execute(sql).fetchone()
    return {"ingested": ingested, "limit": limit, "only_in_ingest": only_ingested,
            "only_in_limit": only_limit}


def slice_configs(config: Path, kpi_ids: list[str], out: Path, size: int = 50) -> list[Path]:
    """Scope files that ask for the KPIs in slices of `size` (a multiple of 25, so each
    slice's requests are chunks the cache has pages for), for seeding a log in parts."""
    import yaml

    base = yaml.safe_load(config.read_text(encoding="utf-8"))
    paths = []
    for n, start in enumerate(range(0, len(kpi_ids), size)):
        part = {**base, "kolada": {**base["kolada"], "kpi_groups": [],
                                   "kpis": {"bench_slice": kpi_ids[start:start + size]}}}
        path = out / f"slice-{n:02d}.yaml"
        path.write_text(yaml.safe_dump(part, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def nightly_history(server: Any, base_url: str, data_dir: Path, config: Path,
                    states: list[str]) -> list[dict[str, Any]]:
    """Ingest one incremental value batch per state through the platform's own ingest
    function (no Dagster start-up per night: history is set-up, not a measured step)."""
    from pipelines.eventlog.store import EventLog
    from pipelines.scope import load_scope
    from pipelines.sources.kolada.client import KoladaClient
    from pipelines.sources.kolada.ingest import ingest_values

    log = EventLog(data_dir / "events")
    scope = load_scope(config)
    done = []
    for state in states:
        server.state = state
        with KoladaClient(base_url, max_rps=1e6) as client:
            report = ingest_values(client, log, scope, run_id=f"bench-{state}",
                                   progress=lambda _line: None)
        done.append({"state": state, "mode": report.mode,
                     "appended": report.result.appended,
                     "at": datetime.now(UTC).isoformat(timespec="seconds")})
    return done


def _disk(paths: list[Path]) -> int:
    """Bytes on disk under `paths`, each inode once (what `du` counts: hard links are shared)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root in paths:
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            st = path.lstat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def publication_disk(published: Path) -> dict[str, Any]:
    """The disk of the kept versions together and of the newest one alone, in bytes."""
    versions = sorted(p for p in published.glob("v*") if p.is_dir() and not p.is_symlink())
    if not versions:
        return {"versions": 0, "kept_bytes": 0, "newest_bytes": 0}
    return {"versions": len(versions), "kept_bytes": _disk(versions),
            "newest_bytes": _disk([versions[-1]])}
