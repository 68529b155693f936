"""Ingestion assets: one per event-log stream, keyed like the dbt sources they feed.

`["kolada", "kpi_value"]` is both this asset and dbt's `source('kolada', 'kpi_value')`, so
Dagster draws the lineage from Kolada through the marts without a translation table.

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` and config parameters at definition time and cannot resolve strings.
"""

import dagster as dg

from pipelines.ingest import METADATA_STREAMS, VALUE_STREAM, ingest_metadata, ingest_values
from pipelines.resources import KoladaResource, PlatformResource

GROUP = "ingestion"


def _key(stream: str) -> dg.AssetKey:
    return dg.AssetKey(stream.split("."))


def _metadata_asset(stream: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=_key(stream),
        group_name=GROUP,
        kinds={"kolada", "parquet"},
        description=f"Append-only events of Kolada's {stream.split('.')[1]} metadata "
        "(full snapshot diffed against the log; no delta support upstream).",
    )
    def _asset(
        context: dg.AssetExecutionContext, platform: PlatformResource, kolada: KoladaResource
    ) -> dg.MaterializeResult:
        log = platform.event_log()
        log.claim_origin(kolada.source)
        with kolada.client(progress=context.log.info) as client:
            report = ingest_metadata(
                stream, client, log, run_id=context.run.run_id, progress=context.log.info
            )
        return dg.MaterializeResult(metadata=report.metadata())

    return _asset


metadata_assets = [_metadata_asset(stream) for stream in METADATA_STREAMS]


@dg.asset(
    key=_key(VALUE_STREAM),
    group_name=GROUP,
    kinds={"kolada", "parquet"},
    deps=[_key("kolada.kpi_group"), _key("kolada.municipality")],
    description="Append-only events of Kolada KPI values for the configured scope (KK_CONFIG): "
    "incremental with from_date (one day overlap) after the first full fetch, or full.",
)
def kpi_value(
    context: dg.AssetExecutionContext, platform: PlatformResource, kolada: KoladaResource
) -> dg.MaterializeResult:
    log = platform.event_log()
    log.claim_origin(kolada.source)
    with kolada.client(progress=context.log.info) as client:
        report = ingest_values(
            client,
            log,
            platform.scope(),
            run_id=context.run.run_id,
            full=kolada.full,
            progress=context.log.info,
        )
    return dg.MaterializeResult(metadata=report.metadata())


ingestion_assets = [*metadata_assets, kpi_value]
