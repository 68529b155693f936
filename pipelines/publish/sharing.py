"""A new version shares the files that did not change with the previous one.

Versions are immutable: nothing ever writes into a published version folder. So when a file of
the new version would get exactly the inputs the previous version's file was written from, the
new version can *be* that file: a hard link (os.link), or a copy where linking fails (another
filesystem, EPERM). Deleting an old version (retention) then removes one name of the file; the
kept versions keep theirs. A hard link costs no disk and no writing.

What decides: an inputs key per file group, the sha256 of everything its bytes depend on apart
from the publication's own id and time (for a mart: its content hash, its contract, its
formats, the KPI decimals the Excel files round to, its Källor sheet; for everything: the code
that writes the files, `writer_fingerprint`). The keys are recorded in the manifest (marts:
`inputs`; the DuckDB file: `duckdb_inputs`; report pages: report/report.json), so the next
publish compares keys, never bytes. A shared xlsx or report page therefore names the version
that wrote it on its Källor sheet or print header (its numbers are the current ones); the
manifest's `shared_files` says, per file, which version that is.

Before a file is shared it is checked against the previous manifest's sha256 and size: a
previous file that was edited after publishing is never carried into a new version (it is
written afresh instead, and `verify` reports the old one).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pipelines.eventlog.checksums import file_digest
from pipelines.publish.summary import MartSummary

LINK, COPY = "link", "copy"
_PACKAGES = ("pyarrow", "duckdb", "xlsxwriter", "jinja2")
_CODE_ROOT = Path(__file__).resolve().parents[1]
_CODE_TREES = ("publish", "report")
_CODE_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".html", ".css", ".js", ".json"})


@cache
def writer_fingerprint() -> str:
    """sha256 of the code that turns tables into files (pipelines/publish, pipelines/report:
    writers, presentation, labels, templates) and of the libraries that write the bytes. Any
    change there and nothing is shared for one night: a false "changed" costs one write, a
    false "unchanged" would serve a file the current code would not write."""
    digest = hashlib.sha256()
    for tree in _CODE_TREES:
        for path in sorted((_CODE_ROOT / tree).rglob("*")):
            if path.is_file() and path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(path.relative_to(_CODE_ROOT).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    for package in _PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{package}={version}\0".encode())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        # one level: json.dumps walks the fields' values itself (and comes back here for a
        # dataclass among them); asdict's deep copy of every value list cost more than the dump
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return repr(value)


def inputs_key(*parts: Any) -> str:
    """sha256 of `parts` (JSON, keys sorted) and the writer fingerprint."""
    text = json.dumps([writer_fingerprint(), *parts], sort_keys=True, ensure_ascii=False,
                      default=_plain)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Previous:
    """The previous version, as a source of files to share.

    `files`: its manifest's `files` (relative path -> sha256, bytes); `origins`: its manifest's
    `shared_files` (relative path -> the version that wrote the bytes). `taken` collects what
    this publication shared: relative path -> (how, the file's record, its origin).
    """

    folder: Path
    version: str
    files: Mapping[str, Mapping[str, Any]]
    origins: Mapping[str, str] = field(default_factory=dict)
    taken: dict[str, tuple[str, Mapping[str, Any], str]] = field(default_factory=dict)

    @classmethod
    def of(cls, published_dir: Path, manifest: Mapping[str, Any] | None) -> Previous | None:
        """The previous version of `manifest` (the current one), None before the first or
        when it recorded no file hashes (nothing to check a shared file against)."""
        if not manifest or not manifest.get("files"):
            return None
        folder = Path(published_dir) / str(manifest["version"])
        if not folder.is_dir():
            return None
        return cls(folder, str(manifest["version"]), manifest["files"],
                   manifest.get("shared_files") or {})

    def read_json(self, rel: str) -> Any:
        """A JSON file of the previous version that its manifest vouches for, else None."""
        text = self.read_text(rel)
        try:
            return None if text is None else json.loads(text)
        except ValueError:
            return None

    def read_text(self, rel: str) -> str | None:
        """A text file of the previous version that its manifest vouches for, else None."""
        if not self._intact(rel):
            return None
        try:
            return (self.folder / rel).read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None

    def _intact(self, rel: str) -> bool:
        record = self.files.get(rel)
        path = self.folder / rel
        if record is None or not path.is_file() or path.stat().st_size != record["bytes"]:
            return False
        return file_digest(path)[0] == record["sha256"]

    def take(self, rel: str, dst: Path) -> str | None:
        """Make `dst` the previous version's `rel`: LINK, COPY, or None (not there, or not the
        bytes its manifest recorded: the caller writes the file afresh). `dst` must not exist."""
        if not self._intact(rel):
            return None
        how = share(self.folder / rel, dst)
        self.taken[rel] = (how, self.files[rel], self.origins.get(rel, self.version))
        return how

    def take_all(self, files: Sequence[tuple[str, Path]]) -> bool:
        """take() every (rel, dst) of one group, or none: when one is missing or not intact,
        the ones already taken are removed again (the caller writes the whole group afresh,
        never into a shared file)."""
        taken: list[tuple[str, Path]] = []
        for rel, dst in files:
            if self.take(rel, dst) is None:
                for done, path in taken:
                    path.unlink()
                    self.taken.pop(done, None)
                return False
            taken.append((rel, dst))
        return True

    def copy_of(self, rel: str, dst: Path) -> bool:
        """A private copy of the previous version's `rel` at `dst`, to be changed there (never
        a link: the previous version's file must not change); False when it is not there or
        not the bytes its manifest recorded."""
        if not self._intact(rel):
            return False
        shutil.copyfile(self.folder / rel, dst)
        return True

    def known_hashes(self) -> dict[str, Mapping[str, Any]]:
        """The records of the files taken (checked before sharing: no need to hash them again)."""
        return {rel: record for rel, (_how, record, _origin) in self.taken.items()}

    def summary(self) -> dict[str, Any]:
        """What the manifest records about sharing."""
        return {
            "from": self.version,
            "files": len(self.taken),
            "bytes": sum(int(record["bytes"]) for _h, record, _o in self.taken.values()),
            "copied": sorted(rel for rel, (how, _r, _o) in self.taken.items() if how == COPY),
        }

    def origins_taken(self) -> dict[str, str]:
        return {rel: origin for rel, (_h, _r, origin) in sorted(self.taken.items())}


def share(src: Path, dst: Path) -> str:
    """`dst` becomes `src`'s file: a hard link, or a copy when the filesystem refuses one."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
        return LINK
    except OSError:  # another filesystem (EXDEV), no hard links (EPERM), too many links
        shutil.copy2(src, dst)
        return COPY


SHARE_ENV = "KK_PUBLISH_SHARE"


def enabled() -> bool:
    """Sharing is on unless KK_PUBLISH_SHARE=0 (every file written afresh, as before: for a
    measurement, or a filesystem where a shared file is not wanted)."""
    text = os.environ.get(SHARE_ENV, "").strip().lower()
    if text in ("", "1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{SHARE_ENV}={text!r}: expected 1 or 0")


_PER_VERSION = ("Publicering", "Data per")  # the Källor lines that name the publication


def record_inputs(manifest: dict[str, Any], marts: Mapping[str, MartSummary],
                  kpis: Mapping[str, int]) -> None:
    """Add each mart's `inputs` key and the DuckDB file's `duckdb_inputs` to `manifest`."""
    for mart, summary in marts.items():
        manifest["marts"][mart]["inputs"] = mart_inputs(manifest, mart, summary, kpis)
    manifest["duckdb_inputs"] = inputs_key(
        "marts.duckdb", [(mart, manifest["marts"][mart]["inputs"]) for mart in marts])


def mart_inputs(manifest: Mapping[str, Any], mart: str, summary: MartSummary,
                kpis: Mapping[str, int]) -> str:
    """The inputs key of one mart's files. `manifest` needs only the mart's entry and what
    the Källor sheet reads (version, as_of, attribution), so the publisher can decide before
    the other marts are read."""
    # imported here: xlsx and the contract pull in the presentation layer
    from pipelines.publish.xlsx import sources_sheet
    from pipelines.warehouse.marts import mart_contracts

    entry = manifest["marts"][mart]
    sources = None
    if entry.get("xlsx"):
        sources = {k: v for k, v in sources_sheet(manifest, mart).items()
                   if k not in _PER_VERSION}
    return inputs_key(
        mart, entry["content_hash"], summary.schema.remove_metadata().to_string(),
        mart_contracts().get(mart), entry.get("formats"), entry.get("csv"), entry.get("xlsx"),
        _decimals_used(summary.kpi_ids, kpis) if entry.get("csv") or entry.get("xlsx")
        else None,
        sources)


def _decimals_used(kpi_ids: frozenset[str] | None,
                   kpis: Mapping[str, int]) -> dict[str, int] | None:
    """The KPI decimals the mart's Excel files round to: those of its rows' KPIs (a mart
    without `kpi_id` rounds by none; a new KPI elsewhere changes nothing here)."""
    if kpi_ids is None:
        return None
    return {k: kpis[k] for k in sorted(kpi_ids) if k in kpis}
