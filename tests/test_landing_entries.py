"""Issue 31, items 1 and 2 (and 8's "flyttad till None"): what the landing folders hold that is
not an ordinary import file. A legal file name of 240 characters is imported and archived (no
derived name over the file system's limit); an import whose archive copy cannot be written
appends nothing; links out of the folder, FIFOs, devices, folders named `.csv`, link loops and
dangling links are refused with a line in the report, never opened, in the nightly folder scan
(the assets, materialized for real) and in the sensor."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.eventlog.store import EventLog
from pipelines.settings import REPO_ROOT, Layout
from pipelines.sources.kommunkompassen.importer import import_file, landing_files
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.sources.landing import NAME_MAX, stored_name
from tests.test_kommunkompassen_wiring import HEADER, MUNICIPALITIES, _assessment

GOOD = HEADER + _assessment("1784", 2022, [60] * 8, 480)
LONG = "k" * 236 + ".csv"  # 240 characters: legal (NAME_MAX 255), its report's temp name is not


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "data")
    layout.assessment_landing_dir.mkdir(parents=True)
    layout.initiative_landing_dir.mkdir(parents=True)
    return layout


@pytest.fixture
def log(layout: Layout) -> EventLog:
    log = EventLog(layout.events_dir)
    log.ensure_layout()
    return log


def _import(layout: Layout, log: EventLog, path: Path, remove: bool = True):
    return import_file(path, log, layout=layout, batch_id="20260101T000000000000Z_t",
                       run_id="test", municipalities=MUNICIPALITIES, remove=remove)


def _events(log: EventLog) -> int:
    return log.events(KOMMUNKOMPASSEN).num_rows if log.event_files(KOMMUNKOMPASSEN) else 0


# -- item 1: long names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [LONG, "å" * 118 + ".csv", "x" * 251 + ".csv"])
def test_a_long_legal_name_is_imported_archived_and_leaves_the_landing(
        layout: Layout, log: EventLog, name: str) -> None:
    assert len(name.encode()) <= NAME_MAX
    path = layout.assessment_landing_dir / name
    path.write_text(GOOD, encoding="utf-8")
    outcome = _import(layout, log, path)
    assert outcome.status == "imported" and outcome.events_appended == 8
    assert landing_files(layout) == []  # it does not stop the next night
    stored = stored_name(name)
    for file in outcome.archived_to.iterdir():
        assert len(file.name.encode()) <= NAME_MAX
    assert (outcome.archived_to / stored).read_text(encoding="utf-8") == GOOD
    report = json.loads((outcome.archived_to / f"{stored}.rapport.json").read_text("utf-8"))
    assert report["file"] == name  # the original name is kept inside
    assert (outcome.archived_to / f"{stored}.rapport.txt").exists()


def test_a_long_name_of_an_unreadable_file_moves_to_rejected(layout: Layout, log: EventLog
                                                             ) -> None:
    path = layout.assessment_landing_dir / LONG
    path.write_text("", encoding="utf-8")
    outcome = _import(layout, log, path)
    assert outcome.status == "rejected" and not path.exists()
    assert outcome.rejected_to is not None and outcome.rejected_to.is_file()
    assert (layout.rejected_dir / f"{outcome.rejected_to.name}.reason.txt").exists()


def test_a_short_name_is_stored_as_it_is() -> None:
    assert stored_name("arvika.csv") == "arvika.csv"
    assert stored_name(LONG) != LONG and stored_name(LONG).endswith(".csv")
    assert stored_name(LONG) != stored_name("k" * 235 + "j.csv")  # the whole name is hashed


def test_an_archive_that_cannot_be_written_appends_nothing(layout: Layout, log: EventLog) -> None:
    """The import's events and its archive step never part ways: the copy comes first."""
    path = layout.assessment_landing_dir / "arvika.csv"
    path.write_text(GOOD, encoding="utf-8")
    layout.assessment_archive_dir.parent.mkdir(parents=True, exist_ok=True)
    layout.assessment_archive_dir.write_text("a file where the archive folder belongs")
    with pytest.raises(OSError):
        _import(layout, log, path)
    assert _events(log) == 0
    assert path.exists()  # left for the next run, which now appends and archives together
    layout.assessment_archive_dir.unlink()
    assert _import(layout, log, path).events_appended == 8
    assert not path.exists()


def test_import_path_of_an_unreadable_file_says_where_it_is(layout: Layout, log: EventLog,
                                                            tmp_path: Path) -> None:
    """`import PATH` leaves the file where it is: the summary must not say "flyttad till None"."""
    path = tmp_path / "elsewhere.csv"
    path.write_text("", encoding="utf-8")
    outcome = _import(layout, log, path, remove=False)
    assert outcome.status == "rejected" and path.exists()
    assert "None" not in outcome.summary()
    assert "ligger kvar" in outcome.summary() and "tom" in outcome.summary()


# -- item 2: what is no import file ---------------------------------------------------------


def _hostile(folder: Path, outside: Path) -> dict[str, str]:
    """Entries that are no importable file -> a word their report line must contain."""
    outside.write_text(GOOD.replace("60", "99"), encoding="utf-8")
    (folder / "link-out.csv").symlink_to(outside)
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    (folder / "dangling.csv").symlink_to(folder / "nowhere.csv")
    (folder / "folder.csv").mkdir()
    os.mkfifo(folder / "fifo.csv")
    (folder / "null.csv").symlink_to("/dev/null")  # a device, reached through a link
    return {"link-out.csv": "utanför", "passwd.csv": "utanför", "loop.csv": "slinga",
            "dangling.csv": "inte finns", "folder.csv": "mapp", "fifo.csv": "FIFO",
            "null.csv": "utanför"}


def _platform(layout: Layout):
    from pipelines.orchestration.resources import PlatformResource

    return PlatformResource(data_dir=str(layout.data_dir),
                            config_path=str(REPO_ROOT / "pipelines" / "config" / "default.yaml"))


def _reports(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> tuple[dict, str]:
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key == key]
    meta = event.materialization.metadata
    return meta, meta["reports"].value


def _block(reports: str, name: str) -> str:
    """The report of the file `name` (one fenced block per file)."""
    (block,) = [b for b in reports.split("```") if f": {name}\n" in b]
    return block


def test_the_nightly_assessment_scan_refuses_what_is_no_file_with_a_line_each(
        layout: Layout, tmp_path: Path) -> None:
    from assets.assessment import ASSET_KEY, kommunkompassen
    from pipelines.sources.kommunkompassen.resource import AssessmentResource

    folder = layout.assessment_landing_dir
    (folder / "arvika.csv").write_text(GOOD, encoding="utf-8")
    expected = _hostile(folder, tmp_path / "outside.csv")
    started = time.monotonic()
    result = dg.materialize([kommunkompassen], resources={
        "platform": _platform(layout), "assessments": AssessmentResource(source="live")})
    assert time.monotonic() - started < 60  # the FIFO was never opened (it would block)
    assert result.success
    meta, reports = _reports(result, ASSET_KEY)
    assert meta["events_appended"].value == 8  # the good file only
    assert meta["rejected_files"].value == len(expected)
    for name, word in expected.items():
        assert word in _block(reports, name)
        assert not (folder / name).exists() and not (folder / name).is_symlink()  # reported once
        assert (layout.rejected_dir / f"{name}.reason.txt").exists()
    assert "root:" not in reports  # /etc/passwd was never read
    assert (tmp_path / "outside.csv").exists()  # a link's target is never touched
    archived = [p.name for p in layout.assessment_archive_dir.rglob("*") if p.is_file()]
    assert sorted(archived) == ["arvika.csv", "arvika.csv.rapport.json", "arvika.csv.rapport.txt"]


def test_the_nightly_initiatives_scan_refuses_what_is_no_file(layout: Layout, tmp_path: Path
                                                              ) -> None:
    from assets.initiatives import registered
    from pipelines.sources.initiatives.streams import INITIATIVE
    from pipelines.sources.kommunkompassen.resource import AssessmentResource

    expected = _hostile(layout.initiative_landing_dir, tmp_path / "outside.csv")
    result = dg.materialize([registered], resources={
        "platform": _platform(layout), "assessments": AssessmentResource(source="live")})
    assert result.success
    meta, reports = _reports(result, dg.AssetKey(list(INITIATIVE.asset_key_path)))
    assert meta["rejected_files"].value == len(expected)
    for name, word in expected.items():
        assert word in _block(reports, name)
    assert "root:" not in reports
    assert not any(layout.initiative_landing_dir.iterdir())


def test_the_sensor_launches_a_run_for_a_refused_entry_and_never_opens_it(
        layout: Layout, tmp_path: Path) -> None:
    from assets.assessment import OP_NAME
    from tests.test_kommunkompassen_wiring import _sensor_requests

    folder = layout.assessment_landing_dir
    (folder / "arvika.csv").write_text(GOOD, encoding="utf-8")
    expected = _hostile(folder, tmp_path / "outside.csv")
    requests = _sensor_requests(layout)  # returns: the FIFO was not read
    names = sorted(r.run_config["ops"][OP_NAME]["config"]["landing_names"][0]
                   for r in requests)
    assert names == sorted([*expected, "arvika.csv"])
    assert len({r.run_key for r in requests}) == len(requests)
