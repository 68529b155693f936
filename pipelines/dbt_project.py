"""The dbt project as Dagster sees it: one cached `DbtProject`, its manifest kept fresh.

`dagster dev` re-parses dbt on start, but the CLI, the tests and CI import the definitions
directly, so the manifest is (re)built here whenever it is missing or older than any file of
the dbt project. `dbt parse` takes a few seconds and runs only after an edit.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.settings import REPO_ROOT, load_settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
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
    # The profile reads KK_DATA_DIR (also at parse time): give dbt the same absolute folder the
    # rest of the platform resolved, never a relative path that means something else in dbt_project/.
    os.environ.setdefault("KK_DATA_DIR", str(load_settings().data_dir))
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if manifest_is_stale(project):
        project.preparer.prepare(project)
    return project
