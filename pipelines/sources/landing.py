"""The landing folder's file handling, shared by every file-import source.

A file waits in its folder under `landing/`, is read, its good rows appended as one batch, and
only then archived under its sha256 with its quarantine report and removed; a file that cannot
be read at all moves to `landing/rejected/` with a reason file, so it never loops. Every write
here is atomic (a temporary name, then `os.replace`), so a crash leaves either the old or the
new state, never half a file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from pathlib import Path

from pipelines.eventlog.crash import crash_point

# The longest suffix a name gets here: `.<name>.rapport.json.<pid>.tmp` (a pid has at most 7
# digits on Linux). A file name that is legal in landing/ can be too long for its archive's
# report, so names are shortened for storage (`stored_name`), never the other way round.
_LONGEST_DERIVATION = len("." + ".rapport.json." + "4194304" + ".tmp")
NAME_MAX = 255  # bytes; every common Linux file system (ext4, xfs, btrfs, tmpfs)


class LandingPathError(ValueError):
    """A name that points outside the landing folder (`../`, an absolute path, a symlink out)."""


def _ignored(name: str) -> bool:
    """Hidden, Office lock and temporary files are not for us (nor reported)."""
    return name.startswith((".", "~$")) or name.endswith(".tmp")


def entry_problem(folder: Path, path: Path) -> str | None:
    """Why the entry `path` of the landing folder `folder` must not be imported, or None for a
    regular file inside it. A symlink may point at a file elsewhere in the landing folder,
    never outside it (an analyst's link to /etc/passwd would be read and archived); a FIFO
    would block the read forever, a device or a folder named `x.csv` is no import file."""
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 raises this for a loop
        return "länken pekar i en slinga (symbolisk länk till sig själv)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # how later Pythons say it
            return "länken pekar i en slinga (symbolisk länk till sig själv)"
        if path.is_symlink():
            return (f"länken pekar på {os.readlink(path)}, som inte finns eller inte kan nås "
                    f"({exc.strerror or exc})")
        return f"filen kan inte läsas: {exc.strerror or exc}"
    if not resolved.is_relative_to(folder.resolve()):
        return (f"länken pekar utanför mappen {folder} (till {resolved}); bara filer i mappen "
                "läses in")
    mode = resolved.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    kind = ("en mapp" if stat.S_ISDIR(mode) else "en namngiven pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "en enhetsfil" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "en socket" if stat.S_ISSOCK(mode) else "ingen vanlig fil")
    return f"det här är {kind}, ingen fil att läsa in"


def scan_landing(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files to import, [(entry, why it is refused)]) in `folder`, each sorted by name.

    Nothing is opened: a FIFO would block the scan, and a link out of the folder must not be
    read before it is refused."""
    if not folder.is_dir():
        return [], []
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for path in sorted(folder.iterdir()):
        if _ignored(path.name):
            continue
        problem = entry_problem(folder, path)
        if problem is None:
            files.append(path)
        else:
            refused.append((path, problem))
    return files, refused


def waiting_files(folder: Path) -> list[Path]:
    """Regular files waiting in `folder` (not hidden or temporary, nothing leading outside)."""
    return scan_landing(folder)[0]


def refused_entries(folder: Path) -> list[tuple[Path, str]]:
    """Entries of `folder` that are not importable files, with the reason (scan_landing)."""
    return scan_landing(folder)[1]


def stored_name(name: str) -> str:
    """`name` as the archive and rejected/ store it: itself when every name derived from it
    (report, temporary file) stays within NAME_MAX bytes; else its head, cut at a character
    boundary, a hash of the whole name and its suffix. The original name is kept inside the
    JSON report."""
    raw = name.encode("utf-8")
    if len(raw) + _LONGEST_DERIVATION <= NAME_MAX:
        return name
    suffix = Path(name).suffix if len(Path(name).suffix.encode("utf-8")) <= 16 else ""
    tag = "~" + hashlib.sha256(raw).hexdigest()[:12]
    room = NAME_MAX - _LONGEST_DERIVATION - len(tag) - len(suffix.encode("utf-8"))
    head = raw[: max(room, 1)].decode("utf-8", errors="ignore")
    return head + tag + suffix


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
    """Move an unreadable file out of the landing folder, with its reason beside it. A symlink
    is moved as the link (its target is never touched); an entry that cannot be moved (a
    folder of that name already there) stays, its reason written all the same."""
    target = rejected_dir / stored_name(path.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, target)
    except OSError:
        if path.is_dir() and not path.is_symlink() and target.exists():
            target = target.with_name(f"{target.name}~{os.getpid()}")
            os.replace(path, target)
        else:
            raise
    write_atomically(target.with_name(target.name + ".reason.txt"), report + "\n")
    return target


def archive_copy(path: Path, archive_root: Path, sha256: str) -> Path:
    """Copy an import file into its archive folder (under its sha256), before its batch is
    appended: a file whose copy cannot be written (a full disk, a name too long) fails here,
    with nothing appended, so events never exist without their archived file."""
    archive = archive_root / sha256
    copy_atomically(path, archive / stored_name(path.name))
    crash_point("import.after_archive_copy")
    return archive


def archive_imported(path: Path, archive_root: Path, sha256: str, report: str,
                     problems: list[dict], warnings: list[dict], *, remove: bool) -> Path:
    """Write an archived file's quarantine report (text and JSON, the JSON with the file's
    original name) beside its copy (archive_copy), then, when it lives in the landing folder,
    remove it: only now, after its batch and archive are committed, so a crash before this
    point leaves it to be imported again."""
    import json

    archive = archive_root / sha256
    name = stored_name(path.name)
    if not (archive / name).is_file():  # a caller that did not copy first
        archive_copy(path, archive_root, sha256)
    write_atomically(archive / f"{name}.rapport.txt", report + "\n")
    write_atomically(
        archive / f"{name}.rapport.json",
        json.dumps({"file": path.name, "problems": problems, "warnings": warnings},
                   ensure_ascii=False, indent=2) + "\n",
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
