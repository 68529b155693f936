"""The initiatives register: reading CSV/XLSX with the assessments' rules, quarantine, and the
event log's invariants (idempotent re-import, a removed initiative tombstoned, scope per kommun)."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from pipelines.eventlog.store import EventLog, current_payloads
from pipelines.sample.reference import load_seed
from pipelines.settings import Layout
from pipelines.sources.initiatives.importer import EXAMPLES_DIR, import_initiatives
from pipelines.sources.initiatives.reader import parse_kpis, read_initiatives_file, slug
from pipelines.sources.initiatives.streams import INITIATIVE
from pipelines.sources.kommunkompassen.cells import CellError
from pipelines.sources.kommunkompassen.problems import UnreadableFile

MUNICIPALITIES = {m["id"]: m["title"] for m in load_seed().municipalities if m["type"] == "K"}
KPIS = {"N15428", "N15436", "U21401", "U21468", "U00811", "U00502"}
NETWORKS = ["exempel_natverk_varmland"]
HEADER = "Kommunkod;Kommun;Id;Initiativ;Nyckeltal;Startår;Jämförelsegrupp;Beskrivning"


def write(tmp_path: Path, *rows: str, name: str = "initiativ.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8-sig")
    return path


def read(path: Path):
    return read_initiatives_file(path, municipalities=MUNICIPALITIES, known_kpis=KPIS,
                                 networks=NETWORKS)


def test_the_bundled_example_lands_four_and_quarantines_one() -> None:
    result = read(EXAMPLES_DIR / "exempel_initiativ.csv")
    assert result.rows_read == 5 and len(result.records) == 4
    [problem] = result.problems
    assert (problem.row, problem.column, problem.value) == (6, "Startår", "tjugo-tjugotre")
    by_key = {r.entity_key: r.payload for r in result.records}
    assert by_key["1784|studiero-ak7-9"]["kpis"] == "N15428,N15436"
    assert by_key["1784|kontinuitet-i-hemtjansten"]["peer_set"] == "liknande_kommuner"
    assert by_key["1780|snabbare-bygglov"]["peer_set"] == "network:exempel_natverk_varmland"
    assert by_key["0180|fossilfria-fordon"]["peer_set"] == "riket"
    # a rejected row for Arvika holds Arvika back from the snapshot: nothing of it is deleted
    assert result.scope() == {"municipality": ["0180", "1780"]}


def test_csv_and_xlsx_give_the_same_records(tmp_path: Path) -> None:
    rows = [["Kommunkod", "Kommun", "Initiativ", "Nyckeltal", "Startår"],
            ["1784", "Arvika", "Studiero", "N15428;N15436", 2021],
            [180, "", "Fossilfria fordon", "u00502", "2019"]]
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(tmp_path / "initiativ.xlsx")
    csv = write(tmp_path, "1784;Arvika;Studiero;N15428, N15436;2021",
                "0180;;Fossilfria fordon;U00502;2019",
                header="Kommunkod;Kommun;Initiativ;Nyckeltal;Startår")
    from_xlsx = read(tmp_path / "initiativ.xlsx")
    from_csv = read(csv)
    assert not from_xlsx.problems and not from_csv.problems
    assert [r.payload for r in from_xlsx.records] == [r.payload for r in from_csv.records]
    assert from_csv.records[1].payload == {
        "municipality": "0180", "initiative": "fossilfria-fordon", "title": "Fossilfria fordon",
        "kpis": "U00502", "start_year": 2019, "peer_set": "kommungrupp", "description": None}


@pytest.mark.parametrize("row, column, reason", [
    ("9999;;;A;N15428;2021;;", "Kommunkod", "okänd kommunkod"),
    ("1784;Karlstad;;A;N15428;2021;;", "Kommunkod / Kommun", "avser olika kommuner"),
    (";;;A;N15428;2021;;", "Kommunkod / Kommun", "ange kommunkod eller kommun"),
    ("1784;;;;N15428;2021;;", "Initiativ", "behöver en titel"),
    ("1784;;;A;N1542;2021;;", "Nyckeltal", "N1542 är inget Kolada-nyckeltal"),
    ("1784;;;A;;2021;;", "Nyckeltal", "minst ett nyckeltal"),
    ("1784;;;A;N15428;1899;;", "Startår", "mellan 1990 och 2100"),
    ("1784;;;A;N15428;2021;grannarna;", "Jämförelsegrupp", "okänd jämförelsegrupp"),
    ("1784;;Ett id!;A;N15428;2021;;", "Id", "a-z, 0-9"),
])
def test_a_bad_row_is_rejected_naming_row_and_column(tmp_path: Path, row, column, reason) -> None:
    result = read(write(tmp_path, "0180;;;Bra rad;N15428;2021;;", row))
    assert len(result.records) == 1
    assert (result.problems[0].row, result.problems[0].column) == (3, column)
    assert any(reason in p.reason for p in result.problems)


def test_a_repeated_initiative_is_rejected_and_points_at_the_first(tmp_path: Path) -> None:
    result = read(write(tmp_path, "1784;;;Studiero;N15428;2021;;", "1784;;;Studiero;N15436;2022;;"))
    assert len(result.records) == 1
    assert "finns redan på rad 2" in result.problems[0].reason


def test_names_kpi_lists_and_unknown_kpis(tmp_path: Path) -> None:
    result = read(write(tmp_path, ";Arvika kommun;;A;n15428 N15428,U99999;2021;Liknande kommuner;"))
    [record] = result.records
    assert record.payload["municipality"] == "1784"
    assert record.payload["kpis"] == "N15428,U99999"
    assert record.payload["peer_set"] == "liknande_kommuner"
    assert any("U99999 hämtas inte" in w.reason for w in result.warnings)


def test_helpers() -> None:
    assert slug("Studiero & närvaro i åk 7–9!") == "studiero-narvaro-i-ak-7-9"
    assert parse_kpis(" n15428;U21401  N15428 ") == ["N15428", "U21401"]
    with pytest.raises(CellError):
        parse_kpis("N15428, 15428")


def test_a_file_without_the_required_columns_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="nyckeltal"):
        read(write(tmp_path, "1784;A;2021", header="Kommunkod;Initiativ;Startår"))


def _import(path: Path, log: EventLog, layout: Layout, batch: str):
    return import_initiatives(path, log, layout=layout, batch_id=batch, run_id="test",
                              municipalities=MUNICIPALITIES, networks=NETWORKS, remove=True)


def test_import_archives_is_idempotent_and_a_removed_initiative_is_tombstoned(
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path / "data")
    log = EventLog(layout.events_dir)
    layout.initiative_landing_dir.mkdir(parents=True)
    rows = ["1784;;;Studiero;N15428;2021;;", "1784;;;Hemtjänst;U21401;2020;;",
            "0180;;;Fordon;U00502;2019;riket;"]
    first = _import(write(layout.initiative_landing_dir, *rows), log, layout, "b1")
    assert first.events_appended == 3 and first.archived_to and first.archived_to.is_dir()
    assert not (layout.initiative_landing_dir / "initiativ.csv").exists()
    again = _import(write(layout.initiative_landing_dir, *rows), log, layout, "b2")
    assert again.events_appended == 0
    # Arvika's register without Hemtjänst: that one is deleted, Stockholm's is not touched
    third = _import(write(layout.initiative_landing_dir, rows[0], name="arvika.csv"), log,
                    layout, "b3")
    assert third.batch is not None and third.batch.deleted == 1
    assert set(current_payloads(log, INITIATIVE)) == {"1784|studiero", "0180|fordon"}


def test_an_unreadable_file_moves_to_rejected_with_its_reason(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "data")
    log = EventLog(layout.events_dir)
    layout.initiative_landing_dir.mkdir(parents=True)
    path = layout.initiative_landing_dir / "tom.csv"
    path.write_text("", encoding="utf-8")
    outcome = _import(path, log, layout, "b1")
    assert outcome.status == "rejected" and outcome.rejected_to is not None
    assert "filen är tom" in (outcome.rejected_to.parent / "tom.csv.reason.txt").read_text()
    assert "Initiativ-import" in outcome.report


def test_the_sample_example_is_dropped_once(tmp_path: Path) -> None:
    from pipelines.sources.initiatives.importer import drop_examples

    layout = Layout(tmp_path / "data")
    log = EventLog(layout.events_dir)
    [dropped] = drop_examples(layout)
    _import(dropped, log, layout, "b1")
    assert drop_examples(layout) == []
    shutil.rmtree(layout.initiative_archive_dir)
    assert len(drop_examples(layout)) == 1
