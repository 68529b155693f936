"""The published folder: version ids, the `current` pointer, history, retention, rollback.

`published/current` is a relative symlink to `<version>`, moved by creating a fresh symlink
under a temporary name and `os.replace`-ing it over the old one: rename(2) is atomic, so a
reader resolving `current/marts.duckdb` sees the old or the new publication, never a mix or
nothing. A symlink (not a pointer file) because BI tools, DuckDB and Excel open a *path*; a
pointer file would need every reader to resolve it first. (On Windows without symlink
rights this would need a pointer file; the platform targets POSIX.)

`published/history.jsonl` is an append-only log of every publish and rollback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.durable import (
    fsync_path as fsync_dir,  # re-exported: the publisher calls versions.fsync_dir
)
from pipelines.eventlog.crash import crash_point
from pipelines.eventlog.lock import stream_lock

CURRENT = "current"
HISTORY = "history.jsonl"
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"
VERSION_RE = re.compile(r"^v\d{8}T\d{6}Z(-\d{3})?$")


class RollbackError(LookupError):
    """A rollback cannot be done: unknown version, or nothing older to go back to."""


class UnknownVersion(RollbackError):
    """A rollback named a version that is not in the published folder."""


@dataclass(frozen=True)
class RollbackResult:
    version: str
    rolled_back_from: str | None
    rolled_back_at: str
    reason: str | None

    @property
    def message(self) -> str:
        # Version ids sort by time: a "rollback" to a newer version moves current forward
        # (back to where it was after an earlier rollback), and says so.
        if self.rolled_back_from is None:
            return f"current now points to {self.version}"
        if self.version == self.rolled_back_from:
            return f"current already points to {self.version}"
        way = "back" if self.version < self.rolled_back_from else "forward"
        return f"current now points to {self.version} (moved {way} from {self.rolled_back_from})"

    def history_entry(self) -> dict:
        return {"action": "rollback", **asdict(self)}


def new_version_id(published_dir: Path, now: datetime) -> str:
    """`v20261123T190102Z`, or `...Z-001`, `-002`, ... when that second is taken.

    Sortable by time as text: a suffix sorts after its bare id, and suffixes are zero-padded.
    """
    base = "v" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    taken = {p.name.removeprefix(TMP_PREFIX) for p in published_dir.iterdir()}
    if base not in taken:
        return base
    for n in range(1, 1000):
        candidate = f"{base}-{n:03d}"
        if candidate not in taken:
            return candidate
    raise RuntimeError(f"more than 999 publications in one second ({base})")


def list_versions(published_dir: Path) -> list[str]:
    """Complete publications (folders with a manifest), oldest first."""
    if not published_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in published_dir.iterdir()
        if p.is_dir()
        and not p.is_symlink()
        and VERSION_RE.match(p.name)
        and (p / MANIFEST).is_file()
    )


def current_version(published_dir: Path) -> str | None:
    link = published_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


class InvalidManifest(ValueError):
    """A publication's manifest.json is missing, not JSON, or not a manifest; names the file."""


def read_manifest(published_dir: Path, version: str) -> dict:
    """The manifest of `version`; a damaged one is an InvalidManifest naming the file (every
    command that reads it, from status to the next build, says so in one line)."""
    path = Path(published_dir) / version / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidManifest(f"{path}: no manifest.json (an incomplete publication?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidManifest(f"{path}: not a valid manifest ({exc}); roll back with "
                              "`kommunkvalitet rollback` or republish") from None
    if not isinstance(doc, dict) or "version" not in doc:
        raise InvalidManifest(f"{path}: not a publication manifest (no 'version'); roll back "
                              "with `kommunkvalitet rollback` or republish")
    return doc


def current_manifest(published_dir: Path) -> dict | None:
    """The manifest `current` points to, or None before the first publication."""
    version = current_version(published_dir)
    return None if version is None else read_manifest(published_dir, version)


def point_current_to(published_dir: Path, version: str) -> None:
    """Atomically move `current` to `version` (fresh symlink, then rename over the old one)."""
    tmp = published_dir / f"{TMP_PREFIX}{CURRENT}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(version, tmp)
    crash_point("publish.before_symlink_switch")
    os.replace(tmp, published_dir / CURRENT)
    crash_point("publish.after_symlink_switch")
    fsync_dir(published_dir)


def append_history(published_dir: Path, entry: dict) -> None:
    with open(published_dir / HISTORY, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_history(published_dir: Path) -> list[dict]:
    path = published_dir / HISTORY
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def prune(published_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest `keep` versions; never the one `current` points to."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    current = current_version(published_dir)
    versions = list_versions(published_dir)
    doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v != current]
    for version in doomed:
        shutil.rmtree(published_dir / version)
    return doomed


def rollback(
    published_dir: Path, version: str | None = None, *, reason: str | None = None
) -> RollbackResult:
    """Point `current` at `version` (default: the one before current) and log it in history."""
    published_dir = Path(published_dir)
    with stream_lock(published_dir, ".publish"):  # never interleave with a running publish
        return _rollback_locked(published_dir, version, reason)


def _rollback_locked(
    published_dir: Path, version: str | None, reason: str | None
) -> RollbackResult:
    known = list_versions(published_dir)
    current = current_version(published_dir)
    if version is None:
        older = [v for v in known if current is None or v < current]
        if not older:
            raise RollbackError(
                f"no publication older than {current} to roll back to "
                f"(known versions: {', '.join(known) or 'none'})"
            )
        version = older[-1]
    if version not in known:
        raise UnknownVersion(
            f"unknown version {version!r}; known versions: {', '.join(known) or 'none'}"
        )
    read_manifest(published_dir, version)  # never point `current` at a broken publication
    point_current_to(published_dir, version)
    result = RollbackResult(
        version=version,
        rolled_back_from=current,
        rolled_back_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reason=reason,
    )
    append_history(published_dir, result.history_entry())
    return result
