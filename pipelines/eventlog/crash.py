"""Named crash points, so tests can SIGKILL a writer at an exact step and prove atomicity.

Set `KK_CRASH_AT=<point>` (and optionally `KK_CRASH_MARKER=<file>`) in a child process: when
the writer reaches that point it writes the marker (so the test can assert the point was
really reached) and kills itself with SIGKILL, which no cleanup handler can intercept. With
`KK_CRASH_GROUP=1` it kills its whole process group instead (the child runs in its own
session), as an OOM killer or a `kill -9 -PGID` from systemd would: threads, servers and any
subprocess (dbt) die together.

Every point is listed in CRASH_POINTS, so the crash suite (tests/test_crash_points.py) can
assert it covers all of them.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

# (point, where): before, inside and after each file write, rename, symlink switch and
# ledger write of an ingest, an assessment import and a publish, and a build's start (a build
# is also killed at a random moment inside dbt: tests/test_platform_sample.py).
CRASH_POINTS: dict[str, str] = {
    "origin.before_rename": "the event log's _origin.json, written but not renamed",
    "eventlog.before_write": "a batch file, before its temp file is written",
    "eventlog.before_fsync": "a batch file, temp written but not fsynced",
    "eventlog.before_rename": "a batch file, temp fsynced but not renamed into the stream",
    "eventlog.after_rename": "a batch file committed, its ledger row not yet written",
    "ledger.before_write": "a ledger row, before its temp file is written",
    "ledger.before_fsync": "a ledger row, temp written but not fsynced",
    "ledger.before_rename": "a ledger row, temp fsynced but not renamed",
    "ledger.after_rename": "a ledger row committed, the append not yet returned",
    "state.before_write": "a stream's current-state file, before its temp file is written",
    "state.before_fsync": "a current-state file, temp written but not fsynced",
    "state.before_rename": "a current-state file, temp fsynced but not renamed (stale state left)",
    "state.after_rename": "a current-state file in place, the append not yet returned",
    "landing.before_rename": "an archive copy of an imported file, temp written not renamed",
    "import.after_archive_copy": "the imported file archived, its batch not yet appended",
    "import.before_remove": "file and reports archived, the landing copy not yet removed",
    "import.after_remove": "the landing copy removed, the import not yet reported",
    "build.before_dbt": "a build's run started and holding the warehouse slot, dbt not yet run",
    "checks.inside_gx": "inside the GX step: one suite's result recorded, the others not run",
    "publish.inside_version_write": "a version folder half written (Parquet, not the rest)",
    "publish.before_manifest": "every file of the version written except manifest.json",
    "publish.before_folder_rename": "the version complete and fsynced under .tmp-<version>",
    "publish.after_folder_rename": "the version in place, `current` not yet moved",
    "publish.before_symlink_switch": "the new `current` symlink made under a temp name",
    "publish.after_symlink_switch": "`current` moved, the folder not yet fsynced",
    "publish.before_history": "`current` moved, history.jsonl not yet appended",
    "publish.before_prune": "history written, old versions not yet pruned",
    "publish.after_prune": "old versions pruned, the publish lock not yet released",
}


def crash_point(name: str) -> None:
    if os.environ.get("KK_CRASH_AT") != name:
        return
    marker = os.environ.get("KK_CRASH_MARKER")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    if os.environ.get("KK_CRASH_GROUP") == "1":
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
