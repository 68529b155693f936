"""Great Expectations suites as blocking Dagster asset checks, one per published mart.

All suites run in one step so the warehouse is opened once (read-only, in pool `warehouse`, so
never while dbt writes). A failing suite blocks everything downstream, the publish asset first
of all; its metadata names the expectation, the count and a sample of offending rows. The work
is in pipelines.checks.suites; this module only turns its results into Dagster records.

No `from __future__ import annotations` here: Dagster resolves the `CheckConfig` annotation of a
multi-asset check at definition time and cannot resolve it from a string.
"""

from collections.abc import Iterator

import dagster as dg

from pipelines import progress
from pipelines.checks import GX_CHECK_NAME, SuiteResult
from pipelines.checks.changed_kpis import last_build
from pipelines.checks.suites import run_warehouse_suites, suite_marts
from pipelines.eventlog.crash import crash_point
from pipelines.orchestration.instance import WAREHOUSE_POOL
from pipelines.orchestration.resources import PlatformResource, WarehouseReservation
from pipelines.publish.versions import current_manifest


class CheckConfig(dg.Config):
    """An operator may accept one sudden row-count drop, with a reason the manifest records."""

    row_count_override_reason: str | None = None


def gx_check_keys() -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(dg.AssetKey([mart]), GX_CHECK_NAME) for mart in suite_marts()]


def _result(suite: SuiteResult) -> dg.AssetCheckResult:
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
        asset_key=dg.AssetKey([suite.mart]),
        check_name=GX_CHECK_NAME,
        passed=suite.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "summary": dg.MetadataValue.md(f"```\n{suite.summary()}\n```"),
            "rows": suite.rows,
            "expectations": len(suite.outcomes),
            "failed": dg.MetadataValue.json(failed),
            # warning-level expectations that failed: the suite passes, the summary warns
            "warnings": sum(1 for o in suite.failures if o.severity != "error"),
            "result": dg.MetadataValue.json(suite.to_dict()),
            # what the custom checks read (pipelines.checks.changed_kpis)
            "custom_checks_read": "whole mart" if suite.custom_rows is None else
            f"{suite.custom_kpis} changed KPIs ({suite.custom_rows} rows)",
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            GX_CHECK_NAME,
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
    context: dg.AssetCheckExecutionContext, platform: PlatformResource, config: CheckConfig,
    warehouse_reservation: dg.ResourceParam[WarehouseReservation],  # the run holds it
) -> Iterator[dg.AssetCheckResult]:
    warehouse_reservation.ensure_held(context.log)
    layout = platform.layout
    selected = [key.asset_key.path[-1] for key in context.selected_asset_check_keys]
    tally = {"passed": 0, "failed": 0, "warned": 0, "expectations": 0}
    context.log.info(f"GX: running {len(selected)} suites on the warehouse")
    for done, suite in enumerate(run_warehouse_suites(
        layout.warehouse_path,
        selected,
        previous_manifest=current_manifest(layout.published_dir),
        override_reason=config.row_count_override_reason,
        # an incremental build's custom checks read only the changed KPIs, where that is sound
        build=last_build(layout.build_vars_file, layout.dbt_target_dir / "manifest.json"),
        passed_file=layout.gx_passed_file,
    ), start=1):
        progress.advance(done, len(selected), "suites")
        outcome = "failed" if not suite.passed else "warned" if suite.failures else "passed"
        tally[outcome] += 1
        tally["expectations"] += len(suite.outcomes)
        # a clean suite is a line of the run log; one that found something is shown in full
        log = {"passed": context.log.debug, "warned": context.log.warning,
               "failed": context.log.error}[outcome]
        log(suite.summary())
        yield _result(suite)
        if done == 1:
            # a kill inside the GX step (a suite's result recorded, the others not yet run,
            # the warehouse open read-only): tests/test_platform_sample.py
            crash_point("checks.inside_gx")
    context.log.info(
        f"GX: {len(selected)} suites, {tally['expectations']} expectations: "
        f"{tally['passed']} passed, {tally['failed']} failed, {tally['warned']} warned")


check_defs = [gx_suites]
