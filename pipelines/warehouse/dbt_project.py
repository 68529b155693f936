"""The dbt project as Dagster sees it: one cached `DbtProject`, its manifest kept fresh.

`dagster dev` re-parses dbt on start, but the CLI, the tests and CI import the definitions
directly, so the manifest is (re)built here whenever it is missing or older than any file of
the dbt project. `dbt parse` takes a few seconds and runs only after an edit.
"""

from __future__ import annotations

import fcntl
import functools
import json
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.settings import REPO_ROOT, load_settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# Absolute, so the manifest and the parse lock live in dbt_project/target/ whichever directory
# a process was started from (a relative target path would follow the working directory).
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _WATCHED:
        path = project_dir / name
        paths = path.rglob("*") if path.is_dir() else [path]
        for item in paths:
            if item.is_file():
                newest = max(newest, item.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    return manifest.stat().st_mtime < _newest_source_mtime(Path(project.project_dir))


@functools.cache
def dbt_project() -> DbtProject:
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=DBT_TARGET_DIR
    )
    if manifest_is_stale(project):
        _parse(project)
    return project


def _parse(project: DbtProject) -> None:
    """What dagster-dbt's own preparer does, but with our dbt (the stock one runs a bare `dbt`,
    not on PATH when the venv is not activated). Two processes starting after an edit would
    both parse into one target folder: the second waits on the lock, then finds it fresh."""
    target = DBT_TARGET_DIR
    target.mkdir(parents=True, exist_ok=True)
    # The profile and the sources read the paths as vars even to parse; which data dir they
    # name does not matter for the manifest Dagster loads (the build passes its own). They are
    # the default data dir's build vars: dagster-dbt copies this parse into a build's empty
    # target folder, and dbt reuses it only when the --vars are the same, so the first build
    # of `make run` skips a full parse (about 5 s of its stage 2 on the sample).
    parse_vars = json.dumps(_default_build_cli_vars())
    with open(target / ".parse.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        if manifest_is_stale(project):
            (
                DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
                .cli(["parse", "--quiet", "--vars", parse_vars], target_path=target)
                .wait()
            )


def _default_build_cli_vars() -> dict:
    from pipelines.scope import load_scope
    from pipelines.warehouse.build_vars import dbt_vars, stable_cli_vars

    settings = load_settings()
    try:
        scope = load_scope(settings.config_path)
    except Exception:  # noqa: BLE001 - a bad scope file is reported by the steps that read it
        return settings.layout.dbt_path_vars()
    build_vars = dbt_vars(layout=settings.layout, as_of=None, previous_watermark=None,
                          networks=scope.networks, profile_weights=scope.profile_weights)
    return stable_cli_vars(build_vars, settings.layout.build_vars_file)


def dbt_executable() -> str:
    """The dbt installed beside this interpreter, so `.venv/bin/kommunkvalitet` works without an
    activated venv; otherwise whatever `dbt` is on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")
