"""Great Expectations suites as blocking Dagster asset checks, one per published mart.

All suites run in one step so the warehouse is opened once (read-only, in pool `warehouse`, so
never while dbt writes). A failing suite blocks everything downstream, the publish asset first
of all; its metadata names the expectation, the count and a sample of offending rows.

No `from __future__ import annotations` here: Dagster resolves the `CheckConfig` annotation of a
multi-asset check at definition time and cannot resolve it from a string.
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import duckdb

from pipelines.checks import CheckReference, SuiteResult, available_suites, run_suite
from pipelines.instance import WAREHOUSE_POOL
from pipelines.marts import PUBLISHED_MARTS
from pipelines.publish.versions import current_manifest
from pipelines.resources import PlatformResource
from pipelines.settings import REPO_ROOT

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
CHECK_NAME = "gx_suite"


class CheckConfig(dg.Config):
    """An operator may accept one sudden row-count drop, with a reason the manifest records."""

    row_count_override_reason: str | None = None


def suite_marts() -> list[str]:
    suites = set(available_suites(EXPECTATIONS_DIR))
    return [mart for mart in PUBLISHED_MARTS if mart in suites]


def gx_check_keys() -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(dg.AssetKey([mart]), CHECK_NAME) for mart in suite_marts()]


def _reference(
    con: duckdb.DuckDBPyConnection, mart: str, previous: dict | None, config: CheckConfig
) -> CheckReference:
    ids = {row[0] for row in con.execute("select municipality_id from dim_municipality").fetchall()}
    counts = (previous or {}).get("row_counts", {})
    return CheckReference(
        municipality_ids=ids,
        previous_row_count=counts.get(mart),
        row_count_override_reason=config.row_count_override_reason,
        today=date.today(),
        # fct_kpi_values and the peer values carry a kpi_id but no unit column
        kpi_units=dict(con.execute("select kpi_id, unit from dim_kpi").fetchall()),
    )


def _result(mart: str, suite: SuiteResult) -> dg.AssetCheckResult:
    failed = [
        {
            "expectation": o.expectation,
            "column": o.column,
            "severity": o.severity,
            "unexpected_count": o.unexpected_count,
            "detail": o.detail,
            "sample": o.sample[:5],
        }
        for o in suite.failures
    ]
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey([mart]),
        check_name=CHECK_NAME,
        passed=suite.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "summary": dg.MetadataValue.md(f"```\n{suite.summary()}\n```"),
            "rows": suite.rows,
            "expectations": len(suite.outcomes),
            "failed": dg.MetadataValue.json(failed),
            "result": dg.MetadataValue.json(suite.to_dict()),
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key.asset_key,
            blocking=True,
            description=f"Great Expectations suite expectations/{key.asset_key.path[-1]}.json",
        )
        for key in gx_check_keys()
    ],
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def gx_suites(
    context: dg.AssetCheckExecutionContext, platform: PlatformResource, config: CheckConfig
) -> Iterator[dg.AssetCheckResult]:
    previous = current_manifest(platform.published_dir)
    selected = {key.asset_key.path[-1] for key in context.selected_asset_check_keys}
    with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
        for mart in suite_marts():
            if mart not in selected:
                continue
            df = con.execute(f'select * from "{mart}"').df()
            suite = run_suite(
                mart,
                df,
                expectations_dir=EXPECTATIONS_DIR,
                reference=_reference(con, mart, previous, config),
            )
            log = context.log.info if suite.passed else context.log.error
            log(suite.summary())
            yield _result(mart, suite)


check_defs = [gx_suites]
