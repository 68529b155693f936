"""Runs whose process is gone: mark them failed and release their warehouse slot.

A run the CLI executes in-process and that is killed (SIGKILL, OOM, a closed terminal) stays
STARTED in the instance forever, and a warehouse step it was in keeps the one `warehouse` pool
slot: the next build or publish would wait for it without end. Every CLI run carries its pid
and host as tags; before a new run starts, a STARTED run of this host whose pid no longer
exists is reported failed (the reason in its event log) and its slots are freed.
"""

from __future__ import annotations

import os
import socket

PID_TAG = "kommunkvalitet/pid"
HOST_TAG = "kommunkvalitet/host"


def process_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's process
    return True


def fail_orphaned_runs(instance, *, host: str | None = None) -> list[str]:
    """Run ids marked failed because their process is gone (only runs of this host: a pid
    says nothing about another machine's processes)."""
    from dagster import DagsterRunStatus, RunsFilter

    host = host or socket.gethostname()
    live = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]
    failed = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=live)):
        run = record.dagster_run
        pid, run_host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if not pid or not pid.isdigit() or run_host != host or process_alive(int(pid)):
            continue
        instance.report_run_failed(
            run, message=f"the process that ran it (pid {pid} on {host}) is gone, probably "
            "killed: marked failed and its warehouse slot released",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def warehouse_holders(instance, pool: str) -> list[str]:
    """Who holds `pool`'s slot right now, one line each (job, run id, pid and host): what a
    command that will wait for the slot says before it waits."""
    try:
        info = instance.event_log_storage.get_concurrency_info(pool)
    except Exception:  # noqa: BLE001 - an instance without pools: nothing to say
        return []
    lines = []
    for run_id in sorted(info.active_run_ids):
        run = instance.get_run_by_id(run_id)
        if run is None:
            continue
        lines.append(f"{run.job_name} run {run_id} (pid {run.tags.get(PID_TAG, '?')} on "
                     f"{run.tags.get(HOST_TAG, '?')})")
    return lines
