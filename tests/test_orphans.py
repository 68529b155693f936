"""A run whose process was killed is failed and its warehouse slot released before the next
run, so a killed build never makes the next publish wait forever."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

from pipelines.operations.orphans import HOST_TAG, PID_TAG, fail_orphaned_runs, process_alive


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def started_run(instance: dg.DagsterInstance, pid: int, host: str) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="build", run_id=run_id,
                                   status=dg.DagsterRunStatus.STARTED,
                                   tags={PID_TAG: str(pid), HOST_TAG: host}))
    instance.event_log_storage.claim_concurrency_slot("warehouse", run_id, "warehouse_models")
    return run_id


def test_a_killed_run_is_failed_and_its_slot_freed() -> None:
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 3)
        host = socket.gethostname()
        orphan = started_run(instance, dead_pid(), host)
        alive = started_run(instance, os.getpid(), host)
        elsewhere = started_run(instance, dead_pid(), "another-host")
        info = instance.event_log_storage.get_concurrency_info("warehouse")
        assert orphan in {c.run_id for c in info.claimed_slots}
        assert fail_orphaned_runs(instance) == [orphan]
        assert instance.get_run_by_id(orphan).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(elsewhere).status == dg.DagsterRunStatus.STARTED
        claims = {c.run_id for c in
                  instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots}
        assert orphan not in claims and alive in claims
        failure = instance.all_logs(orphan, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "is gone" in failure[0].message
        assert fail_orphaned_runs(instance) == []  # once


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(dead_pid())


@pytest.mark.slow
def test_a_build_killed_in_dbt_does_not_hang_the_next_one(tmp_path: Path) -> None:
    """SIGKILL the whole process group of `kommunkvalitet build` while dbt runs; the next build
    must start at once (the killed run failed, its warehouse slot freed) and say so."""
    env = {**os.environ, "KK_DATA_DIR": str(tmp_path / "data"),
           "DAGSTER_HOME": str(tmp_path / "data" / "dagster"), "GX_ANALYTICS_ENABLED": "false"}
    cli = [str(Path(sys.executable).with_name("kommunkvalitet")), "build"]
    first = subprocess.Popen(cli, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    logs = tmp_path / "data" / "logs" / "dbt"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (logs.exists() and any(logs.iterdir())):
        assert first.poll() is None, "the build ended before dbt started"
        time.sleep(0.2)
    time.sleep(2.0)  # inside dbt, holding the warehouse slot
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    second = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=400,
                            check=False)
    assert "left STARTED by a process that is gone" in second.stderr
    assert second.returncode in (0, 3), second.stderr[-2000:]


def test_a_live_holder_of_the_warehouse_is_named_before_a_run_waits_for_it() -> None:
    from pipelines.operations.orphans import warehouse_holders

    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 1)
        assert warehouse_holders(instance, "warehouse") == []
        holder = started_run(instance, os.getpid(), "elsewhere")
        [line] = warehouse_holders(instance, "warehouse")
        assert line == f"build run {holder} (pid {os.getpid()} on elsewhere)"
