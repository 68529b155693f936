"""The dbt models as Dagster assets: ingestion assets -> staging -> intermediate -> marts.

dbt sources are keyed `[<source>, <entity>]`, exactly like the ingestion assets (both come
from the stream declarations), so lineage runs from a source to the marts without a mapping
table. dbt tests surface as asset checks. Every
dbt step runs in pool `warehouse`: DuckDB allows one writer, and even a reader blocks it.

No `from __future__ import annotations`: Dagster resolves the config annotation at definition
time and cannot resolve it from a string.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.build_vars import dbt_vars, iso, parse_as_of
from pipelines.dbt_output import concise_dbt_output
from pipelines.dbt_project import dbt_project
from pipelines.eventlog.crash import crash_point
from pipelines.instance import WAREHOUSE_POOL
from pipelines.published_state import current_mart_file, current_watermark
from pipelines.resources import PlatformResource

_LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class WarehouseTranslator(DagsterDbtTranslator):
    """Only the grouping differs from dagster-dbt's defaults: one UI group per dbt layer."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.replace_attributes(group_name="reference")
        fqn = props.get("fqn", [])
        layer = next((_LAYER_GROUPS[p] for p in fqn if p in _LAYER_GROUPS), None)
        return spec.replace_attributes(group_name=layer) if layer else spec


class BuildConfig(dg.Config):
    """`kommunkvalitet build --as-of T` reconstructs the marts as they would have been at T."""

    as_of: str | None = None
    full_refresh: bool = False


@dbt_assets(
    manifest=dbt_project().manifest_path,
    project=dbt_project(),
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    platform: PlatformResource,
    config: BuildConfig,
) -> Iterator[Any]:
    layout = platform.layout
    # dbt reads every batch file through a glob: a truncated or edited one must stop the build
    # with its path named, not vanish from (or change) the marts. sha256 of the log: ~1 s.
    platform.event_log().ensure_intact()
    as_of = parse_as_of(config.as_of) if config.as_of else platform.event_log().watermark()
    scope = platform.scope()
    build_vars = dbt_vars(
        layout=layout,
        as_of=as_of,
        previous_watermark=current_watermark(layout.published_dir),
        networks=scope.networks,
        previous_scorecard=current_mart_file(layout.published_dir, "mart_kkik_scorecard"),
        profile_weights=scope.profile_weights,
    )
    context.log.info(f"dbt build as of {iso(as_of) or '(empty event log)'}; vars {build_vars}")
    args = ["build", "--vars", json.dumps(build_vars)]
    if config.full_refresh:
        args.append("--full-refresh")
    recorded = {
        "as_of": iso(as_of),
        "from_watermark": build_vars["from_watermark"],
        "as_of_requested": config.as_of is not None,
    }
    log_file = layout.data_dir / "logs" / "dbt" / f"{context.run.run_id}.log"
    crash_point("build.before_dbt")
    with concise_dbt_output(log_file, context.log.info, context.log.warning):
        invocation = dbt.cli(args, context=context, target_path=layout.dbt_target_dir)
        for event in invocation.stream():
            if isinstance(event, dg.Output):
                # Recorded per mart: the publisher takes its watermark from here.
                event = event.with_metadata({**event.metadata, **recorded})
            yield event


dbt_assets_defs = [warehouse_models]
