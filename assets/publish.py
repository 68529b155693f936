"""The publish asset: the last step of write-audit-publish.

It re-verifies the gate itself (pipelines.checks.gate), takes the watermark the marts were
built at from their materializations, and hands everything to the publisher, which writes a
new version folder and then moves `published/current`.

No `from __future__ import annotations`: Dagster resolves the config annotation at definition
time and cannot resolve it from a string.
"""

from pathlib import Path
from typing import Any

import dagster as dg

from assets.checks import gx_check_keys
from assets.dbt import warehouse_models
from pipelines.checks.gate import evaluate_gate, require_gate
from pipelines.operations.nights import last_build, record_publication
from pipelines.orchestration.instance import WAREHOUSE_POOL
from pipelines.orchestration.resources import PlatformResource, WarehouseReservation
from pipelines.publish.provenance import built_watermark, code_version
from pipelines.publish.publisher import publish as publish_marts
from pipelines.publish.versions import current_version
from pipelines.warehouse.marts import PUBLISHED_MARTS

MART_KEYS = [dg.AssetKey([mart]) for mart in PUBLISHED_MARTS]


class PublishConfig(dg.Config):
    force: bool = False  # publish even when the watermark has not moved
    # the operator's reason to publish a build older than the current publication (else refused)
    allow_older_reason: str | None = None


def blocking_check_keys() -> list[dg.AssetCheckKey]:
    """dbt tests on the published marts plus their GX suites."""
    published = set(MART_KEYS)
    dbt_checks = [key for key in warehouse_models.check_keys if key.asset_key in published]
    return sorted([*dbt_checks, *gx_check_keys()], key=lambda k: k.to_user_string())


@dg.asset(
    key="publication",
    group_name="publishing",
    deps=MART_KEYS,
    pool=WAREHOUSE_POOL,
    kinds={"parquet", "duckdb", "csv"},
    description="A new versioned folder in published/ (Parquet, marts.duckdb, Excel CSV and "
    "xlsx, data dictionaries, README.md, manifest.json), then `published/current` moves to it. "
    "Runs only when every blocking check passed for the current build; a build older than the "
    "current publication only with config allow_older_reason.",
)
def publication(
    context: dg.AssetExecutionContext, platform: PlatformResource, config: PublishConfig,
    warehouse_reservation: dg.ResourceParam[WarehouseReservation],  # the run holds it
) -> dg.MaterializeResult:
    warehouse_reservation.ensure_held(context.log)
    layout = platform.layout
    build = last_build(layout)
    if build and build.get("left_stale"):
        # events landed between this run's launch and its build, and reached models the run
        # did not select: the warehouse mixes two moments. `current` stays; the next build is
        # a full one (assets/dbt.py) and publishes.
        message = (f"nothing published: the build left out {len(build['left_stale'])} "
                   "model(s) that events landing after the run started reach; the next build "
                   "rebuilds everything and publishes")
        context.log.warning(message)
        return dg.MaterializeResult(metadata={"published": False,
                                              "message": message})
    gate = evaluate_gate(context.instance, MART_KEYS, blocking_check_keys())
    if not gate.ok:
        # all of them, in the run's log (the error message lists the first few)
        context.log.error(f"{len(gate.problems)} blocking problem(s):\n" + "\n".join(gate.problems))
    require_gate(gate, has_publication=current_version(layout.published_dir) is not None)
    context.log.info(f"gate passed ({len(gate.results)} checks); publishing "
                     f"{len(PUBLISHED_MARTS)} marts: Parquet, DuckDB, CSV, xlsx and the report")
    result = publish_marts(
        layout.warehouse_path,
        layout.published_dir,
        list(PUBLISHED_MARTS),
        watermark=built_watermark(context.instance, MART_KEYS, build),
        check_results=gate.results,
        code_version=code_version(),
        synthetic=platform.event_log().origin() == "sample",
        keep=platform.publish_keep,
        force=config.force,
        allow_older=config.allow_older_reason,
    )
    context.log.info(result.message)
    # Stage 2 ended well (published, or nothing new to publish): a night with this build's
    # fingerprint and this `current` has nothing to do (pipelines.operations.nights).
    record_publication(layout, run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "published": result.published,
            "version": result.version,
            "message": result.message,
            "checks_passed": len(gate.passed),
            **_publication_metadata(result.path, result.manifest),
            **_report_metadata(result.manifest),
        }
    )


def _publication_metadata(path: Path | None, manifest: dict | None) -> dict[str, Any]:
    """What the UI shows of a new publication: where it is, as of when, each mart's rows."""
    if path is None or manifest is None:
        return {}
    rows = manifest.get("row_counts") or {}
    table = "| mart | rows |\n|---|---:|\n" + "\n".join(
        f"| {mart} | {count:,} |" for mart, count in sorted(rows.items()))
    return {
        "path": dg.MetadataValue.path(str(path)),
        "published_as_of": manifest.get("as_of"),  # not "as_of": that marks a dbt model
        "synthetic": bool(manifest.get("synthetic")),
        "dagster/row_count": dg.MetadataValue.int(sum(int(n) for n in rows.values())),
        "marts": dg.MetadataValue.md(table),
    }


def _report_metadata(manifest: dict | None) -> dict:
    """The report's render time and size, so the nightly budget is visible in the UI."""
    report = (manifest or {}).get("report") or {}
    return {f"report_{k}": report[k] for k in ("seconds", "files", "bytes") if k in report}


publish_assets = [publication]
