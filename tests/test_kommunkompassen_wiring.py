"""The Kommunkompassen source wired into the platform: importer, landing folder, sensor.

The reader's conventions and failure classes are in test_kommunkompassen_reader/_corpus; here
the file's way through the real event log, the archive and the rejected folder, and the sensor
that launches one run per new file (evaluated with `build_sensor_context`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import dagster as dg
import pytest

from pipelines.eventlog.store import EventLog, current_payloads
from pipelines.settings import REPO_ROOT, Layout
from pipelines.sources.kommunkompassen.areas import AREAS
from pipelines.sources.kommunkompassen.importer import (
    LandingPathError,
    import_file,
    landing_files,
    resolve_landing_name,
)
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN

MUNICIPALITIES = {"1784": "Arvika", "1444": "Grästorp", "1883": "Karlskoga"}
HEADER = "kommunkod;år;område_nr;poäng;totalt\n"


def _assessment(code: str, year: int, scores: list[int], total: int | None = None) -> str:
    return "".join(
        f"{code};{year};{n};{s};{total if total is not None else ''}\n"
        for n, s in enumerate(scores, 1)
    )


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "data")
    layout.assessment_landing_dir.mkdir(parents=True)
    return layout


@pytest.fixture
def log(layout: Layout) -> EventLog:
    log = EventLog(layout.events_dir)
    log.ensure_layout()
    return log


def drop(layout: Layout, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = layout.assessment_landing_dir / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(layout: Layout, log: EventLog, path: Path, n: int = 0, remove: bool = True):
    return import_file(path, log, layout=layout, batch_id=f"20260101T00000000000{n}Z_t",
                       run_id="test", municipalities=MUNICIPALITIES, remove=remove)


def scores(log: EventLog) -> dict[str, float]:
    return {k: p["score"] for k, p in current_payloads(log, KOMMUNKOMPASSEN).items()}


def test_kommunkompassen_seed_labels_equal_the_readers_labels() -> None:
    path = REPO_ROOT / "dbt_project" / "seeds" / "kommunkompassen_areas.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        seed = {(int(r["version"]), int(r["area_number"])): r["area_label"]
                for r in csv.DictReader(handle)}
    reader = {(a.version, a.number): a.label for areas in AREAS.values() for a in areas}
    assert seed == reader


def test_kommunkompassen_import_lands_archives_and_empties_the_landing_folder(
    layout: Layout, log: EventLog
) -> None:
    path = drop(layout, "arvika.csv", HEADER + _assessment("1784", 2022, [60] * 8, 480))
    outcome = run_import(layout, log, path)
    assert outcome.status == "imported" and outcome.events_appended == 8
    assert landing_files(layout) == []
    archived = outcome.archived_to
    assert archived == layout.assessment_archive_dir / outcome.sha256
    assert (archived / "arvika.csv").read_bytes() == HEADER.encode() + _assessment(
        "1784", 2022, [60] * 8, 480).encode()
    assert (archived / "arvika.csv.rapport.txt").exists()
    assert len(scores(log)) == 8


def test_kommunkompassen_same_file_twice_adds_nothing(layout: Layout, log: EventLog) -> None:
    text = HEADER + _assessment("1784", 2022, [60] * 8)
    run_import(layout, log, drop(layout, "a.csv", text), 0)
    again = run_import(layout, log, drop(layout, "a-copy.csv", text), 1)
    assert again.status == "imported" and again.events_appended == 0


def test_kommunkompassen_corrected_file_revises_and_never_deletes_others(
    layout: Layout, log: EventLog
) -> None:
    first = HEADER + _assessment("1784", 2022, [60] * 8) + _assessment("1444", 2014, [50] * 8)
    run_import(layout, log, drop(layout, "v1.csv", first), 0)
    # the corrected file covers Arvika only: one score changed, area 8 left out on purpose
    corrected = HEADER + _assessment("1784", 2022, [61] + [60] * 6)
    outcome = run_import(layout, log, drop(layout, "v2.csv", corrected), 1)
    assert (outcome.batch.upserted, outcome.batch.deleted) == (1, 1)
    now = scores(log)
    assert now["1784|2022|2020|1"] == 61.0
    assert "1784|2022|2020|8" not in now  # inside the file's scope: a tombstone
    assert sum(k.startswith("1444|2014|2010|") for k in now) == 8  # outside it: untouched


def test_kommunkompassen_rejected_row_never_becomes_a_deletion(
    layout: Layout, log: EventLog
) -> None:
    run_import(layout, log, drop(layout, "v1.csv", HEADER + _assessment("1784", 2022, [60] * 8)))
    typo = HEADER + _assessment("1784", 2022, [60] * 7) + "1784;2022;8;sextio;\n"
    outcome = run_import(layout, log, drop(layout, "v2.csv", typo), 1)
    assert outcome.rejected_rows == 1 and outcome.events_appended == 0
    assert len(scores(log)) == 8
    report = (outcome.archived_to / "v2.csv.rapport.txt").read_text(encoding="utf-8")
    assert "rad 9" in report and "poäng" in report


def test_kommunkompassen_unreadable_file_moves_to_rejected_with_a_reason(
    layout: Layout, log: EventLog
) -> None:
    path = drop(layout, "bad.xlsx", "this is not a workbook")
    outcome = run_import(layout, log, path)
    assert outcome.status == "rejected"
    assert not path.exists()
    assert (layout.rejected_dir / "bad.xlsx").exists()
    reason = (layout.rejected_dir / "bad.xlsx.reason.txt").read_text(encoding="utf-8")
    assert reason.strip()
    assert landing_files(layout) == []  # it cannot loop


@pytest.mark.parametrize("name", ["../escape.csv", "/etc/passwd", "sub/../../escape.csv"])
def test_kommunkompassen_landing_names_that_escape_are_refused(
    layout: Layout, name: str
) -> None:
    with pytest.raises(LandingPathError):
        resolve_landing_name(layout, name)


def test_kommunkompassen_landing_symlink_out_of_the_folder_is_refused(
    layout: Layout, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("x", encoding="utf-8")
    (layout.assessment_landing_dir / "link.csv").symlink_to(outside)
    with pytest.raises(LandingPathError, match="leads outside"):
        resolve_landing_name(layout, "link.csv")


def _sensor_requests(layout: Layout) -> list[dg.RunRequest]:
    from assets.assessment import assessment_landing_sensor
    from pipelines.orchestration.resources import PlatformResource

    platform = PlatformResource(data_dir=str(layout.data_dir), config_path="unused.yaml")
    with dg.build_sensor_context(resources={"platform": platform}) as context:
        result = assessment_landing_sensor(context)
        return list(result) if result is not None else []


def test_kommunkompassen_sensor_one_run_per_file_and_content(
    layout: Layout, log: EventLog
) -> None:
    assert _sensor_requests(layout) == []
    path = drop(layout, "a.csv", HEADER + _assessment("1784", 2022, [60] * 8))
    (first,) = _sensor_requests(layout)
    (same,) = _sensor_requests(layout)
    assert first.run_key == same.run_key  # Dagster launches a run key once
    op_config = next(iter(first.run_config["ops"].values()))["config"]
    assert op_config == {"landing_names": ["a.csv"]}
    run_import(layout, log, path)
    assert _sensor_requests(layout) == []  # imported: gone from the landing folder
    drop(layout, "a.csv", HEADER + _assessment("1784", 2022, [61] * 8))
    (corrected,) = _sensor_requests(layout)
    assert corrected.run_key != first.run_key
    bad = drop(layout, "b.csv", "\x00\x01binary")
    assert len(_sensor_requests(layout)) == 2
    run_import(layout, log, bad, 1)
    assert [r.run_config["ops"] for r in _sensor_requests(layout)] == [corrected.run_config["ops"]]
