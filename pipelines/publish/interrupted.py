"""Finish a publication whose publisher was killed between the folder rename and `current`.

The publisher renames the complete, fsynced version folder into place and only then moves
`current` and appends history.jsonl. Killed in between, it leaves a complete version that no
pointer names and no history entry records ("unpointed"). Publishing afresh would write a
second copy under `-001` and let the first one count against retention (pushing a real
rollback target out), so the rerun is not the state of an uninterrupted run. Instead, under
the publish lock, the rerun points `current` at that version when it is exactly what the
rerun would publish (same manifest apart from version and time, files intact against their
hashes); any other unpointed version was never published and is removed, as a half-written
`.tmp-` folder is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipelines.publish import versions
from pipelines.publish.integrity import verify_publication

# Set by the publisher after the manifest is built (files) or per run (when, which id).
_NOT_COMPARED = {"version", "published_at", "files", "report", "sharing", "shared_files"}


def unpointed_versions(published_dir: Path) -> list[str]:
    """Complete versions newer than anything `current` or history ever named, oldest first."""
    current = versions.current_version(published_dir)
    named = {e.get("version") for e in versions.read_history(published_dir)} | {current}
    newest = max((v for v in named if v), default="")
    return [v for v in versions.list_versions(published_dir) if v not in named and v > newest]


def same_publication(found: dict, would_write: dict) -> bool:
    # as the publisher writes it to manifest.json, so tuples and datetimes compare as stored
    would_write = json.loads(json.dumps(would_write, ensure_ascii=False, default=str))
    keys = (set(found) | set(would_write)) - _NOT_COMPARED
    return all(found.get(k) == would_write.get(k) for k in keys)


def finish_or_discard(published_dir: Path, would_write: dict | None) -> dict | None:
    """The manifest of the unpointed version to adopt (None: none matches `would_write`, the
    manifest this run would write; None also discards them all). Call under the publish lock."""
    adopted = None
    for version in unpointed_versions(published_dir):
        try:
            found = versions.read_manifest(published_dir, version)
        except versions.InvalidManifest:
            found = None
        if (adopted is None and found is not None and would_write is not None
                and same_publication(found, would_write)
                and verify_publication(published_dir, version, found).ok):
            adopted = found
        else:
            shutil.rmtree(published_dir / version)
    return adopted
