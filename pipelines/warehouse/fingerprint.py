"""The fingerprint of what a build depends on: the events, the code and the config.

A build is a pure function of the event log's batch files, the code that turns them into marts
and checks them (dbt project, expectations, the Python package) and the config (the scope file,
the data dir's paths). Two builds with the same fingerprint give the same marts, so a night whose
fingerprint equals that of the current publication's build can skip dbt, the checks and the
publish (pipelines.operations.nights). Cheap on purpose (a directory listing and sha256 of the
sources, milliseconds on the sample): it runs before every stage 2.

What it deliberately leaves out:
- the ledger: it grows by one row per ingest even when nothing was new. What the ledger can say
  about the events that reaches dbt (a quarantine moves a batch file away) shows in the listing.
- the batch files' bytes: a batch file is written once, under its batch id; the build verifies
  every file against its ledger checksum (`ensure_intact`) anyway, so name and size suffice.
- the revisions window and the previous scorecard (dbt vars from the current publication): a
  skip also needs the current publication to be the one this fingerprint was published as.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.settings import REPO_ROOT, Layout

# What shapes the marts and their checks. Everything under pipelines/ and assets/ counts, the
# ingest code included: a false "changed" costs one build, a false "unchanged" a wrong night.
_CODE_TREES = ("dbt_project/models", "dbt_project/macros", "dbt_project/seeds",
               "dbt_project/tests", "expectations", "pipelines", "assets")
_CODE_FILES = ("dbt_project/dbt_project.yml", "dbt_project/profiles.yml", "pyproject.toml")
_CODE_SUFFIXES = frozenset({".py", ".sql", ".yml", ".yaml", ".csv", ".json", ".md", ".jinja",
                            ".html", ".css", ".js", ".toml"})


@dataclass(frozen=True)
class Fingerprint:
    """One digest per part, and the digest of them all."""

    parts: Mapping[str, str]

    @property
    def digest(self) -> str:
        return _sha(json.dumps(dict(sorted(self.parts.items())), sort_keys=True).encode())

    def changed(self, other: Mapping[str, str]) -> list[str]:
        """The parts that differ from `other` (a recorded fingerprint's parts)."""
        return sorted(k for k in set(self.parts) | set(other) if self.parts.get(k) != other.get(k))

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "parts": dict(self.parts)}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def events_digest(events_dir: Path) -> str:
    """Name and size of every batch file dbt reads (events/<stream>/*.parquet; `_ledger` and
    `_quarantine` are not read by dbt)."""
    lines = []
    if events_dir.is_dir():
        for stream in sorted(p for p in events_dir.iterdir()
                             if p.is_dir() and not p.name.startswith(("_", "."))):
            for batch in sorted(stream.glob("*.parquet")):
                lines.append(f"{stream.name}/{batch.name} {batch.stat().st_size}")
    return _sha("\n".join(lines).encode())


def code_digest(root: Path = REPO_ROOT) -> str:
    """sha256 over the path and bytes of every source file that shapes a build."""
    digest = hashlib.sha256()
    for path in _code_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _code_files(root: Path) -> Iterable[Path]:
    files = [root / name for name in _CODE_FILES if (root / name).is_file()]
    for tree in _CODE_TREES:
        folder = root / tree
        if folder.is_dir():
            files += [p for p in folder.rglob("*") if p.is_file() and p.suffix in _CODE_SUFFIXES
                      and "__pycache__" not in p.parts]
    return sorted(files)


def config_digest(config_path: Path, layout: Layout) -> str:
    """The scope file's bytes (networks, weights, labels, scope) and the paths dbt is given."""
    scope = Path(config_path).read_bytes() if Path(config_path).is_file() else b""
    paths = json.dumps(layout.dbt_path_vars(), sort_keys=True).encode()
    return _sha(scope + b"\0" + paths)


def build_fingerprint(layout: Layout, config_path: Path, *, as_of_requested: str | None = None,
                      root: Path = REPO_ROOT) -> Fingerprint:
    """The fingerprint of a build of the event log in `layout` (at its watermark, unless an
    explicit `build --as-of` moment is given: such a build is a different build)."""
    return Fingerprint({
        "events": events_digest(layout.events_dir),
        "code": code_digest(root),
        "config": config_digest(config_path, layout),
        "as_of_requested": as_of_requested or "",
    })
