"""Where a publication comes from: the code version and the event-log watermark it was built at.

Both go into the manifest. The watermark is read from the marts' latest materializations (the
build records its `as_of` on every one), and all published marts must agree on it: a
publication mixing two builds could not be reproduced with `build --as-of`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

import dagster as dg

from pipelines.checks.gate import PublishBlocked
from pipelines.settings import REPO_ROOT


def code_version() -> str:
    """The git commit of the code that publishes (`-dirty` with uncommitted changes)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True,
            text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()
        return f"{sha}{'-dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def built_watermark(instance: dg.DagsterInstance, marts: Iterable[dg.AssetKey]) -> str | None:
    """The as_of every published mart was built at; they must agree."""
    seen: dict[str, str | None] = {}
    for key in marts:
        event = instance.get_latest_materialization_event(key)
        meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
        value = meta.get("as_of")
        seen[key.to_user_string()] = None if value is None else value.value
    distinct = set(seen.values())
    if len(distinct) != 1:
        raise PublishBlocked(
            f"the marts were built at different moments ({seen}); rebuild them together "
            "(`kommunkvalitet build`) before publishing"
        )
    return distinct.pop()
