"""Crash safety (issue 15): SIGKILL the whole process group of an ingest, an assessment import
and a publish at every named crash point (pipelines/eventlog/crash.py, CRASH_POINTS) and at
seeded random moments. After each kill: no partial batch or half-written publication is
visible, no lock outlives its owner, `published/current` names a complete version; a rerun
reaches the state of an uninterrupted run (events without timestamps and batch ids; the
published marts' file hashes; history; landing and archive)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.eventlog.crash import CRASH_POINTS
from pipelines.eventlog.integrity import check_files
from pipelines.eventlog.lock import stream_lock
from pipelines.eventlog.store import EventLog
from pipelines.publish.integrity import verify_publication
from pipelines.publish.versions import (
    current_version,
    list_versions,
    read_history,
    read_manifest,
)
from pipelines.settings import REPO_ROOT, Layout
from tests import crash_child
from tests.test_publish_publisher import WAREHOUSE_SQL

pytestmark = pytest.mark.slow

EXAMPLES = sorted((REPO_ROOT / "pipelines" / "sample" / "assessments").glob("*.csv"))
INGEST = [p for p in CRASH_POINTS if p.startswith(("eventlog.", "ledger.", "state."))]
IMPORT = ["landing.before_rename", "import.after_archive_copy", "import.before_remove",
          "import.after_remove", "eventlog.before_rename", "ledger.after_rename"]
PUBLISH = [p for p in CRASH_POINTS if p.startswith("publish.")]
# (step, start state, point): the closing note counts these
CASES = ([("ingest1", "empty", "origin.before_rename")]
         + [("ingest2", "base", p) for p in INGEST]
         + [("import", "base", p) for p in IMPORT]
         + [("publish", "base", p) for p in PUBLISH])
RANDOM_SEEDS = list(range(10))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(WAREHOUSE_SQL)
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, warehouse: Path) -> Path:
    """Day 1 ingested, two publications made, two assessment files waiting in the landing."""
    data = tmp_path_factory.mktemp("base") / "data"
    crash_child.ingest(data, 1)
    crash_child.publish_hour(data, warehouse, 0)
    crash_child.publish_hour(data, warehouse, 1)
    landing = Layout(data).assessment_landing_dir
    landing.mkdir(parents=True)
    for example in EXAMPLES:
        shutil.copyfile(example, landing / example.name)
    return data


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory, base: Path, warehouse: Path
               ) -> dict[str, dict[str, Any]]:
    """The state after each step run without interruption."""
    out = {}
    for step, start in {(c[0], c[1]) for c in CASES} | {("all", "base")}:
        data = _start(start, base, tmp_path_factory.mktemp(f"ref-{step}"))
        crash_child.run(step, data, warehouse)
        out[step] = state(data)
    return out


def _start(start: str, base: Path, tmp: Path) -> Path:
    data = tmp / "data"
    if start == "empty":
        data.mkdir()
    else:
        shutil.copytree(base, data, symlinks=True)
    return data


_PORT = re.compile(r"http://127\.0\.0\.1:\d+")


def state(data: Path) -> dict[str, Any]:
    """What must be equal after a rerun: content, not timestamps, batch ids or ports."""
    layout = Layout(data)
    log = EventLog(layout.events_dir)
    events = sorted(
        (e["stream"], e["entity_key"], e["event_type"], e["payload_hash"],
         _PORT.sub("", e["source"]))
        for stream in log.streams for e in log.events(stream).to_pylist()
    )
    published: dict[str, Any] = {}
    version = current_version(layout.published_dir)
    if version:
        manifest = read_manifest(layout.published_dir, version)
        published = {
            "as_of": manifest["as_of"], "content_hashes": manifest["content_hashes"],
            # Parquet and CSV are written in key order: byte-identical for the same data
            "files": {k: v["sha256"] for k, v in manifest["files"].items()
                      if k.endswith((".parquet", ".csv"))},
            "history": [(e["action"], e.get("as_of")) for e in read_history(layout.published_dir)],
            # a rerun finishes the interrupted publication, it does not add a second copy
            "versions": list_versions(layout.published_dir), "current": version,
        }
    archive = layout.assessment_archive_dir
    return {
        "events": events, "published": published,
        "landing": sorted(p.name for p in layout.assessment_landing_dir.glob("*"))
        if layout.assessment_landing_dir.is_dir() else [],
        "archive": sorted(str(p.relative_to(archive)) for p in archive.rglob("*")
                          if p.is_file()) if archive.is_dir() else [],
    }


def check_invariants(data: Path) -> None:
    """What must hold at any moment, also right after a SIGKILL."""
    layout = Layout(data)
    log = EventLog(layout.events_dir)
    if layout.events_dir.is_dir():
        report = check_files(log, payloads=True)
        assert report.problems == []  # no partial or damaged batch visible
        for unledgered in report.unledgered:  # committed, ledger row to come: still whole
            pq.read_table(unledgered)
        for lock in (layout.events_dir / "_locks").glob("*.lock"):
            with stream_lock(lock.parent, lock.stem):  # no lock outlives its owner
                pass
        origin = layout.events_dir / "_origin.json"
        if origin.exists():
            assert json.loads(origin.read_text())["origin"] == "sample"
    published = layout.published_dir
    if published.is_dir():
        with stream_lock(published, ".publish"):
            pass
        version = current_version(published)
        if version is not None:  # `current` always names a complete, intact version
            assert version in list_versions(published)
            assert verify_publication(published, version, read_manifest(published, version)).ok
    landing = layout.assessment_landing_dir
    if landing.is_dir():  # a landing file is whole or gone, never half
        originals = {e.name: e.read_bytes() for e in EXAMPLES}
        for path in landing.iterdir():
            assert path.read_bytes() == originals[path.name]
    for path in (layout.assessment_archive_dir.rglob("*") if layout.assessment_archive_dir.is_dir()
                 else []):
        if path.is_file() and path.name in {e.name for e in EXAMPLES}:
            assert path.read_bytes() == originals[path.name]  # an archived copy is whole


def run_child(step: str, data: Path, warehouse: Path, *, point: str | None = None,
              marker: Path | None = None, kill_after: float | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "KK_CRASH_GROUP": "1"}
    env.pop("KK_CRASH_AT", None)
    if point:
        env.update(KK_CRASH_AT=point, KK_CRASH_MARKER=str(marker))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_child", step, str(data), str(warehouse)],
        cwd=REPO_ROOT, env=env, start_new_session=True,  # its own process group
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=kill_after if kill_after is not None else 120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group, as an OOM kill or systemd would
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGKILL), err
    return proc.returncode


@pytest.mark.parametrize(("step", "start", "point"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_crash_point_sigkill_leaves_a_consistent_state_and_rerun_converges(
        base: Path, warehouse: Path, references: dict, tmp_path: Path,
        step: str, start: str, point: str) -> None:
    data = _start(start, base, tmp_path)
    marker = tmp_path / "reached"
    assert run_child(step, data, warehouse, point=point, marker=marker) == -signal.SIGKILL
    assert marker.read_text() == point  # the named point was really reached
    check_invariants(data)
    crash_child.run(step, data, warehouse)  # the rerun (no crash point set in this process)
    check_invariants(data)
    assert state(data) == references[step]
    assert not list((Layout(data).events_dir / "_tmp").glob("*.tmp"))


# killed inside a real Dagster build run, next to the platform's built warehouse
BUILD_POINTS = ["build.before_dbt", "checks.inside_gx"]  # tests/test_platform_sample.py


def test_crash_points_every_named_point_is_exercised() -> None:
    assert {c[2] for c in CASES} | set(BUILD_POINTS) == set(CRASH_POINTS)
    assert len(CASES) >= 20


@pytest.fixture(scope="module")
def child_seconds(base: Path, warehouse: Path, references: dict,
                  tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long the whole step takes in a child: the window random kills fall in."""
    data = _start("base", base, tmp_path_factory.mktemp("timed"))
    started = time.monotonic()
    assert run_child("all", data, warehouse) == 0
    assert state(data) == references["all"]  # the child does what the reference did
    return time.monotonic() - started


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_crash_random_moment_sigkill_of_the_process_group_converges(
        base: Path, warehouse: Path, references: dict, child_seconds: float, tmp_path: Path,
        seed: int) -> None:
    data = _start("base", base, tmp_path)
    moment = random.Random(seed).uniform(0.5, 0.9 * child_seconds)  # after start-up, before the end
    run_child("all", data, warehouse, kill_after=moment)
    check_invariants(data)
    crash_child.run("all", data, warehouse)
    check_invariants(data)
    assert state(data) == references["all"]
