"""The publisher on a small real DuckDB warehouse: files, hashes, pointer, retention, rollback."""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.checks.results import GREAT_EXPECTATIONS, CheckResult
from pipelines.publish import (
    PublishOlderRefused,
    PublishRefused,
    RollbackError,
    UnknownVersion,
    current_manifest,
    current_version,
    list_versions,
    publish,
    read_history,
    rollback,
    versions,
    writers,
)
from pipelines.publish.formats import ALL_FORMATS
from pipelines.publish.hashing import content_hash

MARTS = ["dim_municipality", "fct_kpi_values", "mart_kkik_scorecard"]
EVERY_FORMAT = {m: ALL_FORMATS for m in MARTS}
HYPERLINK = '=HYPERLINK("http://x")'
T0 = datetime(2026, 11, 23, 19, 1, 2, tzinfo=UTC)
WAREHOUSE_SQL = f"""
create table dim_municipality as
select * from (values
    ('0180', 'Stockholm', 'K', false, 988000.0),
    ('1280', 'Malmö', 'K', false, 357377.0),
    ('2584', 'Kiruna', 'K', false, 22000.0),
    ('0000', 'Riket', 'L', true, null)
) t(municipality_id, municipality_name, municipality_type, is_riket, population);

create table fct_kpi_values as
select * replace (value::double as value) from (values
    ('N15428|0180|2025|T', 'N15428', '0180', 2025, 'T', 82.5, null,
     timestamptz '2026-01-02 10:00:00+00', 0),
    ('N00945|1280|2025|T', 'N00945', '1280', 2025, 'T', -1234.75, 'Ändrad',
     timestamptz '2026-02-03 11:30:00+00', 2),
    ('N00945|2584|2025|T', 'N00945', '2584', 2025, 'T', 0.0001, null, null, 1)
) t(entity_key, kpi_id, municipality_id, period, gender, value, status, last_revised_at,
    revision_count);

create table mart_kkik_scorecard as
select * from (values
    ('1280', 'Malmö', 'N15428', '{HYPERLINK.replace("'", "''")}', 'Stöd och omsorg', 2025,
     71.25, 2, 'röd?', -3.5),
    ('0180', 'Stockholm', 'N15428', 'Åtgärder för äldre', 'Barn och unga', 2025,
     82.5, 1, 'green', 1.0)
) t(municipality_id, municipality_name, kpi_id, kpi_title, kkik_area, year, value, rank,
    colour, county_mean);
"""
SUITE_RESULTS = [
    CheckResult(m, "gx_suite", GREAT_EXPECTATIONS, True, "ERROR",
                {"suite": m, "mart": m, "rows": 3, "passed": True, "outcomes": []})
    for m in MARTS
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(WAREHOUSE_SQL)
    con.close()
    return path


def _warehouse_hashes(path: Path) -> dict[str, str]:
    return {m: content_hash(t) for m, t in writers.read_marts(path, MARTS).items()}


def _publish(warehouse: Path, published: Path, watermark: datetime = T0, **kw):
    args = {
        "watermark": watermark,
        "check_results": SUITE_RESULTS,
        "code_version": "abc1234",
        "synthetic": True,
        "keep": 3,
        "now": watermark + timedelta(hours=1),
        # every file of every mart (the declared table, pipelines/publish/formats.py, gives
        # fct_kpi_values and the scorecard no Excel files); test_publish_sharing.py tests it
        "formats": EVERY_FORMAT,
        **kw,
    }
    return publish(warehouse, published, MARTS, **args)


def _current_hashes(published: Path) -> dict[str, str]:
    folder = published / "current"
    return {m: content_hash(pq.read_table(folder / f"{m}.parquet")) for m in MARTS}


def test_publish_parquet_and_duckdb_hash_equal_to_the_warehouse(
    warehouse: Path, tmp_path: Path
) -> None:
    result = _publish(warehouse, tmp_path / "published")
    expected = _warehouse_hashes(warehouse)
    folder = result.path
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    try:
        from_duckdb = {m: content_hash(con.table(m).to_arrow_table()) for m in MARTS}
    finally:
        con.close()
    from_parquet = {
        m: content_hash(duckdb.sql(f"select * from '{folder / m}.parquet'").to_arrow_table())
        for m in MARTS
    }
    assert from_parquet == expected and from_duckdb == expected
    assert {m: result.manifest["marts"][m]["content_hash"] for m in MARTS} == expected
    frame = pd.read_parquet(folder / "mart_kkik_scorecard.parquet")
    assert set(frame["municipality_name"]) == {"Malmö", "Stockholm"}


def test_publish_csv_round_trips_swedish_text_decimal_comma_and_negatives(
    warehouse: Path, tmp_path: Path
) -> None:
    folder = _publish(warehouse, tmp_path / "published").path
    raw = (folder / "csv" / "fct_kpi_values.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(
        folder / "csv" / "fct_kpi_values.csv",
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={"Kommunkod": str},
    )
    assert list(frame.columns[:3]) == ["Nyckel", "Nyckeltal id", "Kommunkod"]
    assert sorted(frame["Värde"]) == [-1234.75, 0.0001, 82.5]
    assert set(frame["Kommunkod"]) == {"0180", "1280", "2584"}
    assert "Ändrad" in set(frame["Status"])


def test_publish_csv_neutralises_formula_cells(warehouse: Path, tmp_path: Path) -> None:
    folder = _publish(warehouse, tmp_path / "published").path
    with open(folder / "csv" / "mart_kkik_scorecard.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, cells = rows[0], [c for row in rows[1:] for c in row]
    assert "Mått" in header and "Malmö" in cells and "Åtgärder för äldre" in cells
    assert "'" + HYPERLINK in cells and HYPERLINK not in cells
    assert "-3,5" in cells  # a negative number stays a number, not a neutralised text


def test_publish_points_current_at_a_complete_manifest(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    result = _publish(warehouse, published, override_reason="scope change")
    assert result.published and current_version(published) == result.version
    assert os.path.islink(published / "current")
    assert result.version == "v20261123T200102Z"
    manifest = current_manifest(published)
    assert manifest == json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == T0.isoformat() and manifest["previous_as_of"] is None
    assert manifest["code_version"] == "abc1234" and manifest["synthetic"] is True
    assert manifest["override_reason"] == "scope change"
    assert manifest["marts"]["fct_kpi_values"]["rows"] == 3
    assert manifest["checks"]["results"] == [r.to_dict() for r in SUITE_RESULTS]
    assert manifest["row_counts"]["fct_kpi_values"] == 3
    assert [p.name for p in published.iterdir() if p.name.startswith(".tmp")] == []


def test_publish_attribution_credits_kolada_only_for_unprocessed_values(
    warehouse: Path, tmp_path: Path
) -> None:
    attribution = _publish(warehouse, tmp_path / "published").manifest["attribution"]
    assert attribution["kolada"]["credit"] == "Källa: Kolada"
    assert "value" in attribution["kolada"]["applies_to"]["fct_kpi_values"]
    kolada_scorecard = attribution["kolada"]["applies_to"]["mart_kkik_scorecard"]
    own_scorecard = attribution["own_processing"]["applies_to"]["mart_kkik_scorecard"]
    assert {"rank", "colour", "county_mean"} <= set(own_scorecard)
    assert not {"rank", "colour", "county_mean"} & set(kolada_scorecard)
    assert attribution["scb"]["credit"] == "Källa: SCB"
    assert "synthetic_notice" in attribution


def test_publish_dictionary_has_swedish_headers_descriptions_and_credits(
    warehouse: Path, tmp_path: Path
) -> None:
    folder = _publish(warehouse, tmp_path / "published").path
    records = json.loads((folder / "dictionary.json").read_text(encoding="utf-8"))
    value = next(r for r in records if (r["mart"], r["column"]) == ("fct_kpi_values", "value"))
    assert value["header_sv"] == "Värde" and value["unit"] == "enligt nyckeltalets enhet"
    assert value["description"].startswith("The value; null when Kolada publishes the key")
    assert value["type"] == "double" and value["credit"] == "Källa: Kolada"
    assert len(records) == sum(len(c) for c in _columns(warehouse).values())
    swedish = pd.read_csv(folder / "dictionary_sv.csv", sep=";", encoding="utf-8-sig")
    assert list(swedish.columns) == [
        "Tabell", "Kolumn", "Rubrik", "Typ", "Beskrivning", "Enhet", "Källa",
        "Kod i Parquet/DuckDB = text i CSV/xlsx",
    ]
    english = pd.read_csv(folder / "dictionary_en.csv", sep=";", encoding="utf-8-sig")
    assert list(english.columns) == [
        "Table", "Column", "Swedish header", "Type", "Description", "Unit", "Credit", "Codes",
    ]
    row = (english["Table"] == "fct_kpi_values") & (english["Column"] == "value")
    assert english.loc[row, "Description"].item() == value["description"]
    # the Swedish file describes it in Swedish (pipelines/publish/descriptions_sv.yaml)
    assert swedish.loc[row, "Beskrivning"].item().startswith("Värdet; tomt när Kolada")
    gender = (swedish["Tabell"] == "fct_kpi_values") & (swedish["Kolumn"] == "gender")
    codes = "Kod i Parquet/DuckDB = text i CSV/xlsx"
    assert swedish.loc[gender, codes].item() == "T = Totalt; K = Kvinnor; M = Män"


def test_publish_duckdb_and_parquet_carry_the_contract_descriptions(
    warehouse: Path, tmp_path: Path
) -> None:
    folder = _publish(warehouse, tmp_path / "published").path
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    try:
        table_comment = con.execute(
            "select comment from duckdb_tables() where table_name = 'fct_kpi_values'"
        ).fetchone()[0]
        column_comment = con.execute(
            "select comment from duckdb_columns() "
            "where table_name = 'fct_kpi_values' and column_name = 'value'"
        ).fetchone()[0]
    finally:
        con.close()
    assert table_comment.startswith("One row per current KPI value")
    assert column_comment.startswith("The value; null when Kolada publishes the key")
    assert column_comment.endswith("[enligt nyckeltalets enhet]")
    schema = pq.read_schema(folder / "fct_kpi_values.parquet")
    assert schema.metadata[b"description"].decode().startswith("One row per current KPI value")
    assert schema.metadata[b"grain"].decode().startswith("one row per current value")
    field = schema.field("value").metadata
    assert field[b"header_sv"].decode() == "Värde" and field[b"credit"] == b"kolada"
    assert field[b"description"].decode().startswith("The value; null when")


def test_publish_readme_says_what_each_file_is_and_how_to_open_it(
    warehouse: Path, tmp_path: Path
) -> None:
    result = _publish(warehouse, tmp_path / "published")
    readme = (result.path / "README.md").read_text(encoding="utf-8")
    assert result.version in readme and result.manifest["as_of"] in readme
    for mart in MARTS:
        assert f"| `{mart}` |" in readme
    for needle in ("Från text/CSV", "Datatyp > Text", "Dubbelklicka inte", "öppna dem direkt",
                   "attach 'marts.duckdb'",
                   "pd.read_parquet", "pl.read_parquet", "arrow::read_parquet",
                   "duckdb::duckdb()", "Power BI", "Källa: Kolada",
                   "Egen bearbetning (inte Kolada)", "Syntetiska exempeldata"):
        assert needle in readme, needle


def test_publish_writes_xlsx_up_to_the_row_cap_and_says_which_are_skipped(
    warehouse: Path, tmp_path: Path
) -> None:
    result = _publish(warehouse, tmp_path / "published", xlsx_row_cap=2)
    marts = result.manifest["marts"]
    assert result.manifest["xlsx_row_cap"] == 2
    assert marts["mart_kkik_scorecard"]["xlsx"] == "xlsx/mart_kkik_scorecard.xlsx"
    assert marts["fct_kpi_values"]["xlsx"] is None and marts["dim_municipality"]["xlsx"] is None
    assert sorted(p.name for p in (result.path / "xlsx").iterdir()) == ["mart_kkik_scorecard.xlsx"]
    readme = (result.path / "README.md").read_text(encoding="utf-8")
    assert "Ingen xlsx för `dim_municipality`, `fct_kpi_values`: fler än 2 rader" in readme


def test_publish_same_data_gives_the_same_readme_and_hashes(
    warehouse: Path, tmp_path: Path
) -> None:
    first = _publish(warehouse, tmp_path / "a")
    second = _publish(warehouse, tmp_path / "b")
    assert (first.path / "README.md").read_bytes() == (second.path / "README.md").read_bytes()
    assert first.manifest["content_hashes"] == second.manifest["content_hashes"]


def _columns(warehouse: Path) -> dict[str, list[str]]:
    return {m: t.column_names for m, t in writers.read_marts(warehouse, MARTS).items()}


def test_publish_same_watermark_publishes_nothing(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    first = _publish(warehouse, published)
    second = _publish(warehouse, published, now=T0 + timedelta(hours=2))
    assert not second.published and second.version == first.version
    assert "nothing new" in second.message and list_versions(published) == [first.version]
    forced = _publish(warehouse, published, now=T0 + timedelta(hours=3), force=True)
    assert forced.published and len(list_versions(published)) == 2


def test_publish_refuses_an_older_as_of_unless_allowed(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    present = _publish(warehouse, published, watermark=T0 + timedelta(days=1))
    past, now_as_of = T0.isoformat(), (T0 + timedelta(days=1)).isoformat()
    named = f"as of {re.escape(past)}.*{present.version} \\(as of {re.escape(now_as_of)}\\)"
    with pytest.raises(PublishOlderRefused, match=named):
        _publish(warehouse, published, watermark=T0, now=T0 + timedelta(days=2))
    assert current_version(published) == present.version
    assert list_versions(published) == [present.version]
    older = _publish(
        warehouse, published, watermark=T0, now=T0 + timedelta(days=2),
        allow_older="re-issue the November figures",
    )
    assert older.published and current_version(published) == older.version
    assert older.manifest["allow_older_reason"] == "re-issue the November figures"
    assert older.manifest["as_of"] == past and older.manifest["previous_as_of"] > past
    entry = read_history(published)[-1]
    assert entry["allow_older_reason"] == "re-issue the November figures"
    assert entry["as_of"] == past and entry["previous_version"] == present.version


def test_publish_newer_as_of_needs_no_reason(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    _publish(warehouse, published, watermark=T0)
    newer = _publish(warehouse, published, watermark=T0 + timedelta(days=1))
    assert newer.published and newer.manifest["allow_older_reason"] is None
    assert "allow_older_reason" not in read_history(published)[-1]


def test_publish_version_ids_sort_by_time_and_never_collide(
    warehouse: Path, tmp_path: Path
) -> None:
    published = tmp_path / "published"
    same_second = T0 + timedelta(hours=1)
    ids = [
        _publish(warehouse, published, watermark=T0 + timedelta(minutes=i), now=same_second).version
        for i in range(3)
    ]
    assert ids == ["v20261123T200102Z", "v20261123T200102Z-001", "v20261123T200102Z-002"]
    assert list_versions(published) == ids


def test_publish_retention_keeps_newest_versions(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    results = [
        _publish(warehouse, published, watermark=T0 + timedelta(days=i), keep=2) for i in range(4)
    ]
    assert list_versions(published) == [r.version for r in results[-2:]]
    assert results[-1].pruned == [results[1].version]


def test_prune_never_deletes_current(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    ids = [
        _publish(warehouse, published, watermark=T0 + timedelta(days=i), keep=10).version
        for i in range(3)
    ]
    rollback(published, ids[0])
    assert versions.prune(published, keep=1) == [ids[1]]
    assert list_versions(published) == [ids[0], ids[2]] and current_version(published) == ids[0]


def test_rollback_moves_current_back_and_records_it(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    first = _publish(warehouse, published, watermark=T0)
    second = _publish(warehouse, published, watermark=T0 + timedelta(days=1))
    result = rollback(published, reason="wrong colours")
    assert current_version(published) == first.version
    assert result.rolled_back_from == second.version and result.version == first.version
    assert first.version in result.message
    assert read_history(published)[-1] == result.history_entry()
    assert read_history(published)[-1]["reason"] == "wrong colours"
    assert [h["action"] for h in read_history(published)] == ["publish", "publish", "rollback"]


def test_roll_forward_after_a_rollback_returns_to_the_newer_version(
        warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    first = _publish(warehouse, published, watermark=T0)
    second = _publish(warehouse, published, watermark=T0 + timedelta(days=1))
    rollback(published)
    forward = rollback(published, second.version, reason="the colours were right after all")
    assert current_version(published) == second.version
    assert (forward.rolled_back_from, forward.version) == (first.version, second.version)
    assert [h["action"] for h in read_history(published)] == [
        "publish", "publish", "rollback", "rollback"]
    # and the next night publishes on top, as after any publication
    third = _publish(warehouse, published, watermark=T0 + timedelta(days=2))
    assert current_version(published) == third.version


def test_rollback_refuses_unknown_version(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    only = _publish(warehouse, published)
    with pytest.raises(UnknownVersion, match="v19990101T000000Z.*known versions"):
        rollback(published, "v19990101T000000Z")
    with pytest.raises(RollbackError, match="no publication older"):
        rollback(published)
    assert current_version(published) == only.version


def test_publish_failing_midway_leaves_current_untouched(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = tmp_path / "published"
    first = _publish(warehouse, published)
    before = _current_hashes(published)
    con = duckdb.connect(str(warehouse))
    con.execute("update fct_kpi_values set value = value + 1")
    con.close()

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    # whichever way marts.duckdb is made: written whole, or the previous one updated
    monkeypatch.setattr(writers, "write_duckdb", broken)
    monkeypatch.setattr(writers, "update_duckdb", broken)
    with pytest.raises(OSError, match="disk full"):
        _publish(warehouse, published, watermark=T0 + timedelta(days=1))
    assert current_version(published) == first.version
    assert _current_hashes(published) == before
    assert list_versions(published) == [first.version]
    assert [p.name for p in published.iterdir() if p.name.startswith(".tmp")] == []


def test_a_failed_report_waits_for_marts_duckdb_before_the_folder_is_removed(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """marts.duckdb is written on a thread while the report renders: when the report fails,
    the publisher waits for the file before it removes the unfinished folder, and the error
    is the report's."""
    import time

    from pipelines.publish import publisher

    published = tmp_path / "published"
    first = _publish(warehouse, published)
    con = duckdb.connect(str(warehouse))
    con.execute("update fct_kpi_values set value = value + 1")
    con.close()
    finished: list[bool] = []
    write_whole, update = writers.write_duckdb, writers.update_duckdb

    def slow(real):
        def write(*args: object) -> object:
            time.sleep(0.5)
            result = real(*args)
            finished.append(True)
            return result
        return write

    def broken_report(*_args: object) -> None:
        assert not finished  # the report renders while the DuckDB file is being written
        raise RuntimeError("the report could not be rendered")

    monkeypatch.setattr(writers, "write_duckdb", slow(write_whole))
    monkeypatch.setattr(writers, "update_duckdb", slow(update))
    monkeypatch.setattr(publisher, "_write_report", broken_report)
    with pytest.raises(RuntimeError, match="report could not be rendered"):
        _publish(warehouse, published, watermark=T0 + timedelta(days=1))
    assert finished  # the file was written to the end before the folder went
    assert current_version(published) == first.version
    assert list_versions(published) == [first.version]
    assert [p.name for p in published.iterdir() if p.name.startswith(".tmp")] == []


def test_publish_refuses_failed_checks(warehouse: Path, tmp_path: Path) -> None:
    published = tmp_path / "published"
    failed = [replace(SUITE_RESULTS[0], passed=False)]
    with pytest.raises(PublishRefused, match="dim_municipality"):
        _publish(warehouse, published, check_results=failed)
    assert list_versions(published) == [] and current_version(published) is None


def test_publish_reads_warehouse_read_only_and_releases_it(warehouse: Path, tmp_path: Path) -> None:
    _publish(warehouse, tmp_path / "published")
    con = duckdb.connect(str(warehouse))  # a writer can open it again at once
    con.execute("create table after_publish as select 1 as x")
    con.close()


def test_publish_writes_rows_in_key_order_so_a_replay_is_byte_identical(tmp_path: Path) -> None:
    """The same rows stored in another order (as a rebuild may) publish the same bytes."""
    folders = []
    for name, order in (("a", "asc"), ("b", "desc")):
        path = tmp_path / f"{name}.duckdb"
        con = duckdb.connect(str(path))
        con.execute(WAREHOUSE_SQL)
        for mart in MARTS:  # rewrite each table in a different physical order
            con.execute(f"create table t as select * from {mart} order by 1 {order}, 2 {order}")
            con.execute(f"drop table {mart}")
            con.execute(f"alter table t rename to {mart}")
        con.close()
        result = _publish(path, tmp_path / f"published_{name}")
        folders.append(tmp_path / f"published_{name}" / result.version)
    for mart in MARTS:
        for relative in (f"{mart}.parquet", f"csv/{mart}.csv"):
            assert (folders[0] / relative).read_bytes() == (folders[1] / relative).read_bytes(), (
                relative)
    keys = pq.read_table(folders[0] / "dim_municipality.parquet").column("municipality_id")
    assert keys.to_pylist() == sorted(keys.to_pylist())
