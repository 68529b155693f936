"""What a publication's manifest.json says.

Check results arrive as the gate's `CheckResult`s (pipelines.checks.results), the one shape
they have from evaluation to here; the manifest records each as `to_dict()`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.checks.results import CheckResult
from pipelines.publish.attribution import attribution
from pipelines.publish.formats import ALL_FORMATS, CSV, XLSX
from pipelines.publish.hashing import content_hash
from pipelines.publish.summary import MartSummary

MANIFEST_FORMAT = 1


def blocking_failures(check_results: Sequence[CheckResult]) -> list[str]:
    """Names of the results that say a blocking check failed (a warning never blocks)."""
    return [r.name for r in check_results if r.blocking_failure]


def overridden_checks(check_results: Sequence[CheckResult]) -> list[dict[str, Any]]:
    """Expectations that passed only because an operator overrode them, with the reason."""
    return [entry for r in check_results for entry in r.overridden()]


def build_manifest(
    *,
    version: str,
    now: datetime,
    as_of: str,
    previous: Mapping[str, Any] | None,
    tables: Mapping[str, pa.Table | MartSummary],
    check_results: Sequence[CheckResult],
    code_version: str,
    synthetic: bool,
    override_reason: str | None,
    allow_older_reason: str | None = None,
    xlsx_row_cap: int = 0,
    hashes: Mapping[str, str] | None = None,
    formats: Mapping[str, Collection[str]] | None = None,
    built_by: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`hashes`: the tables' content hashes when the caller has them (content_hash sorts and
    serialises every mart: on workload M ~10M rows, the publisher's largest single cost).
    `formats`: mart -> its formats (pipelines.publish.formats; None: every format).
    `built_by`: mart -> the dbt invocation that built the table it was read from."""
    overridden = overridden_checks(check_results)
    reason = override_reason or next((o["reason"] for o in overridden if o["reason"]), None)
    if hashes is None:
        hashes = {mart: content_hash(table) for mart, table in tables.items()}
    if formats is None:
        formats = {mart: ALL_FORMATS for mart in tables}
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
        # why an as_of older than the previous publication's was published (None: it was not)
        "allow_older_reason": allow_older_reason,
        # flat copies for readers that want one number per mart (the checks' row-count band)
        "row_counts": {mart: table.num_rows for mart, table in tables.items()},
        "content_hashes": hashes,
        "xlsx_row_cap": xlsx_row_cap,
        "marts": {
            mart: mart_entry(mart, table, hashes[mart], formats[mart], xlsx_row_cap,
                             (built_by or {}).get(mart))
            for mart, table in tables.items()
        },
        "checks": {"results": [r.to_dict() for r in check_results]},
        "attribution": attribution(
            {m: t.column_names for m, t in tables.items()}, synthetic=synthetic
        ),
    }


def mart_entry(mart: str, table: pa.Table | MartSummary, digest: str,
               formats: Collection[str], xlsx_row_cap: int,
               built_by: str | None = None) -> dict[str, Any]:
    """The manifest's record of one mart; it depends on that mart alone, so the publisher
    can make it as soon as the mart is read."""
    return {
        "rows": table.num_rows,
        "columns": table.column_names,
        "content_hash": digest,
        # the dbt invocation that built the warehouse table the rows were read from (None: not
        # recorded): a later publication whose table has the same one shares this mart unread
        "built_by": built_by,
        # the declared formats (pipelines/publish/formats.py), then the files
        "formats": sorted(formats),
        "parquet": f"{mart}.parquet",
        # None: not a mart a person opens (no Excel files)
        "csv": f"csv/{mart}.csv" if CSV in formats else None,
        # None: no Excel files, or more rows than the xlsx row cap
        "xlsx": f"xlsx/{mart}.xlsx"
        if XLSX in formats and table.num_rows <= xlsx_row_cap else None,
        "duckdb_table": f"marts.duckdb:main.{mart}",
    }
