"""What a publication's manifest.json says, and how check results are read for it.

Check results arrive in two shapes: a bare `SuiteResult.to_dict()` (`suite`, `passed`,
`outcomes`), or the publish asset's per-check entry (`asset`, `check`, `kind`, `passed`,
`severity`, and the suite dict nested under `suite`). Both are stored as given and read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.publish.attribution import attribution
from pipelines.publish.hashing import content_hash

MANIFEST_FORMAT = 1
NON_BLOCKING_SEVERITIES = {"WARN", "WARNING"}


def _suite(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = entry.get("suite")
    return nested if isinstance(nested, Mapping) else entry


def _name(entry: Mapping[str, Any]) -> str:
    if entry.get("asset") and entry.get("check"):
        return f"{entry['asset']}:{entry['check']}"
    suite = _suite(entry)
    return str(suite.get("suite") or suite.get("mart") or entry.get("suite") or "?")


def blocking_failures(
    check_results: Sequence[Mapping[str, Any]], dbt_tests: Mapping[str, Any] | None
) -> list[str]:
    """Names of the results that say a blocking check failed (a warning never blocks)."""
    failed = []
    for entry in check_results:
        severity = str(entry.get("severity") or "ERROR").upper()
        entry_failed = entry.get("passed") is False and severity not in NON_BLOCKING_SEVERITIES
        nested = entry.get("suite")
        suite_failed = isinstance(nested, Mapping) and nested.get("passed") is False
        if entry_failed or suite_failed:
            failed.append(_name(entry))
    if dbt_tests is not None and dbt_tests.get("passed") is False:
        failed.append("dbt tests")
    return failed


def overridden_checks(check_results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Expectations that passed only because an operator overrode them, with the reason."""
    return [
        {
            "check": _name(entry),
            "expectation": outcome.get("expectation"),
            "reason": outcome.get("override_reason"),
        }
        for entry in check_results
        for outcome in _suite(entry).get("outcomes", []) or []
        if outcome.get("overridden")
    ]


def build_manifest(
    *,
    version: str,
    now: datetime,
    as_of: str,
    previous: Mapping[str, Any] | None,
    tables: Mapping[str, pa.Table],
    check_results: Sequence[Mapping[str, Any]],
    dbt_tests: Mapping[str, Any] | None,
    code_version: str,
    synthetic: bool,
    override_reason: str | None,
) -> dict[str, Any]:
    overridden = overridden_checks(check_results)
    reason = override_reason or next((o["reason"] for o in overridden if o["reason"]), None)
    hashes = {mart: content_hash(table) for mart, table in tables.items()}
    return {
        "format": MANIFEST_FORMAT,
        "version": version,
        "published_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "as_of": as_of,
        "previous_version": previous.get("version") if previous else None,
        "previous_as_of": previous.get("as_of") if previous else None,
        "code_version": code_version,
        "synthetic": bool(synthetic),
        "override_reason": reason,
        "overridden_checks": overridden,
        # flat copies for readers that want one number per mart (the checks' row-count band)
        "row_counts": {mart: table.num_rows for mart, table in tables.items()},
        "content_hashes": hashes,
        "marts": {
            mart: {
                "rows": table.num_rows,
                "columns": table.column_names,
                "content_hash": hashes[mart],
                "parquet": f"{mart}.parquet",
                "csv": f"csv/{mart}.csv",
                "duckdb_table": f"marts.duckdb:main.{mart}",
            }
            for mart, table in tables.items()
        },
        "checks": {
            "results": [dict(r) for r in check_results],
            "dbt_tests": dict(dbt_tests) if dbt_tests is not None else None,
        },
        "attribution": attribution(
            {m: t.column_names for m, t in tables.items()}, synthetic=synthetic
        ),
    }
