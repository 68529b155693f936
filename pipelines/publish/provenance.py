"""Where a publication comes from: the code version and the event-log watermark it was built at.

Both go into the manifest. The watermark is read from the marts' latest materializations (the
build records its `as_of` on every one), and all published marts must agree on it (or have
been carried by the last build, which proved nothing since reached them): a publication mixing
two builds could not be reproduced with `build --as-of`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from typing import Any

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


def built_watermark(instance: dg.DagsterInstance, marts: Iterable[dg.AssetKey],
                    build: Mapping[str, Any] | None = None) -> str | None:
    """The as_of the published marts stand for.

    Each mart records the as_of of the build that made it. They must agree, except that the
    warehouse's last successful build (`build`, pipelines.operations.nights.last_build) may have
    carried marts over from an earlier build: it left them out because no event since reached
    them (pipelines.warehouse.selection), so they stand for its as_of too, provided each is
    still the materialization the build carried (same as_of as recorded)."""
    seen: dict[str, str | None] = {}
    for key in marts:
        event = instance.get_latest_materialization_event(key)
        meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
        value = meta.get("as_of")
        seen[key.to_user_string()] = None if value is None else value.value
    carried = (build or {}).get("carried") or {}
    if build is not None and carried:
        as_of = build.get("as_of")
        stale = {mart: at for mart, at in seen.items()
                 if at != as_of and not (mart in carried and carried[mart] == at)}
        if not stale:
            return as_of
        seen = {mart: seen[mart] for mart in stale} | {"the last build": as_of}
    distinct = set(seen.values())
    if len(distinct) != 1:
        raise PublishBlocked(
            f"the marts were built at different moments ({seen}); rebuild them together "
            "(`kommunkvalitet build`) before publishing"
        )
    return distinct.pop()
