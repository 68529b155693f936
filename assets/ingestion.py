"""The ingestion asset factory: one asset per registered stream, keyed like its dbt source.

`["kolada", "kpi_value"]` is both the asset that appends the stream's events and dbt's
`source('kolada', 'kpi_value')`, so Dagster draws the lineage from a source through the marts
without a translation table. A source module (assets/<source>.py) supplies only the body that
fetches and appends; key, group, kinds and description come from the stream's declaration.

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` and config parameters at definition time and cannot resolve strings.
"""

from collections.abc import Callable, Sequence

import dagster as dg

from pipelines.eventlog.streams import StreamSpec
from pipelines.sample.examples import is_bundled_example

GROUP = "ingestion"


def stream_key(spec: StreamSpec) -> dg.AssetKey:
    return dg.AssetKey(list(spec.asset_key_path))


def ingestion_asset(
    spec: StreamSpec,
    *,
    how: str,
    deps: Sequence[StreamSpec] = (),
) -> Callable[[Callable[..., dg.MaterializeResult]], dg.AssetsDefinition]:
    """Decorate an asset body as the ingestion asset of `spec`; `how` says how it fetches."""
    return dg.asset(
        key=stream_key(spec),
        group_name=GROUP,
        kinds={spec.source, "parquet"},
        deps=[stream_key(d) for d in deps],
        description=f"Append-only events of {spec.name}: {spec.description} {how}",
    )


def file_import_result(context: dg.AssetExecutionContext, outcomes: Sequence) -> dg.MaterializeResult:
    """The materialization of a file import (assessments, initiatives): the counts the CLI
    summary prints, each file's outcome and its quarantine report. Logs each file as it goes."""
    for outcome in outcomes:
        context.log.info(outcome.summary())
        if outcome.problems and is_bundled_example(getattr(outcome, "sha256", None)):
            context.log.info("(exempelfil: felen är avsiktliga och visar en karantänrapport)\n"
                             + outcome.report)
        elif outcome.problems:
            context.log.warning(outcome.report)
    return dg.MaterializeResult(
        metadata={
            "files": len(outcomes),
            "events_appended": sum(o.events_appended for o in outcomes),
            "rejected_rows": sum(o.rejected_rows for o in outcomes),
            "rejected_files": sum(o.status == "rejected" for o in outcomes),
            "warnings": sum(o.warnings for o in outcomes),
            "imports": dg.MetadataValue.json([o.metadata() for o in outcomes]),
            "reports": dg.MetadataValue.md(
                "\n\n".join(f"```\n{o.report}\n```" for o in outcomes) or "no files"
            ),
        }
    )
