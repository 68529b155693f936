"""Does stage 2 of a night (build, checks, publish) have anything to do?

Three small files under the data dir, all written atomically:
- fingerprints/warehouse.json: the fingerprint (pipelines.warehouse.fingerprint) of the warehouse's last
  successful dbt build; removed when a build starts, so a failed build leaves none.
- fingerprints/publication.json: that fingerprint again once stage 2 ended well (published, or
  the publisher found nothing new), with the version `published/current` then named.
- nights.jsonl: one row per decision of a night's stage 2, skipped or run, and why; what
  `kommunkvalitet status` reports as the last night.

Stage 2 is skipped only when the fingerprint now equals the recorded one *and* `current` is
still the version recorded with it (a rollback or a publish of another build runs it again).
`--force`, `build` and `publish` never ask.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.publish.versions import current_version
from pipelines.settings import REPO_ROOT, Layout
from pipelines.warehouse.fingerprint import Fingerprint, build_fingerprint

NIGHTS_FILE = "nights.jsonl"
# The tag a night's stage-1 run gets with the decision (the UI shows it on the run).
STAGE2_TAG = "kommunkvalitet/stage2"
_PART_WORDS = {"events": "new or changed events", "code": "the code", "config": "the config",
               "as_of_requested": "a build of another moment"}


def _fingerprint_dir(layout: Layout) -> Path:
    return layout.data_dir / "fingerprints"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as tmp:
        json.dump(data, tmp, indent=2, sort_keys=True)
    os.replace(tmp.name, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or damaged: no fingerprint, so stage 2 runs (the safe answer)
    return data if isinstance(data, dict) else None


def forget_build(layout: Layout) -> None:
    """A build starts: the warehouse no longer matches any recorded fingerprint."""
    (_fingerprint_dir(layout) / "warehouse.json").unlink(missing_ok=True)


def record_build(layout: Layout, fingerprint: Fingerprint, *, as_of: str | None,
                 run_id: str, batches: Mapping[str, Mapping[str, int]] | None = None,
                 path: str | None = None, carried: Mapping[str, str | None] | None = None,
                 left_stale: Sequence[str] = ()) -> None:
    """A build succeeded. `batches` (stream -> batch file -> size, taken before dbt started) is
    what the next build's incremental plan diffs against (pipelines.warehouse.incremental);
    None makes the next build a full one. `carried`: the published marts the build left out
    (pipelines.warehouse.selection), each with the as_of of the build that made it; the
    publisher accepts them beside this build's as_of (pipelines.publish.provenance).
    `left_stale`: models the build's run left out although events since reached them (an
    event landed between the run's launch and its build); nothing is published from it."""
    _write_json(_fingerprint_dir(layout) / "warehouse.json",
                {**fingerprint.as_dict(), "as_of": as_of, "run_id": run_id,
                 "batches": None if batches is None
                 else {s: dict(f) for s, f in batches.items()},
                 "carried": dict(carried or {}), "left_stale": list(left_stale),
                 "path": path, "recorded_at": _now()})


def last_build(layout: Layout) -> dict[str, Any] | None:
    """The warehouse's last successful build as recorded, or None (none yet, or one failed or
    is running: a build forgets the record when it starts)."""
    return _read_json(_fingerprint_dir(layout) / "warehouse.json")


def record_publication(layout: Layout, *, run_id: str) -> None:
    """Stage 2 ended well: what `current` now shows was built from the warehouse's fingerprint."""
    build = _read_json(_fingerprint_dir(layout) / "warehouse.json")
    version = current_version(layout.published_dir)
    if build is None or version is None:
        return
    _write_json(_fingerprint_dir(layout) / "publication.json",
                {**build, "version": version, "publish_run_id": run_id, "recorded_at": _now()})


@dataclass(frozen=True)
class Decision:
    skip: bool
    reason: str
    since_version: str | None = None
    changed: list[str] = field(default_factory=list)
    digest: str | None = None

    @property
    def message(self) -> str:
        if self.skip:
            return (f"nothing new since {self.since_version}: build, checks and publish "
                    "skipped (same events, code and config; `refresh --force` runs them)")
        return f"build, checks and publish run: {self.reason}"


def decide(layout: Layout, config_path: Path, *, root: Path = REPO_ROOT) -> Decision:
    """Skip stage 2 when nothing it depends on changed since the current publication's build."""
    recorded = _read_json(_fingerprint_dir(layout) / "publication.json")
    version = current_version(layout.published_dir)
    if version is None:
        return Decision(False, "nothing published yet")
    if recorded is None:
        return Decision(False, "no fingerprint recorded for the current publication")
    if recorded.get("version") != version:
        return Decision(False, f"published/current is {version}, not the recorded "
                        f"{recorded.get('version')} (a rollback or another publish)")
    now = build_fingerprint(layout, config_path, root=root)
    changed = now.changed(recorded.get("parts") or {})
    if changed:
        return Decision(False, "changed: " + ", ".join(_PART_WORDS.get(c, c) for c in changed),
                        since_version=version, changed=changed, digest=now.digest)
    return Decision(True, "same events, code and config", since_version=version,
                    digest=now.digest)


def record_night(data_dir: Path, decision: Decision, *, trigger: str,
                 after_run_id: str | None = None) -> dict[str, Any]:
    row = {"at": _now(), "stage2": "skipped" if decision.skip else "run",
           "reason": decision.reason,
           "since_version": decision.since_version, "changed": decision.changed,
           "fingerprint": decision.digest, "trigger": trigger, "after_run_id": after_run_id}
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / NIGHTS_FILE, "a", encoding="utf-8") as out:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row


def last_night(data_dir: Path) -> dict[str, Any] | None:
    """The last stage-2 decision (None before the first night); a torn last line is ignored."""
    try:
        lines = (data_dir / NIGHTS_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            return row
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
