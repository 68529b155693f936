"""A data dir's warehouse built the way the `warehouse_models` asset builds it, without Dagster:
the plan of pipelines.warehouse.incremental, its KPI ids in the build's vars file, dbt with
--full-refresh only when the plan says full (tests/test_incremental.py, test_incremental_checks.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipelines.eventlog.store import EventLog
from pipelines.scope import load_scope
from pipelines.settings import Layout, load_settings
from pipelines.warehouse.build_vars import dbt_cli_vars, dbt_vars
from pipelines.warehouse.dbt_project import DBT_PROJECT_DIR, dbt_executable, dbt_project
from pipelines.warehouse.fingerprint import build_fingerprint
from pipelines.warehouse.incremental import BuildPlan, batch_listing, plan_build
from pipelines.warehouse.selection import load_manifest, models_to_build


class Builder:
    """Builds one data dir's warehouse. `tests`: run dbt's data tests too (else models and
    seeds only); a build whose dbt fails is not recorded, as nights.record_build does."""

    def __init__(self, data: Path, *, tests: bool = False) -> None:
        self.layout = Layout(data)
        self.config = load_settings().config_path
        self.previous: dict | None = None  # what nights.record_build keeps
        self.target = data / "dbt" / "target"
        self.tests = tests
        self.last: subprocess.CompletedProcess[str] | None = None
        self.cli_vars: dict = {}  # the --vars of the last build (the same every build)
        self.manifest = dbt_project().manifest_path
        self.selected: frozenset[str] | None = None  # None: the last build was a full one

    def build(self, *, full_refresh: bool = False, expect_success: bool = True) -> BuildPlan:
        layout = self.layout
        self.selected = None
        listing = batch_listing(layout.events_dir)
        as_of = EventLog(layout.events_dir).watermark()
        fingerprint = build_fingerprint(layout, self.config)
        plan = plan_build(events_dir=layout.events_dir, warehouse_path=layout.warehouse_path,
                          fingerprint=fingerprint, listing=listing, previous=self.previous,
                          full_refresh=full_refresh)
        scope = load_scope(self.config)
        build_vars = dbt_vars(layout=layout, as_of=as_of, previous_watermark=None,
                              networks=scope.networks, profile_weights=scope.profile_weights,
                              incremental_kpis=plan.changed_kpis if plan.incremental else None)
        cli_vars = dbt_cli_vars(build_vars, layout.build_vars_file)
        self.cli_vars = cli_vars
        args = [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT_DIR),
                "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(self.target),
                "--vars", json.dumps(cli_vars), "--quiet"]
        if not self.tests:
            args += ["--exclude", "resource_type:test", "resource_type:unit_test"]
        if not plan.incremental:
            args.append("--full-refresh")
        else:
            # only the models the night's streams reach, as a launched stage-2 run selects them
            # (pipelines.orchestration.stage2): every other table is left as it was
            self.selected = models_to_build(load_manifest(self.manifest), plan.changed_streams)
            args += ["--select", *sorted(self.selected)]
        self.previous = None  # a build forgets the record when it starts
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        self.last = done
        if expect_success:
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        if done.returncode == 0:
            self.previous = {**fingerprint.as_dict(), "batches": listing}
        return plan
