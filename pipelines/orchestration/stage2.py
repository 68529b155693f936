"""The assets a build run is launched with: the models its changes can reach, not all 59.

A Dagster run builds what it was launched with, so the selection of pipelines.warehouse.selection
is taken here, when the CLI or the nightly sensor launches `nightly_publish` or `build`, from
the same plan the dbt step then makes again (pipelines.warehouse.incremental). The dbt step
compares the two: a model that an event landing in between reaches, and that the run left out,
makes the next build a full one and holds the publication back (assets/dbt.py).

The checks on the selected marts come with them; the publication is selected whole, and it
publishes every mart: the ones left out are carried over from the build that made them
(pipelines.publish.provenance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.operations.nights import last_build
from pipelines.settings import Layout
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.warehouse.dbt_project import dbt_project
from pipelines.warehouse.fingerprint import build_fingerprint
from pipelines.warehouse.incremental import batch_listing, plan_build
from pipelines.warehouse.selection import load_manifest, model_names, models_to_build

PUBLICATION_KEY = dg.AssetKey(["publication"])
IMPORT_KEY = dg.AssetKey(list(KOMMUNKOMPASSEN.asset_key_path))
# The jobs whose dbt step may build a part of the models, with the other assets they run.
SELECTIVE_JOBS = {"nightly_publish": (PUBLICATION_KEY,), "build": (),
                  "assessment_refresh": (IMPORT_KEY, PUBLICATION_KEY)}


def launch_selection(job_name: str, layout: Layout, config_path: Path,
                     run_config: Mapping[str, Any],
                     also_streams: Iterable[str] = ()) -> list[dg.AssetKey] | None:
    """The asset keys to launch `job_name` with, or None for the job's whole selection (a full
    rebuild, `--as-of`, or a plan that needs every model anyway). `also_streams`: streams the
    run itself appends to before its build (the import of assessment_refresh)."""
    if job_name not in SELECTIVE_JOBS:
        return None
    build = ((run_config.get("ops") or {}).get("warehouse_models") or {}).get("config") or {}
    if build.get("full_refresh") or build.get("as_of"):
        return None
    plan = plan_build(events_dir=layout.events_dir, warehouse_path=layout.warehouse_path,
                      fingerprint=build_fingerprint(layout, config_path),
                      listing=batch_listing(layout.events_dir), previous=last_build(layout))
    if not plan.incremental:
        return None
    manifest = load_manifest(dbt_project().manifest_path)
    models = models_to_build(manifest, {*plan.changed_streams, *also_streams})
    if models >= model_names(manifest):
        return None
    return [*(dg.AssetKey([name]) for name in sorted(models)), *SELECTIVE_JOBS[job_name]]


def subset_config(job: dg.JobDefinition, selection: list[dg.AssetKey],
                  run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The run config without the ops the selection leaves out of the job (Dagster refuses
    config for an op a run does not have)."""
    ops = run_config.get("ops")
    if not ops:
        return dict(run_config)
    kept = set(job.get_subset(asset_selection=set(selection)).graph.node_names())
    return {**run_config, "ops": {op: cfg for op, cfg in ops.items() if op in kept}}
