"""The landing folder's file handling, shared by every file-import source.

A file waits in its folder under `landing/`, is read, its good rows appended as one batch, and
only then archived under its sha256 with its quarantine report and removed; a file that cannot
be read at all moves to `landing/rejected/` with a reason file, so it never loops. Every write
here is atomic (a temporary name, then `os.replace`), so a crash leaves either the old or the
new state, never half a file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipelines.eventlog.crash import crash_point


class LandingPathError(ValueError):
    """A name that points outside the landing folder (`../`, an absolute path, a symlink out)."""


def waiting_files(folder: Path) -> list[Path]:
    """Files waiting in `folder` (hidden and temporary files are not for us)."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith(".tmp")
    )


def resolve_in(folder: Path, name: str) -> Path:
    """The file `name` inside `folder`; refuses anything that escapes it."""
    root = folder.resolve()
    raw = Path(name)
    if raw.is_absolute() or ".." in raw.parts:
        raise LandingPathError(f"{name!r} is not a plain name inside {root}")
    candidate = root / raw
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise LandingPathError(f"{name!r} leads outside {root} (to {resolved})")
    return candidate


def _temp_for(target: Path) -> Path:
    """A fresh temp name beside `target`; a killed writer's leftovers of it are removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def copy_atomically(source: Path, target: Path) -> None:
    tmp = _temp_for(target)
    shutil.copyfile(source, tmp)
    crash_point("landing.before_rename")
    os.replace(tmp, target)


def write_atomically(target: Path, text: str) -> None:
    tmp = _temp_for(target)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def move_to_rejected(path: Path, rejected_dir: Path, report: str) -> Path:
    """Move an unreadable file out of the landing folder, with its reason beside it."""
    target = rejected_dir / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    write_atomically(target.with_name(target.name + ".reason.txt"), report + "\n")
    return target


def archive_imported(path: Path, archive_root: Path, sha256: str, report: str,
                     problems: list[dict], warnings: list[dict], *, remove: bool) -> Path:
    """Archive an imported file under its sha256 with its quarantine report (text and JSON),
    then, when it lives in the landing folder, remove it: only now, after its batch and
    archive are committed, so a crash before this point leaves it to be imported again."""
    import json

    archive = archive_root / sha256
    copy_atomically(path, archive / path.name)
    crash_point("import.after_archive_copy")
    write_atomically(archive / f"{path.name}.rapport.txt", report + "\n")
    write_atomically(
        archive / f"{path.name}.rapport.json",
        json.dumps({"problems": problems, "warnings": warnings}, ensure_ascii=False, indent=2)
        + "\n",
    )
    if remove:
        crash_point("import.before_remove")
        path.unlink(missing_ok=True)
        crash_point("import.after_remove")
    return archive


def drop_examples(examples_dir: Path, landing_dir: Path, archive_root: Path) -> list[Path]:
    """Copy bundled example files into a landing folder (the sample source), once: an example
    already in the archive was imported before, and dropping it again would undo any
    correction imported since."""
    import hashlib

    landing_dir.mkdir(parents=True, exist_ok=True)
    dropped = []
    for example in sorted(examples_dir.glob("*.csv")):
        digest = hashlib.sha256(example.read_bytes()).hexdigest()
        if (archive_root / digest).exists():
            continue
        target = landing_dir / example.name
        shutil.copyfile(example, target)
        dropped.append(target)
    return dropped
