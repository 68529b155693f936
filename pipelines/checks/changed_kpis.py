"""Which KPIs a mart's GX custom checks must read after the last build: all, or only the changed.

An incremental build rewrites only the changed KPIs' partitions of the kpi-partitioned models
(dbt_project/macros/incremental.sql); every other row of such a mart is the row the same suite
passed before, provided it did pass on the warehouse exactly as the build before this one left
it. That is what is recorded here: per mart, the dbt invocation (its `build_id` in the build
vars file, pipelines.warehouse.build_vars) on whose warehouse its suite last passed. The vars
file names each invocation and the one before it, so the chain is checked, not assumed:

- the last invocation was a full rebuild (`incremental_kpis` null), or there is no vars file:
  read everything;
- the mart is not kpi-partitioned (rebuilt whole every build): read everything;
- its suite did not pass on the previous invocation's warehouse (it failed, was not run, or a
  `dbt docs` or another build came between, each writing the vars file): read everything;
- else read only the changed KPIs (or again only them, when the suite already passed on this
  very invocation's warehouse and runs again).

The GX step runs in the build's own run after dbt, and every dbt writer rewrites the vars file
first (the warehouse pool runs one at a time), so the file always describes the warehouse the
step reads. Only the custom checks (colour vs rank, shares) read this subset; the row-count band
and the freshness of the newest year read the whole mart (pipelines.checks.suites).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.warehouse.build_vars import BUILD_ID, PREVIOUS_BUILD_ID, read_build_vars

# The pre-hook that makes a model kpi-partitioned (dbt_project/macros/incremental.sql); the dbt
# tests' filter (macros/incremental_tests.sql) goes by the same mark.
PARTITION_HOOK = "delete_changed_kpis"


@dataclass(frozen=True)
class LastBuild:
    """What the build vars file says of the last dbt invocation."""

    build_id: str | None
    previous_build_id: str | None
    changed_kpis: tuple[str, ...] | None  # None: a full rebuild (or unknown)
    partitioned: frozenset[str]  # the kpi-partitioned models of its manifest

    def kpis_to_check(self, mart: str, passed: Mapping[str, str]) -> tuple[str, ...] | None:
        """The KPIs the mart's custom checks read, or None for all (see the module's rules)."""
        if self.changed_kpis is None or self.build_id is None or mart not in self.partitioned:
            return None
        if passed.get(mart) not in {self.build_id, self.previous_build_id} - {None}:
            return None
        return self.changed_kpis


def last_build(vars_file: Path, manifest_path: Path) -> LastBuild:
    found = read_build_vars(vars_file)
    kpis = found.get("incremental_kpis")
    changed = tuple(str(k) for k in kpis) if isinstance(kpis, list) else None
    return LastBuild(_text(found.get(BUILD_ID)), _text(found.get(PREVIOUS_BUILD_ID)), changed,
                     kpi_partitioned_models(manifest_path) if changed is not None else frozenset())


def kpi_partitioned_models(manifest_path: Path) -> frozenset[str]:
    """The models whose pre-hook deletes the changed KPIs' partitions, by name, from the
    manifest of the last dbt invocation; none when it cannot be read (then all is read)."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    names = set()
    for node in (manifest.get("nodes") or {}).values():
        hooks = (node.get("config") or {}).get("pre-hook") or []
        if node.get("resource_type") == "model" and node.get("config", {}).get(
                "materialized") == "incremental" and any(
                PARTITION_HOOK in str(h.get("sql", "")) for h in hooks if isinstance(h, dict)):
            names.add(str(node.get("alias") or node["name"]))
    return frozenset(names)


def load_passed(path: Path) -> dict[str, str]:
    """mart -> the build_id its suite last passed on; {} when unknown (then all is read)."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(content, dict):
        return {}
    return {str(k): str(v) for k, v in content.items() if isinstance(v, str)}


def record_passed(path: Path, outcomes: Mapping[str, bool], build_id: str | None) -> None:
    """After suites ran on the warehouse of `build_id`: a passed suite names it, a failed one
    is forgotten (its next run reads everything). Written atomically."""
    passed = load_passed(path)
    for mart, ok in outcomes.items():
        if ok and build_id is not None:
            passed[mart] = build_id
        else:
            passed.pop(mart, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as tmp:
        json.dump(passed, tmp, sort_keys=True, indent=1)
    os.replace(tmp.name, path)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
