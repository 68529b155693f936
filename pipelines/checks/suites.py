"""Run the GX suite of every selected published mart on the warehouse, opened once, read-only.

What a suite needs from outside its mart (dim_municipality's codes, dim_kpi's units, the
previous publication's row counts) is read here, so the asset check only turns results into
Dagster records. Read-only and closed at once: dbt owns the warehouse, and even a reader
blocks its writer (the check runs in pool `warehouse`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.checks.changed_kpis import LastBuild, load_passed, record_passed
from pipelines.checks.results import CheckReference, SuiteResult
from pipelines.checks.runner import available_suites, load_suite, run_suite, suite_columns
from pipelines.settings import REPO_ROOT
from pipelines.warehouse.marts import PUBLISHED_MARTS, mart_contracts

EXPECTATIONS_DIR = REPO_ROOT / "expectations"


def suite_marts(expectations_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    """The published marts that have a suite, in dependency order."""
    suites = set(available_suites(expectations_dir))
    return [mart for mart in PUBLISHED_MARTS if mart in suites]


def _reference(
    con: duckdb.DuckDBPyConnection,
    mart: str,
    previous: Mapping[str, Any] | None,
    override_reason: str | None,
) -> CheckReference:
    ids = {row[0] for row in con.execute("select municipality_id from dim_municipality").fetchall()}
    counts = (previous or {}).get("row_counts", {})
    return CheckReference(
        municipality_ids=ids,
        previous_row_count=counts.get(mart),
        row_count_override_reason=override_reason,
        today=date.today(),
        # fct_kpi_values and the peer values carry a kpi_id but no unit column
        kpi_units=dict(con.execute("select kpi_id, unit from dim_kpi").fetchall()),
    )


def run_warehouse_suites(
    warehouse_path: Path,
    marts: Iterable[str],
    *,
    previous_manifest: Mapping[str, Any] | None,
    override_reason: str | None = None,
    expectations_dir: Path = EXPECTATIONS_DIR,
    build: LastBuild | None = None,
    passed_file: Path | None = None,
) -> Iterator[SuiteResult]:
    """One SuiteResult per mart in `marts` (in `suite_marts` order), as each finishes.

    With `build` (what the build vars file says of the last dbt invocation) and `passed_file`
    (pipelines.checks.changed_kpis), a kpi-partitioned mart built incrementally has its custom
    checks read only the changed KPIs, when that is sound; each suite's outcome is recorded
    there. Without them every check reads the whole mart."""
    wanted = set(marts)
    passed = load_passed(passed_file) if passed_file is not None else {}
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        for mart in suite_marts(expectations_dir):
            if mart not in wanted:
                continue
            suite = load_suite(mart, expectations_dir)
            kpis = build.kpis_to_check(mart, passed) if build is not None else None
            df, custom_df = _read_mart(con, mart, suite, kpis)
            result = run_suite(
                mart,
                df,
                expectations_dir=expectations_dir,
                reference=_reference(con, mart, previous_manifest, override_reason),
                custom_df=custom_df,
                custom_kpis=None if kpis is None else len(kpis),
            )
            if passed_file is not None:
                record_passed(passed_file, {mart: result.passed},
                              build.build_id if build is not None else None)
            yield result


def _read_mart(
    con: duckdb.DuckDBPyConnection, mart: str, suite: dict, kpis: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The mart's rows with only the columns the suite checks, plus its contract key (so that a
    failure's sample rows say which rows they are), in the mart's column order. On workload M
    a whole `select *` of the 5.2M-row marts as pandas took the checks past 5 GiB; a suite that
    checks nothing gets the row count and no columns.

    With `kpis` (an incremental build, pipelines.checks.changed_kpis) and custom checks, two
    frames: the whole mart with only the columns of the GX expectations (the row-count band and
    the newest year judge the whole mart), and the custom checks' columns and the key of the
    changed KPIs' rows only. Else one frame for both (None as the second)."""
    columns = [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = 'main' "
        "and table_name = ? order by ordinal_position", [mart]).fetchall()]
    contract = mart_contracts().get(mart)
    key = set(contract.key if contract else ())
    if kpis is None or not suite["custom_checks"] or "kpi_id" not in columns:
        return _select(con, mart, columns, suite_columns(suite) | key,
                       bool(suite["expectations"] or suite["custom_checks"])), None
    whole = _select(con, mart, columns, suite_columns({**suite, "custom_checks": []}),
                    bool(suite["expectations"]))
    changed = _select(con, mart, columns,
                      suite_columns({**suite, "expectations": []}) | key, True, kpis)
    return whole, changed


def _select(con: duckdb.DuckDBPyConnection, mart: str, columns: list[str], wanted: set[str],
            checks_something: bool, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    selected = [c for c in columns if c in wanted]
    # the KPI ids go in as a parameter
    where, params = ("", []) if kpis is None else (_CHANGED_KPIS_ONLY, [list(kpis)])
    if not checks_something or not selected:
        (rows,) = con.execute(f'select count(*) from "{mart}"' + where, params).fetchone()
        return pd.DataFrame(index=pd.RangeIndex(rows))
    names = ", ".join(f'"{c}"' for c in selected)
    return con.execute(f'select {names} from "{mart}"' + where, params).df()


_CHANGED_KPIS_ONLY = " where kpi_id in (select unnest(?))"
