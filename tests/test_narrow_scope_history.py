"""Issue 31, item 6: a valid narrow KK_CONFIG scope must be able to publish. With 3 KPIs, 8
kommuner and 2021-2024, every refresh stopped at `not_null_where_..._profile_note__composite_
score_is_null` in mart_kvalitetskommun_history: an award kommun outside the scope has a
profile row (mart_quality_profile has one per kommun and year) but no composite score, and its
row said nothing about why.

The real model and its real dbt tests (and the real seed), run by dbt over the quality profile
as a few narrow scopes make it: `dbt build` of the seed and the mart only, on a warehouse whose
mart_quality_profile is that scope's (typed by its contract), so no full build is needed. (The
whole narrow refresh, ingest to publication, was measured by hand: see the closing note.)"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.marts import mart_contracts

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
SEED = DBT_PROJECT / "seeds" / "kvalitetskommun_history.csv"
SCOPED = ["1784", "1780", "1715", "1730", "1760", "1785", "0180", "1480"]


def _award_kommuner() -> set[str]:
    with SEED.open(encoding="utf-8", newline="") as handle:
        return {row["municipality_id"] for row in csv.DictReader(handle)}


def _profile(years: range, scoped: list[str]) -> list[dict]:
    """mart_quality_profile of a narrow scope: a row per kommun and year (as the mart has for
    all 290), a composite only for the kommuner in scope."""
    rows = []
    rank = {kommun: n for n, kommun in enumerate(scoped, start=1)}
    for year in years:
        for kommun in sorted(_award_kommuner() | set(scoped)):
            inside = kommun in rank
            rows.append({
                "municipality_id": kommun, "year": year,
                "composite_score": 100.0 - rank[kommun] if inside else None,
                "results_score": 90.0 - rank[kommun] if inside else None,
                "profile_rank": rank.get(kommun),
                "profile_ranked_count": len(scoped),
            })
    return rows


SCOPES = {
    # the probe's: 3 KPIs, 8 kommuner, 2021-2024 (the 2023 winner and nominees, the 2025
    # winner: profile rows without a composite)
    "8-kommuner-2021-2024": _profile(range(2021, 2025), SCOPED),
    # only recent years: every award before 2025 has no profile year at all
    "8-kommuner-2024-2025": _profile(range(2024, 2026), SCOPED),
    # one kommun that is an award kommun itself
    "one-award-kommun": _profile(range(2016, 2026), ["1284"]),
    # every award kommun in scope: nothing to explain
    "all-award-kommuner": _profile(range(2016, 2026), sorted(_award_kommuner())),
}


def _warehouse(path: Path, rows: list[dict]) -> None:
    columns = mart_contracts()["mart_quality_profile"].columns
    with duckdb.connect(str(path)) as con:
        # the relationship test's parent: every kommun the profile names
        con.execute("create table main.dim_municipality (municipality_id varchar)")
        con.executemany("insert into main.dim_municipality values (?)",
                        [[k] for k in sorted({r["municipality_id"] for r in rows})])
        con.execute("create table main.mart_quality_profile (" + ", ".join(
            f'"{c.name}" {c.data_type}' for c in columns) + ")")
        for row in rows:
            names = list(row)
            con.execute(f"insert into main.mart_quality_profile ({', '.join(names)}) values "
                        f"({', '.join('?' for _ in names)})", [row[n] for n in names])


def _dbt_build(folder: Path, rows: list[dict]) -> subprocess.Popen:
    folder.mkdir()
    _warehouse(folder / "warehouse.duckdb", rows)
    dbt_vars = {"warehouse_path": str(folder / "warehouse.duckdb"),
                "events_dir": str(folder / "events")}
    args = [
        str(Path(sys.executable).with_name("dbt")), "build", "--quiet",
        "--select", "kvalitetskommun_history mart_kvalitetskommun_history",
        "--exclude-resource-type", "unit_test",
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(folder / "target"), "--log-path", str(folder / "logs"),
        "--vars", json.dumps(dbt_vars),
    ]
    env = {**os.environ, "KK_DATA_DIR": str(folder), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict, str]]:
    root = tmp_path_factory.mktemp("narrow")
    procs = {name: _dbt_build(root / name, rows) for name, rows in SCOPES.items()}
    out = {}
    for name, proc in procs.items():
        log = proc.communicate(timeout=600)[0].decode(errors="replace")
        results = root / name / "target" / "run_results.json"
        assert results.exists(), log[-3000:]
        statuses = {r["unique_id"]: r["status"]
                    for r in json.loads(results.read_text(encoding="utf-8"))["results"]}
        out[name] = (root / name, statuses, log)
    return out


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_narrow_scope_passes_every_test_of_the_history_mart(builds, scope: str) -> None:
    folder, statuses, log = builds[scope]
    tests = {u: s for u, s in statuses.items() if u.startswith("test.")}
    assert any("not_null_where_mart_kvalitetskommun_history_profile_note" in u for u in tests)
    assert {u: s for u, s in statuses.items() if s not in ("pass", "success")} == {}, log[-2000:]
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        unexplained = con.execute(
            "select count(*) from main.mart_kvalitetskommun_history "
            "where composite_score is null and profile_note is null").fetchone()[0]
        notes = dict(con.execute(
            "select profile_note, count(*) from main.mart_kvalitetskommun_history "
            "group by 1").fetchall())
    assert unexplained == 0
    if scope == "all-award-kommuner":
        assert set(notes) <= {None, "no profile year before the award within the ingest scope"}
    else:
        # a narrow scope leaves award years without a complete profile year before them (the
        # history reads complete years only, docs/indicators.md) or without a score: each
        # such row says which
        assert set(notes) - {None} and set(notes) - {None} <= {
            "no profile year before the award within the ingest scope",
            "the kommun has no profile row that year",
            "the kommun has no composite score that year (no results within the ingest scope)"}
