"""The dbt models as Dagster assets: ingestion assets -> staging -> intermediate -> marts.

dbt sources are keyed `[<source>, <entity>]`, exactly like the ingestion assets (both come
from the stream declarations), so lineage runs from a source to the marts without a mapping
table. dbt tests surface as asset checks. Every
dbt step runs in pool `warehouse`: DuckDB allows one writer, and even a reader blocks it.

No `from __future__ import annotations`: Dagster resolves the config annotation at definition
time and cannot resolve it from a string.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from pipelines.checks.runner import import_in_background
from pipelines.console.logger import run_is_verbose
from pipelines.eventlog.crash import crash_point
from pipelines.operations.nights import forget_build, last_build, record_build
from pipelines.orchestration.instance import WAREHOUSE_POOL
from pipelines.orchestration.jobs import WAREHOUSE_EXECUTOR
from pipelines.orchestration.resources import PlatformResource, WarehouseReservation
from pipelines.publish.current_state import current_mart_file, current_watermark
from pipelines.warehouse.build_vars import dbt_cli_vars, dbt_vars, iso, parse_as_of
from pipelines.warehouse.dbt_checks import test_description
from pipelines.warehouse.dbt_metadata import ModelFigures, model_figures, relations
from pipelines.warehouse.dbt_output import concise_dbt_output
from pipelines.warehouse.dbt_project import dbt_project
from pipelines.warehouse.fingerprint import build_fingerprint
from pipelines.warehouse.incremental import (
    BuildPlan,
    batch_listing,
    known_kpi_count,
    plan_build,
)
from pipelines.warehouse.marts import mart_contracts
from pipelines.warehouse.selection import load_manifest, model_names, models_to_build

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

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=test_description(manifest["nodes"][unique_id]))


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
    warehouse_reservation: dg.ResourceParam[WarehouseReservation],  # the run holds it
) -> Iterator[Any]:
    warehouse_reservation.ensure_held(context.log)
    layout = platform.layout
    # dbt reads every batch file through a glob: a truncated or edited one must stop the build
    # with its path named, not vanish from (or change) the marts. sha256 of the log: ~1 s.
    platform.event_log().ensure_intact()
    # The batch files this build reads, listed before the watermark is taken: a batch that
    # lands after the listing is later than the watermark too, so the next build finds it new.
    listing = batch_listing(layout.events_dir)
    as_of = parse_as_of(config.as_of) if config.as_of else platform.event_log().watermark()
    # What this build depends on, taken before dbt starts (a night with the same one skips
    # stage 2: pipelines.operations.nights); the warehouse matches no fingerprint while it runs.
    fingerprint = build_fingerprint(layout, Path(platform.config_path),
                                    as_of_requested=iso(as_of) if config.as_of else None)
    # Full rebuild or only the changed KPIs (pipelines.warehouse.incremental)
    plan = plan_build(events_dir=layout.events_dir, warehouse_path=layout.warehouse_path,
                      fingerprint=fingerprint, listing=listing, previous=last_build(layout),
                      full_refresh=config.full_refresh, as_of_requested=config.as_of is not None)
    path = plan.summary(known_kpi_count(layout.warehouse_path) if plan.incremental else None)
    build_vars = _build_vars(platform, as_of,
                             incremental_kpis=plan.changed_kpis if plan.incremental else None)
    scope = _build_scope(context, plan)
    context.log.info(f"dbt build as of {iso(as_of) or '(empty event log)'}; {path}; "
                     f"{scope.summary}")
    if scope.left_stale:
        context.log.warning(
            f"this run leaves out {len(scope.left_stale)} model(s) whose inputs changed "
            f"({', '.join(scope.left_stale[:8])}{', ...' if len(scope.left_stale) > 8 else ''}): "
            "they stay as they were, this run publishes nothing, and the next build is a full one")
    context.log.debug(f"dbt vars {build_vars}")
    # dbt's unit tests test the models' code against inline fixtures, not the data, so a data
    # build never runs them (dbt's own advice for production): they run with the code, in
    # `make test` (tests/test_platform_sample.py), on every change to it.
    args = ["build", "--vars", json.dumps(dbt_cli_vars(build_vars, _vars_file(layout))),
            "--exclude", "resource_type:unit_test",
            # dbt's own file log repeats at debug level (every query) what logs/dbt/<run>.log
            # keeps of its output: 3.9 MB and ~1 s of a sample build. `-v` keeps it.
            "--log-level-file", "debug" if run_is_verbose(context.run.run_config) else "none"]
    if not plan.incremental:
        args.append("--full-refresh")
    recorded = {
        "as_of": iso(as_of),
        "from_watermark": build_vars["from_watermark"],
        "as_of_requested": config.as_of is not None,
        "build_path": path,
    }
    log_file = layout.data_dir / "logs" / "dbt" / f"{context.run.run_id}.log"
    # The events are held until dbt has exited, so each model's row count can be read from the
    # warehouse without a second process opening it beside dbt's writer (dbt_metadata).
    events: list[Any] = []
    failure: Exception | None = None
    forget_build(layout)
    crash_point("build.before_dbt")
    with concise_dbt_output(log_file, context.log.info, context.log.warning,
                            verbose=run_is_verbose(context.run.run_config)):
        invocation = dbt.cli(args, context=context, target_path=layout.dbt_target_dir)
        # the checks after this step import GX (~2 s of CPU): done now, while this process
        # mostly waits for dbt's
        import_in_background()
        try:
            events.extend(invocation.stream())
        except DagsterDbtCliRuntimeError as exc:  # a failed build still reports what it built
            failure = exc
    built = [str(e.metadata["unique_id"].value) for e in events
             if isinstance(e, dg.Output) and "unique_id" in e.metadata]
    figures = model_figures(layout.warehouse_path, built, relations(dbt_project().manifest_path),
                            previews=_mart_previews())
    for event in events:
        if isinstance(event, dg.Output):
            # Recorded per mart: the publisher takes its watermark from here.
            event = event.with_metadata(
                {**event.metadata, **recorded, **_figures_metadata(event, figures)})
        yield event
    if failure is not None:
        raise failure
    # A run that left out a model whose inputs changed records no batch listing (the next
    # build is then a full one) and carries nothing over (the publisher refuses marts built at
    # different moments). Otherwise the marts it left out are carried: still what a full
    # rebuild would make of the log now (pipelines.warehouse.selection).
    record_build(layout, fingerprint, as_of=recorded["as_of"], run_id=context.run.run_id,
                 batches=None if scope.left_stale else listing, path=path,
                 carried={} if scope.left_stale else _carried_marts(context, scope.left_out),
                 left_stale=scope.left_stale)


class _BuildScope(NamedTuple):
    left_out: frozenset[str]  # models this run does not build
    left_stale: list[str]  # ... of which a change since the last build reaches
    summary: str


def _build_scope(context: dg.AssetExecutionContext, plan: BuildPlan) -> _BuildScope:
    """What this run builds (its selection, taken when the run was launched) against what the
    plan needs (pipelines.warehouse.selection)."""
    manifest = load_manifest(dbt_project().manifest_path)
    every = model_names(manifest)
    selected = {key.path[-1] for key in context.selected_asset_keys} & every
    needed = models_to_build(manifest, plan.changed_streams) if plan.incremental else every
    left_out = frozenset(every - selected)
    summary = (f"{len(selected)} of {len(every)} models" if left_out
               else f"all {len(every)} models")
    return _BuildScope(left_out, sorted(needed & left_out), summary)


def _carried_marts(context: dg.AssetExecutionContext, left_out: frozenset[str]) -> dict[str, Any]:
    """The published marts this build left out, with the as_of of the build that made them (a
    mart never materialized on this instance is not carried: the publisher then refuses it)."""
    carried: dict[str, Any] = {}
    for name in sorted(left_out & set(mart_contracts())):
        event = context.instance.get_latest_materialization_event(dg.AssetKey([name]))
        meta = event.asset_materialization.metadata \
            if event and event.asset_materialization else {}
        if "as_of" in meta:
            carried[name] = meta["as_of"].value
    return carried


def _vars_file(layout: Any) -> Path:
    # beside dbt's target folder, whose partial parse it keeps valid (pipelines.warehouse.build_vars)
    return layout.build_vars_file


def _build_vars(platform: PlatformResource, as_of: Any,
                incremental_kpis: Sequence[str] | None = None) -> dict[str, Any]:
    layout, scope = platform.layout, platform.scope()
    return dbt_vars(
        layout=layout,
        as_of=as_of,
        previous_watermark=current_watermark(layout.published_dir),
        networks=scope.networks,
        previous_scorecard=current_mart_file(layout.published_dir, "mart_kkik_scorecard"),
        profile_weights=scope.profile_weights,
        incremental_kpis=incremental_kpis,
    )


@dg.op(
    pool=WAREHOUSE_POOL,
    description="`dbt docs generate --static`: one self-contained HTML file of every model, "
    "column, test and the lineage, with the warehouse's catalog (row counts, types) when it "
    "has been built. In the warehouse pool: dbt reads the warehouse for the catalog.",
)
def dbt_docs_site(context: dg.OpExecutionContext, dbt: DbtCliResource,
                  platform: PlatformResource,
                  warehouse_reservation: dg.ResourceParam[WarehouseReservation]) -> str:
    warehouse_reservation.ensure_held(context.log)
    layout = platform.layout
    target = layout.data_dir / "dbt" / "docs"
    args = ["docs", "generate", "--static",
            "--vars", json.dumps(dbt_cli_vars(
                # the docs compile the incremental models as an incremental build of no KPI
                _build_vars(platform, platform.event_log().watermark(), incremental_kpis=[]),
                _vars_file(layout)))]
    if not layout.warehouse_path.exists():
        args.append("--empty-catalog")  # nothing built yet: the models without row figures
    log_file = layout.data_dir / "logs" / "dbt" / f"{context.run.run_id}.log"
    with concise_dbt_output(log_file, context.log.info, context.log.warning):
        dbt.cli(args, target_path=target, raise_on_error=True).wait()
    site = target / "static_index.html"
    context.log.info(f"dbt docs site: {site}")
    return str(site)


@dg.job(name="dbt_docs", description="Build the dbt docs site under $KK_DATA_DIR/dbt/docs/.",
        executor_def=WAREHOUSE_EXECUTOR)  # one process holds the reservation (pipelines.orchestration.jobs)
def dbt_docs_job() -> None:
    dbt_docs_site()


def _mart_previews() -> dict[str, tuple[str, tuple[str, ...]]]:
    return {f"model.kommunkvalitet.{name}": (name, contract.key)
            for name, contract in mart_contracts().items()}


def _figures_metadata(event: dg.Output, figures: Mapping[str, ModelFigures]) -> dict[str, Any]:
    found = figures.get(str(event.metadata["unique_id"].value)) if "unique_id" in event.metadata \
        else None
    if found is None:
        return {}
    meta: dict[str, Any] = {"dagster/row_count": dg.MetadataValue.int(found.rows)}
    if found.preview is not None:
        meta["preview"] = dg.MetadataValue.md(found.preview)
    return meta


dbt_assets_defs = [warehouse_models]
dbt_jobs = [dbt_docs_job]
