"""The publish asset: the last step of write-audit-publish.

It re-verifies the gate itself (pipelines.gate), takes the watermark the marts were built at
from their materializations, and hands everything to the publisher, which writes a new version
folder and then moves `published/current`.

No `from __future__ import annotations`: Dagster resolves the config annotation at definition
time and cannot resolve it from a string.
"""

import json
import subprocess
from typing import Any

import dagster as dg

from assets.checks import CHECK_NAME, gx_check_keys
from assets.dbt import warehouse_models
from pipelines.dbt_project import dbt_project
from pipelines.gate import GateReport, PublishBlocked, evaluate_gate, require_gate
from pipelines.instance import WAREHOUSE_POOL
from pipelines.marts import PUBLISHED_MARTS
from pipelines.publish.publisher import publish as publish_marts
from pipelines.resources import PlatformResource
from pipelines.settings import REPO_ROOT

MART_KEYS = [dg.AssetKey([mart]) for mart in PUBLISHED_MARTS]


class PublishConfig(dg.Config):
    force: bool = False  # publish even when the watermark has not moved


def blocking_check_keys() -> list[dg.AssetCheckKey]:
    """dbt tests on the published marts plus their GX suites."""
    published = set(MART_KEYS)
    dbt_checks = [key for key in warehouse_models.check_keys if key.asset_key in published]
    return sorted([*dbt_checks, *gx_check_keys()], key=lambda k: k.to_user_string())


def code_version() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True,
            text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()
        return f"{sha}{'-dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def data_dictionary() -> dict[str, dict[str, Any]]:
    """Model and column descriptions from dbt's manifest: documented once, in the yml."""
    manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Any]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "model" and node["name"] in PUBLISHED_MARTS:
            out[node["name"]] = {
                "description": node.get("description", ""),
                "columns": {
                    name: {"description": col.get("description", ""),
                           "data_type": col.get("data_type")}
                    for name, col in node.get("columns", {}).items()
                },
            }
    return out


def built_watermark(instance: dg.DagsterInstance) -> str | None:
    """The as_of every published mart was built at; they must agree."""
    seen: dict[str, str | None] = {}
    for key in MART_KEYS:
        event = instance.get_latest_materialization_event(key)
        meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
        value = meta.get("as_of")
        seen[key.to_user_string()] = None if value is None else value.value
    distinct = set(seen.values())
    if len(distinct) != 1:
        raise PublishBlocked(
            f"the marts were built at different moments ({seen}); rebuild them together "
            "(`kommunkvalitet build`) before publishing"
        )
    return distinct.pop()


def check_results(gate: GateReport) -> list[dict]:
    """The manifest's record of every blocking check, from the evaluations the gate verified."""
    results = []
    for key, evaluation in sorted(gate.evaluations.items(), key=lambda kv: kv[0].to_user_string()):
        entry: dict[str, Any] = {
            "asset": key.asset_key.to_user_string(),
            "check": key.name,
            "kind": "great_expectations" if key.name == CHECK_NAME else "dbt_test",
            "passed": evaluation.passed,
            "severity": evaluation.severity.value,
        }
        suite = evaluation.metadata.get("result")
        if suite is not None:
            entry["suite"] = suite.value  # the publisher records any row-count override from it
        results.append(entry)
    return results


@dg.asset(
    key="publication",
    group_name="publishing",
    deps=MART_KEYS,
    pool=WAREHOUSE_POOL,
    kinds={"parquet", "duckdb", "csv"},
    description="A new versioned folder in published/ (Parquet, marts.duckdb, Excel CSV, data "
    "dictionary, manifest.json), then `published/current` moves to it. Runs only when every "
    "blocking check passed for the current build.",
)
def publication(
    context: dg.AssetExecutionContext, platform: PlatformResource, config: PublishConfig
) -> dg.MaterializeResult:
    instance = context.instance
    gate = evaluate_gate(instance, MART_KEYS, blocking_check_keys())
    require_gate(gate)
    log = platform.event_log()
    result = publish_marts(
        platform.warehouse_path,
        platform.published_dir,
        list(PUBLISHED_MARTS),
        watermark=built_watermark(instance),
        check_results=check_results(gate),
        code_version=code_version(),
        synthetic=log.origin() == "sample",
        keep=platform.publish_keep,
        dictionary=data_dictionary(),
        force=config.force,
    )
    context.log.info(result.message)
    return dg.MaterializeResult(
        metadata={
            "published": result.published,
            "version": result.version,
            "message": result.message,
            "checks_passed": len(gate.passed),
        }
    )


publish_assets = [publication]
