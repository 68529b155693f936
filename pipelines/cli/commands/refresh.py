"""`kommunkvalitet refresh`: the night, as two runs (pipelines.orchestration.jobs): stage 1
ingests; stage 2 (build, checks, publish) runs when stage 1 succeeded and something it depends
on changed (pipelines.operations.nights)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipelines.cli.exit_codes import EXIT_OK
from pipelines.cli.jobs import check_config, run_command_job
from pipelines.cli.options import (
    FETCH_ENV,
    RUN_ENV,
    build_options,
    publish_options,
    source_options,
)
from pipelines.cli.summary import print_report_path
from pipelines.settings import Settings

NAME = "refresh"
HELP = "the nightly refresh: ingest, build, check, publish"
EXAMPLES = ("kommunkvalitet refresh --source sample",
            "kommunkvalitet refresh -q            # cron: only problems and the result",
            "kommunkvalitet refresh --full --override-row-count 'Kolada re-based N15'")
ENVIRONMENT = FETCH_ENV + RUN_ENV + ("KK_PUBLISH_KEEP",)

STAGE1 = "nightly_refresh"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source_options(parser)
    build_options(parser)
    publish_options(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.orchestration.jobs import NEXT_STAGE  # Dagster loads when a run starts

    check_config(settings)
    code = run_command_job(STAGE1, args, settings)
    if code != EXIT_OK:
        print("  the build, checks and publish were not run: the marts and the current "
              "publication are unchanged", file=sys.stderr)
        return code
    if _stage2_needed(STAGE1, args, settings):
        code = run_command_job(NEXT_STAGE[STAGE1], args, settings)
    return code


def _stage2_needed(stage1: str, args: argparse.Namespace, settings: Settings) -> bool:
    """Whether the night's stage 2 has anything to do (pipelines.operations.nights); the
    decision goes to nights.jsonl and onto the stage-1 run as a tag, for `status` and the UI."""
    from pipelines.operations.nights import Decision, decide, record_night

    if getattr(args, "force", False):
        decision = Decision(False, "forced (--force)")
    else:
        decision = decide(settings.layout, settings.config_path)
    after = _tag_last_run(settings, stage1, decision)
    record_night(settings.data_dir, decision, trigger="cli", after_run_id=after)
    if decision.skip:
        print(f"  {decision.message}")
        print_report_path(settings)
    return not decision.skip


def _tag_last_run(settings: Settings, job: str, decision: Any) -> str | None:
    """Tag the last run of `job` (the stage 1 that just ended) with the stage-2 decision."""
    from dagster import RunsFilter

    from pipelines.operations.nights import STAGE2_TAG
    from pipelines.orchestration.instance import shared_instance

    instance = shared_instance(settings)
    records = instance.get_run_records(filters=RunsFilter(job_name=job), limit=1)
    if not records:
        return None
    run_id = records[0].dagster_run.run_id
    instance.add_run_tags(run_id, {STAGE2_TAG: "skipped" if decision.skip else "run"})
    return run_id
