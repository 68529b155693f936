"""A publisher SIGKILLed after its version folder was renamed into place but before `current`
moved: the rerun finishes that publication (the state of an uninterrupted run, no `-001`
copy), and a version that is no longer what the rerun would publish is discarded, so it never
counts against retention (pipelines/publish/interrupted.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.integrity import verify_publication
from pipelines.publish.versions import current_version, list_versions, read_history, read_manifest
from pipelines.settings import REPO_ROOT, Layout
from tests import crash_child
from tests.test_publish_publisher import WAREHOUSE_SQL

POINT = "publish.after_folder_rename"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(WAREHOUSE_SQL)
    return path


def killed_publish(data: Path, warehouse: Path, tmp_path: Path) -> None:
    """crash_child's publish (hour 2) in a child, SIGKILLed at POINT."""
    marker = tmp_path / "reached"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "KK_CRASH_AT": POINT,
           "KK_CRASH_MARKER": str(marker)}
    proc = subprocess.run([sys.executable, "-m", "tests.crash_child", "publish", str(data),
                           str(warehouse)], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert marker.read_text() == POINT


def test_the_rerun_points_current_at_the_interrupted_version(warehouse: Path, tmp_path: Path
                                                            ) -> None:
    data = tmp_path / "data"
    published = Layout(data).published_dir
    killed_publish(data, warehouse, tmp_path)
    [left] = list_versions(published)
    assert current_version(published) is None  # the first publication, never pointed at
    crash_child.publish_hour(data, warehouse, 2)  # the rerun: same build, same checks
    assert list_versions(published) == [left] and current_version(published) == left
    [entry] = read_history(published)
    assert entry["version"] == left and entry["recovered"] is True
    assert entry["at"] == read_manifest(published, left)["published_at"]
    assert verify_publication(published, left, read_manifest(published, left)).ok


def test_an_interrupted_version_that_is_not_what_the_rerun_publishes_is_discarded(
        warehouse: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    published = Layout(data).published_dir
    crash_child.publish_hour(data, warehouse, 1, keep=2)
    first = current_version(published)
    killed_publish(data, warehouse, tmp_path)  # hour 2, left unpointed
    assert len(list_versions(published)) == 2
    crash_child.publish_hour(data, warehouse, 3, keep=2)  # a newer build comes first
    newest = current_version(published)
    assert list_versions(published) == [first, newest]  # the never-published one is gone
    assert read_manifest(published, newest)["previous_version"] == first
    assert [e["version"] for e in read_history(published)] == [first, newest]
