"""Write-audit-publish, the publishing end: a new version folder, then an atomic `current` move.

The caller (the Dagster publish asset) runs only after every blocking check passed and hands
over the check results; the publisher refuses anyway if a result says it failed, because a
publication must never carry failed checks. Everything is written into `published/.tmp-<id>`
(readers only look at `v*` folders and `current`), renamed into place, and only then does
`current` move. An exception at any point before that leaves `current` and every existing
version untouched and removes the temporary folder. See versions.py for the pointer.

The analyst report (pipelines/report) is rendered inside the temporary folder too, from the
Parquet files just written there, so a version and its `report/` appear together or not at
all, and a report that fails to render fails the publication (docs/report.md).

What did not change since the previous version is shared with it instead of written again
(a hard link, or a copy; pipelines/publish/sharing.py): a mart's files when its inputs key
equals the previous one's, `marts.duckdb` when every mart's does, and report pages whose
inputs did not change. Which files each mart gets at all: pipelines/publish/formats.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipelines import memory, progress
from pipelines.checks.results import CheckResult
from pipelines.eventlog.crash import crash_point
from pipelines.eventlog.lock import stream_lock
from pipelines.publish import interrupted, sharing, versions, writers, xlsx
from pipelines.publish.attribution import attribution
from pipelines.publish.dictionary import dictionary_records, write_dictionary
from pipelines.publish.formats import formats_for
from pipelines.publish.integrity import file_hashes
from pipelines.publish.manifest import blocking_failures, build_manifest, mart_entry
from pipelines.publish.presentation import kpi_decimals
from pipelines.publish.readme import render_readme
from pipelines.publish.summary import MartSummary
from pipelines.warehouse.build_vars import parse_as_of

REPORT_DIR = "report"
DUCKDB_FILE = "marts.duckdb"
from pipelines.publish.versions import (  # noqa: F401 - the CLI imports them from here
    RollbackError,
    RollbackResult,
    UnknownVersion,
    current_manifest,
    list_versions,
    rollback,
)


class PublishRefused(RuntimeError):
    """The check results say a blocking check failed: nothing is published."""


class PublishOlderRefused(PublishRefused):
    """The build is older than the current publication and no reason to go back was given."""


@dataclass
class PublishResult:
    published: bool
    version: str | None  # the new version, or the unchanged current one
    message: str
    path: Path | None = None
    manifest: dict | None = None
    pruned: list[str] = field(default_factory=list)


def normalise_watermark(watermark: str | datetime) -> str:
    """The event-log watermark as ISO-8601 UTC text, so equal instants compare equal."""
    if isinstance(watermark, datetime):
        if watermark.tzinfo is None:
            raise ValueError("watermark must be timezone-aware (UTC)")
        return watermark.astimezone(UTC).isoformat()
    return str(watermark)


def publish(
    warehouse_path: Path,
    published_dir: Path,
    marts: Sequence[str],
    *,
    watermark: str | datetime,
    check_results: Sequence[CheckResult],
    code_version: str,
    synthetic: bool,
    keep: int = 10,
    override_reason: str | None = None,
    allow_older: str | None = None,
    force: bool = False,
    xlsx_row_cap: int | None = None,
    formats: Mapping[str, Collection[str]] | None = None,
    share: bool | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Publish `marts` from the warehouse as a new version and point `current` at it.

    - `watermark`: the event log's newest `recorded_at` the build saw (its `as_of`); equal to
      the current publication's -> nothing is published (unless `force`).
    - `check_results`: the gate's verdicts (one `CheckResult` per blocking check), recorded in
      the manifest; any blocking failure refuses (see manifest.blocking_failures). The data
      dictionary's descriptions, headers, units and credits come from the marts' contract
      (pipelines.warehouse.marts).
    - `override_reason`: the operator's row-count override, recorded in the manifest (also
      picked up from overridden outcomes in `check_results`).
    - `xlsx_row_cap`: marts with more rows get no xlsx (the README and manifest say so); None:
      every mart that fits in an Excel sheet (`xlsx.row_cap()`).
    - `formats`: mart -> its formats; None: the declared table (pipelines.publish.formats).
    - `share`: share unchanged files with the previous version; None: unless
      KK_PUBLISH_SHARE=0 (sharing.enabled()).
    - `allow_older`: the operator's reason to publish a build whose as_of is older than the
      current publication's (e.g. after `build --as-of <past>`); without it that is refused
      (PublishOlderRefused), because `current` must never move back in time by accident. The
      reason is recorded in the manifest and in history.jsonl. (`rollback` is the way back to
      an earlier *publication*.)
    """
    published_dir = Path(published_dir)
    published_dir.mkdir(parents=True, exist_ok=True)
    as_of = normalise_watermark(watermark)
    if xlsx_row_cap is None:
        xlsx_row_cap = xlsx.row_cap()
    formats = formats_for(marts, formats)
    if share is None:
        share = sharing.enabled()
    with stream_lock(published_dir, ".publish"):
        _remove_stale_temp_folders(published_dir)
        _reconcile_history(published_dir)
        previous = versions.current_manifest(published_dir)
        if previous and previous.get("as_of") == as_of and not force:
            interrupted.finish_or_discard(published_dir, None)  # nothing to finish: discard
            return PublishResult(
                published=False,
                version=previous["version"],
                message=f"watermark {as_of} equals the current publication's "
                f"({previous['version']}): nothing new to publish",
                # retention still applies: a publisher killed before its prune left extras
                pruned=versions.prune(published_dir, keep),
            )
        _refuse_failed_checks(check_results)
        _refuse_older(as_of, previous, allow_older)
        now = now or datetime.now(UTC)

        def manifest_for(version: str, summaries: Mapping[str, MartSummary]) -> dict:
            manifest = build_manifest(
                built_by=builds,
                hashes={mart: summary.content_hash for mart, summary in summaries.items()},
                version=version,
                now=now,
                as_of=as_of,
                previous=previous,
                tables=summaries,
                check_results=check_results,
                code_version=code_version,
                synthetic=synthetic,
                override_reason=override_reason,
                allow_older_reason=allow_older,
                xlsx_row_cap=xlsx_row_cap,
                formats=formats,
            )
            sharing.record_inputs(manifest, summaries, kpis)
            return manifest

        # One mart in memory at a time (read, hash, write its files, let it go): on workload
        # M the marts together are over 2 GB of Arrow. What comes after the files needs only
        # each mart's MartSummary. First, what the steps before freed (in one process: the
        # build's and the checks') goes back to the system.
        memory.release_unused()
        with writers.MartReader(Path(warehouse_path), marts) as reader:
            builds = reader.builds()
            kpis = kpi_decimals({"dim_kpi": reader.read("dim_kpi")} if "dim_kpi" in marts
                                else {})
            finished = None
            if interrupted.unpointed_versions(published_dir):
                # a publisher killed after its folder rename left a version no pointer names:
                # when it is this very publication, finish it (a second read of the marts,
                # only after such a crash)
                summaries = {mart: MartSummary.of(reader.read(mart)) for mart in marts}
                finished = interrupted.finish_or_discard(published_dir,
                                                         manifest_for("", summaries))
            if finished is not None:
                version, manifest = finished["version"], finished
                final = published_dir / version
                message = f"published {version} (finished a publication interrupted before " \
                    "`current` moved)"
            else:
                version = versions.new_version_id(published_dir, now)
                source = sharing.Previous.of(published_dir, previous) if share else None
                sheet = {"version": version, "as_of": as_of, "attribution": attribution(
                    {mart: reader.columns(mart) for mart in marts}, synthetic=synthetic)}
                final, manifest = _write_version(
                    published_dir, version, _MartWriter(reader, marts, sheet, formats,
                                                        xlsx_row_cap, kpis, builds),
                    manifest_for, source, previous)
                message = f"published {version}"
        versions.point_current_to(published_dir, version)
        crash_point("publish.before_history")
        versions.append_history(
            published_dir,
            {
                "action": "publish",
                "version": version,
                "at": manifest["published_at"],
                "as_of": as_of,
                "previous_version": manifest["previous_version"],
                "previous_as_of": manifest["previous_as_of"],
                **({"allow_older_reason": allow_older} if allow_older else {}),
                **({"recovered": True} if finished is not None else {}),
            },
        )
        crash_point("publish.before_prune")
        pruned = versions.prune(published_dir, keep)
        crash_point("publish.after_prune")
    return PublishResult(True, version, message, final, manifest, pruned)


class _MartWriter:
    """Each mart in turn: read it, summarise it, write (or share) its files, let it go.

    `sheet`: what the Källor sheet and the sharing keys read of the manifest (version, as_of,
    attribution), known before any mart is read; each mart's manifest entry and inputs key
    are made as soon as the mart is read, the same functions build_manifest and
    record_inputs use, so a file is shared exactly when the manifest will say it may be.
    """

    def __init__(self, reader: writers.MartReader, marts: Sequence[str], sheet: dict,
                 formats: Mapping[str, Collection[str]], xlsx_row_cap: int,
                 kpis: Mapping[str, int], builds: Mapping[str, str]) -> None:
        self.reader, self.marts, self.formats = reader, marts, formats
        self.sheet = {**sheet, "marts": {}}
        self.xlsx_row_cap, self.kpis, self.builds = xlsx_row_cap, kpis, builds
        self.carried: list[str] = []  # shared without reading a row (_carry)

    def write(self, tmp: Path, source: sharing.Previous | None,
              before: Mapping[str, Mapping]) -> dict[str, MartSummary]:
        summaries = {}
        for done, mart in enumerate(self.marts, start=1):
            progress.advance(done, len(self.marts), "marts", mart)
            carried = self._carry(mart, tmp, source, before.get(mart) or {})
            if carried is not None:
                summaries[mart] = carried
                continue
            table = self.reader.read(mart)
            summaries[mart] = summary = MartSummary.of(table)
            entry = self._entry(mart, summary)
            same = (before.get(mart) or {}).get("inputs") == entry["inputs"]
            if not _shared(source if same else None, entry["parquet"], tmp):
                writers.write_parquet(mart, table, tmp)
            if entry["csv"] and not _shared(source if same else None, entry["csv"], tmp):
                writers.write_csv(mart, table, tmp, self.kpis)
            if entry["xlsx"] and not _shared(source if same else None, entry["xlsx"], tmp):
                writers.write_xlsx(mart, table, tmp, self.kpis,
                                   xlsx.sources_sheet(self.sheet, mart))
            del table
            # the freed table's memory back to the system before the next mart is read
            memory.release_unused()
        # every mart is read: dbt's writer need not wait for the rest of the publication
        self.reader.close()
        return summaries

    def _entry(self, mart: str, summary: MartSummary) -> dict:
        """The mart's manifest entry with its inputs key (which reads the entry in the sheet)."""
        entry = self.sheet["marts"][mart] = mart_entry(
            mart, summary, summary.content_hash, self.formats[mart], self.xlsx_row_cap,
            self.builds.get(mart))
        entry["inputs"] = sharing.mart_inputs(self.sheet, mart, summary, self.kpis)
        return entry

    def _carry(self, mart: str, tmp: Path, source: sharing.Previous | None,
               before: Mapping) -> MartSummary | None:
        """The mart's summary, its files all shared with the previous version, when that
        version published this very table: the same dbt invocation built it (no build has
        touched it since: dbt_project/macros/model_builds.sql) and its files' inputs key is
        the previous one (the same writer code, formats, decimals and Källor sheet). Its rows
        are neither read nor hashed; the content hash is the previous version's, made from the
        same rows by the same code. None: read and write it as any other mart."""
        built_by = self.builds.get(mart)
        if source is None or built_by is None or before.get("built_by") != built_by \
                or not before.get("content_hash") or not before.get("inputs"):
            return None
        summary = self.reader.summary(mart, str(before["content_hash"]))
        if summary.num_rows != before.get("rows"):
            return None
        entry = self._entry(mart, summary)
        if entry["inputs"] != before["inputs"]:
            return None
        files = [rel for rel in (entry["parquet"], entry["csv"], entry["xlsx"]) if rel]
        if not source.take_all([(rel, tmp / rel) for rel in files]):
            return None  # read and written afresh below
        self.carried.append(mart)
        return summary

    def check(self, manifest: Mapping) -> None:
        """The manifest's inputs keys are the ones the files were shared or written by."""
        wrong = [mart for mart in self.marts if manifest["marts"][mart]["inputs"]
                 != self.sheet["marts"][mart]["inputs"]]
        if wrong:
            raise RuntimeError(f"inputs keys of {wrong} changed between writing the files "
                               "and the manifest: nothing is published")


def _write_version(
    published_dir: Path,
    version: str,
    marts: _MartWriter,
    manifest_for: Callable[[str, Mapping[str, MartSummary]], dict],
    source: sharing.Previous | None,
    previous: Mapping | None,
) -> tuple[Path, dict]:
    """Write the version into `.tmp-<version>`, then rename it into place; its manifest.

    `source`: the previous version to share unchanged files with (None: write every file).
    A file is either shared or written, never both: writing to a shared name would write into
    the previous version's file.
    """
    tmp = published_dir / f"{versions.TMP_PREFIX}{version}"
    final = published_dir / version
    tmp.mkdir()
    before = (previous or {}).get("marts") or {}
    try:
        summaries = marts.write(tmp, source, before)
        manifest = manifest_for(version, summaries)
        marts.check(manifest)
        crash_point("publish.inside_version_write")
        same = (previous or {}).get("duckdb_inputs") == manifest["duckdb_inputs"]
        # marts.duckdb (DuckDB on one thread) is written while the report (Python) renders:
        # each has a core, and neither reads what the other writes. Leaving the block waits
        # for the file, also when the report failed (the folder is removed only after).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="marts-duckdb") as pool:
            duckdb_written = None
            if not _shared(source if same else None, DUCKDB_FILE, tmp):
                changed = {mart for mart in summaries if (before.get(mart) or {}).get("inputs")
                           != manifest["marts"][mart]["inputs"]}
                # filled from the Parquet files just written or shared: the same rows, types
                parquet = {mart: tmp / manifest["marts"][mart]["parquet"] for mart in summaries}
                duckdb_written = pool.submit(_write_duckdb, parquet, tmp, source, changed)
            write_dictionary(dictionary_records(summaries), tmp)
            manifest["report"] = _write_report(tmp, summaries, manifest, source)
            if duckdb_written is not None:
                duckdb_written.result()
        (tmp / "README.md").write_text(
            render_readme(manifest, row_cap=manifest["xlsx_row_cap"]), encoding="utf-8"
        )
        if source is not None:
            # which files are the previous version's, and which version wrote their bytes
            manifest["sharing"] = {**source.summary(),
                                   # shared on the dbt invocation alone: rows not read
                                   "marts_not_read": sorted(marts.carried)}
            manifest["shared_files"] = source.origins_taken()
        # last: the fingerprint of every other file, so a later edit is detectable (status);
        # a shared file was checked against the previous manifest just before it was shared
        manifest["files"] = file_hashes(tmp, known=source.known_hashes() if source else None)
        crash_point("publish.before_manifest")
        (tmp / versions.MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n",
            encoding="utf-8",
        )
        writers.fsync_tree(tmp)
        crash_point("publish.before_folder_rename")
        tmp.rename(final)
        versions.fsync_dir(published_dir)
        crash_point("publish.after_folder_rename")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, manifest


def _write_duckdb(parquet: Mapping[str, Path], tmp: Path, source: sharing.Previous | None,
                  changed: set[str]) -> None:
    """marts.duckdb: a copy of the previous version's with only the changed marts replaced
    when some marts are unchanged (their inputs, the writer code included, are the previous
    version's), else written whole."""
    path = tmp / DUCKDB_FILE
    if source is not None and len(changed) < len(parquet) and source.copy_of(DUCKDB_FILE, path):
        if writers.update_duckdb(path, parquet, changed):
            return
        path.unlink()  # too much free space carried: written whole below
    writers.write_duckdb(parquet, tmp)


def _shared(source: sharing.Previous | None, rel: str, tmp: Path) -> bool:
    """Share `rel` from `source` into `tmp`; False: write it (no source, or not intact)."""
    return source is not None and source.take(rel, tmp / rel) is not None


def _write_report(tmp: Path, marts: Collection[str], manifest: dict,
                  source: sharing.Previous | None) -> dict | None:
    """Render report/ from the files in `tmp`; None when the KKiK marts are not published.

    Not caught: a report that cannot be rendered fails the publication, because `current`
    must never point at a version whose report is missing or shows other numbers.
    """
    # imported here: the report reads the attribution texts from pipelines.publish
    from pipelines.report import REQUIRED_MARTS, render

    if not all(m in marts for m in REQUIRED_MARTS):
        return None
    result = render(tmp, tmp / REPORT_DIR, manifest=manifest, previous=source,
                    previous_prefix=f"{REPORT_DIR}/")
    return {**result.summary(), "seconds": round(result.seconds, 1)}


def _refuse_failed_checks(check_results: Sequence[CheckResult]) -> None:
    failed = blocking_failures(check_results)
    if failed:
        raise PublishRefused(
            f"blocking checks failed ({', '.join(failed)}): the last good publication stays current"
        )


def _refuse_older(as_of: str, previous: dict | None, allow_older: str | None) -> None:
    """Refuse to move `current` back in time unless the operator said why."""
    if not previous or not previous.get("as_of"):
        return
    if parse_as_of(as_of) >= parse_as_of(str(previous["as_of"])):
        return
    if allow_older and allow_older.strip():
        return
    raise PublishOlderRefused(
        f"the build is as of {as_of}, older than the current publication "
        f"{previous.get('version')} (as of {previous['as_of']}): refusing to publish the past "
        "over the present; `current` is unchanged. To publish it anyway, say why with "
        "--allow-older REASON (recorded in the manifest and history.jsonl); to go back to an "
        "earlier publication use `kommunkvalitet rollback`"
    )


def _remove_stale_temp_folders(published_dir: Path) -> None:
    """Leftovers of a publisher killed mid-write; safe to remove while we hold the lock."""
    for path in published_dir.glob(f"{versions.TMP_PREFIX}v*"):
        shutil.rmtree(path, ignore_errors=True)
    for link in published_dir.glob(f"{versions.TMP_PREFIX}{versions.CURRENT}-*"):
        link.unlink(missing_ok=True)  # a `current` symlink made but never switched


def _reconcile_history(published_dir: Path) -> None:
    """A publisher killed after moving `current` but before appending history.jsonl left a
    current version nobody recorded; record it now (marked `recovered`), under the lock."""
    current = versions.current_version(published_dir)
    if current is None or any(e.get("version") == current
                              for e in versions.read_history(published_dir)):
        return
    manifest = versions.read_manifest(published_dir, current)
    versions.append_history(published_dir, {
        "action": "publish", "version": current, "at": manifest.get("published_at"),
        "as_of": manifest.get("as_of"), "previous_version": manifest.get("previous_version"),
        "previous_as_of": manifest.get("previous_as_of"), "recovered": True,
    })
