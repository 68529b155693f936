"""Publications share what did not change: real publications of a small real warehouse, then
retention, rollback, diff, history and verify across the shared files."""

from __future__ import annotations

import errno
import json
import os
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.publish import current_version, list_versions, sharing, writers
from pipelines.publish.formats import (
    CSV,
    FOR_PROGRAMS,
    FORMATS,
    XLSX,
    FormatsError,
    declared_formats,
    formats_for,
)
from pipelines.publish.hashing import content_hash
from pipelines.publish.integrity import verify_publication
from pipelines.publish.versions import read_manifest, rollback
from pipelines.warehouse.marts import PUBLISHED_MARTS, mart_contracts
from tests.report_helpers import scorecard_row, write_publication
from tests.test_publish_publisher import (  # noqa: F401
    MARTS,
    T0,
    _publish,
    _warehouse_hashes,
    warehouse,
)

# the list of marts a person opens (board, wide, colour counts, profile,
# Kommunkompassen, follow-up, revisions of the night)
PERSON_FACING = ("mart_kkik_board", "mart_kpi_wide", "mart_kkik_colour_counts",
                 "mart_quality_profile", "mart_kommunkompassen", "mart_kommunkompassen_areas",
                 "mart_improvement_followup", "mart_revisions")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != "manifest.json")


def _per_mart_files(manifest: dict) -> list[str]:
    return [rel for entry in manifest["marts"].values()
            for rel in (entry["parquet"], entry["csv"], entry["xlsx"]) if rel]


def _night(warehouse: Path, published: Path, n: int, **kw):  # noqa: F811
    return _publish(warehouse, published, watermark=T0 + timedelta(hours=2 * n), **kw)


def _revise(warehouse: Path, value: float) -> None:  # noqa: F811
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update fct_kpi_values set value = ? where entity_key = 'N15428|0180|2025|T'",
                    [value])


def _verified(published: Path, version: str) -> bool:
    return verify_publication(published, version, read_manifest(published, version)).ok


# -- the declared formats ----------------------------------------------------------------------


def test_formats_are_declared_for_exactly_the_published_marts() -> None:
    assert set(FORMATS) == set(PUBLISHED_MARTS)
    table = declared_formats()
    assert all(FOR_PROGRAMS <= formats for formats in table.values())
    assert all({CSV, XLSX} <= table[mart] for mart in PERSON_FACING)
    assert table["mart_kkik_peer_members"] == FOR_PROGRAMS  # the largest: for programs
    assert all(why for _formats, why in FORMATS.values())


def test_formats_refuse_an_undeclared_mart_or_a_mart_without_parquet() -> None:
    with pytest.raises(FormatsError, match="mart_new.*pipelines/publish/formats.py"):
        formats_for(["dim_kpi", "mart_new"])
    with pytest.raises(FormatsError, match="Parquet and DuckDB"):
        formats_for(["dim_kpi"], {"dim_kpi": {"csv", "xlsx"}})


def test_publish_with_the_declared_formats_writes_excel_files_only_where_a_person_opens_them(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    result = _publish(warehouse, tmp_path / "published", formats=None)
    marts = result.manifest["marts"]
    assert marts["dim_municipality"]["csv"] == "csv/dim_municipality.csv"
    assert marts["dim_municipality"]["xlsx"] == "xlsx/dim_municipality.xlsx"
    for mart in ("fct_kpi_values", "mart_kkik_scorecard"):
        assert marts[mart]["formats"] == ["duckdb", "parquet"]
        assert marts[mart]["csv"] is None and marts[mart]["xlsx"] is None
    assert _files(result.path / "csv") == ["dim_municipality.csv"]
    assert _files(result.path / "xlsx") == ["dim_municipality.xlsx"]
    readme = (result.path / "README.md").read_text(encoding="utf-8")
    assert "| `fct_kpi_values` |" in readme and "Parquet, DuckDB" in readme
    assert "1 048 576" in readme  # Excel's limit is named


# -- sharing -----------------------------------------------------------------------------------


def test_an_unchanged_publication_is_hard_links_to_the_previous_version(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    second = _night(warehouse, published, 1)
    a, b = first.path, second.path
    shared = [*_per_mart_files(second.manifest), "marts.duckdb"]
    assert all(os.path.samefile(a / rel, b / rel) for rel in shared)
    assert set(second.manifest["shared_files"]) == set(shared)
    assert set(second.manifest["shared_files"].values()) == {first.version}
    assert second.manifest["sharing"]["files"] == len(shared)
    assert second.manifest["sharing"]["copied"] == []
    # what names the publication is its own: never shared
    for own in ("README.md", "dictionary.json"):
        assert not os.path.samefile(a / own, b / own)
    assert first.version in (a / "README.md").read_text(encoding="utf-8")
    assert second.version in (b / "README.md").read_text(encoding="utf-8")
    assert _verified(published, first.version) and _verified(published, second.version)
    # a third night shares with the second, and knows which version wrote the bytes
    third = _night(warehouse, published, 2)
    assert set(third.manifest["shared_files"].values()) == {first.version}
    assert os.stat(third.path / "marts.duckdb").st_nlink == 3


def test_a_changed_mart_is_written_and_the_others_are_shared(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    _revise(warehouse, 90.5)
    second = _night(warehouse, published, 1)
    a, b = first.path, second.path
    for rel in ("fct_kpi_values.parquet", "csv/fct_kpi_values.csv", "marts.duckdb"):
        assert not os.path.samefile(a / rel, b / rel), rel
    for mart in ("dim_municipality", "mart_kkik_scorecard"):
        assert os.path.samefile(a / f"{mart}.parquet", b / f"{mart}.parquet")
        assert os.path.samefile(a / f"csv/{mart}.csv", b / f"csv/{mart}.csv")
    values = pq.read_table(b / "fct_kpi_values.parquet").to_pylist()
    assert {r["entity_key"]: r["value"] for r in values}["N15428|0180|2025|T"] == 90.5
    with duckdb.connect(str(b / "marts.duckdb"), read_only=True) as con:
        assert content_hash(con.table("fct_kpi_values").to_arrow_table()) == \
            second.manifest["marts"]["fct_kpi_values"]["content_hash"]
    assert _verified(published, first.version) and _verified(published, second.version)


def test_marts_duckdb_is_the_previous_file_with_only_the_changed_marts_replaced(
        warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    whole: list[Path] = []
    write_whole = writers.write_duckdb
    monkeypatch.setattr(writers, "write_duckdb",
                        lambda tables, folder: whole.append(folder) or write_whole(tables, folder))
    _revise(warehouse, 91.5)
    second = _night(warehouse, published, 1)
    assert whole == []  # a copy of the first version's file, one mart replaced
    assert not os.path.samefile(first.path / "marts.duckdb", second.path / "marts.duckdb")
    with duckdb.connect(str(second.path / "marts.duckdb"), read_only=True) as con:
        # the replaced mart's new rows went into the blocks its old rows freed
        assert con.execute("select free_blocks from pragma_database_size()").fetchone()[0] == 0
        tables = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
        assert tables == set(second.manifest["marts"])
        for mart, entry in second.manifest["marts"].items():
            assert content_hash(con.table(mart).to_arrow_table()) == entry["content_hash"], mart
        comment = con.execute("select comment from duckdb_tables() "
                              "where table_name = 'fct_kpi_values'").fetchone()[0]
        assert comment == mart_contracts()["fct_kpi_values"].description
    with duckdb.connect(str(first.path / "marts.duckdb"), read_only=True) as con:
        values = dict(con.execute("select entity_key, value from fct_kpi_values").fetchall())
        assert values["N15428|0180|2025|T"] != 91.5  # the previous version's file is untouched
    assert _verified(published, first.version) and _verified(published, second.version)
    # a copy that would carry more free space than allowed is written whole instead
    monkeypatch.setattr(writers, "MAX_FREE_SHARE", -1.0)
    _revise(warehouse, 92.5)
    third = _night(warehouse, published, 2)
    assert len(whole) == 1
    with duckdb.connect(str(third.path / "marts.duckdb"), read_only=True) as con:
        assert con.execute("select free_blocks from pragma_database_size()").fetchone()[0] == 0
        assert dict(con.execute("select entity_key, value from fct_kpi_values").fetchall())[
            "N15428|0180|2025|T"] == 92.5


def test_a_new_description_or_new_code_is_not_shared(
        warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    monkeypatch.setattr(sharing, "writer_fingerprint", lambda: "other code")
    second = _night(warehouse, published, 1)
    assert second.manifest["sharing"]["files"] == 0
    assert not any(os.path.samefile(first.path / rel, second.path / rel)
                   for rel in _per_mart_files(second.manifest))


def test_where_linking_fails_the_file_is_copied(
        warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)

    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(sharing.os, "link", cross_device)
    second = _night(warehouse, published, 1)
    rels = [*_per_mart_files(second.manifest), "marts.duckdb"]
    assert sorted(second.manifest["sharing"]["copied"]) == sorted(rels)
    for rel in rels:
        assert not os.path.samefile(first.path / rel, second.path / rel)
        assert (first.path / rel).read_bytes() == (second.path / rel).read_bytes()
    assert _verified(published, second.version)


def test_a_previous_file_edited_after_publishing_is_never_shared(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    edited = first.path / "csv" / "dim_municipality.csv"
    original = edited.read_bytes()
    edited.write_bytes(original.replace(b"Stockholm", b"Stockholn"))
    second = _night(warehouse, published, 1)
    fresh = second.path / "csv" / "dim_municipality.csv"
    assert not os.path.samefile(edited, fresh)
    assert fresh.read_bytes() == original  # written afresh from the warehouse
    assert "csv/dim_municipality.csv" not in second.manifest["shared_files"]
    assert _verified(published, second.version)
    assert not _verified(published, first.version)


def test_sharing_can_be_switched_off(warehouse: Path, tmp_path: Path,  # noqa: F811
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    monkeypatch.setenv(sharing.SHARE_ENV, "0")
    second = _night(warehouse, published, 1)
    assert "shared_files" not in second.manifest
    assert not os.path.samefile(first.path / "marts.duckdb", second.path / "marts.duckdb")
    monkeypatch.setenv(sharing.SHARE_ENV, "maybe")
    with pytest.raises(ValueError, match="KK_PUBLISH_SHARE"):
        sharing.enabled()


# -- marts no build touched: shared unread ----------------------------------------------------


def _built_by(warehouse: Path, invocation: str, marts=MARTS) -> None:  # noqa: F811
    """What the marts' dbt post-hook records (dbt_project/macros/model_builds.sql)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists build_meta; create table if not exists "
                    "build_meta.model_builds (model varchar not null, invocation_id varchar "
                    "not null)")
        for mart in marts:
            con.execute("delete from build_meta.model_builds where model = ?", [mart])
            con.execute("insert into build_meta.model_builds values (?, ?)", [mart, invocation])


def _unread(result) -> list[str]:
    return result.manifest["sharing"]["marts_not_read"]


def _refuse_reads(monkeypatch: pytest.MonkeyPatch, marts) -> None:
    read = writers.MartReader.read

    def guarded(self, mart):
        assert mart not in marts, f"{mart} was read"
        return read(self, mart)

    monkeypatch.setattr(writers.MartReader, "read", guarded)


def test_a_mart_the_same_dbt_invocation_built_is_shared_without_reading_it(
        warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    published = tmp_path / "published"
    _built_by(warehouse, "inv-1")
    first = _night(warehouse, published, 0)
    assert {e["built_by"] for e in first.manifest["marts"].values()} == {"inv-1"}
    with monkeypatch.context() as patch:
        _refuse_reads(patch, MARTS)
        second = _night(warehouse, published, 1)
    assert _unread(second) == sorted(MARTS)
    assert second.manifest["content_hashes"] == first.manifest["content_hashes"]
    assert second.manifest["row_counts"] == first.manifest["row_counts"]
    assert all(os.path.samefile(first.path / rel, second.path / rel)
               for rel in _per_mart_files(second.manifest))
    # the data dictionary and the DuckDB file come from the summaries and the shared files
    assert (first.path / "dictionary.json").read_text(encoding="utf-8").replace(
        first.version, "") == (second.path / "dictionary.json").read_text(
        encoding="utf-8").replace(second.version, "")
    assert _verified(published, second.version)
    # a new build of one mart: that one is read (its new rows published), the others are not
    _revise(warehouse, 99.5)
    _built_by(warehouse, "inv-2", ["fct_kpi_values"])
    with monkeypatch.context() as patch:
        _refuse_reads(patch, [m for m in MARTS if m != "fct_kpi_values"])
        third = _night(warehouse, published, 2)
    assert _unread(third) == sorted(m for m in MARTS if m != "fct_kpi_values")
    assert third.manifest["marts"]["fct_kpi_values"]["built_by"] == "inv-2"
    assert third.manifest["content_hashes"]["fct_kpi_values"] == _warehouse_hashes(
        warehouse)["fct_kpi_values"] != second.manifest["content_hashes"]["fct_kpi_values"]
    assert 99.5 in pq.read_table(third.path / "fct_kpi_values.parquet")["value"].to_pylist()
    assert _verified(published, third.version)


def test_a_mart_is_read_again_when_its_previous_files_were_edited_or_a_rollback_moved_current(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    _built_by(warehouse, "inv-1")
    first = _night(warehouse, published, 0)
    edited = first.path / "csv" / "dim_municipality.csv"
    edited.write_bytes(edited.read_bytes().replace(b"Stockholm", b"Stockholn"))
    second = _night(warehouse, published, 1)
    # the same invocation, but a file that is not what its manifest says: read, written afresh
    assert "dim_municipality" not in _unread(second)
    assert not os.path.samefile(edited, second.path / "csv" / "dim_municipality.csv")
    assert _verified(published, second.version)
    # a new build, then a rollback to the second: the table is not the one it published
    _revise(warehouse, 77.25)
    _built_by(warehouse, "inv-2", ["fct_kpi_values"])
    _night(warehouse, published, 2)
    rollback(published, second.version)
    assert current_version(published) == second.version
    fourth = _night(warehouse, published, 3)
    assert "fct_kpi_values" not in _unread(fourth)
    assert fourth.manifest["content_hashes"]["fct_kpi_values"] == _warehouse_hashes(
        warehouse)["fct_kpi_values"]
    assert _verified(published, fourth.version)


def test_a_warehouse_without_build_records_reads_every_mart(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    first = _night(warehouse, published, 0)
    assert {e["built_by"] for e in first.manifest["marts"].values()} == {None}
    second = _night(warehouse, published, 1)
    assert _unread(second) == []
    assert all(os.path.samefile(first.path / rel, second.path / rel)
               for rel in _per_mart_files(second.manifest))


# -- retention, rollback, diff, history, verify across shared files --------------------------


def test_pruning_old_versions_never_breaks_a_kept_one(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    made = []
    for n in range(6):
        if n == 3:
            _revise(warehouse, 91.0)
        made.append(_night(warehouse, published, n, keep=2).version)
    kept = list_versions(published)
    assert kept == made[-2:]
    for version in kept:
        assert _verified(published, version), version
        folder = published / version
        manifest = read_manifest(published, version)
        for mart in MARTS:
            table = pq.read_table(folder / f"{mart}.parquet")
            assert content_hash(table) == manifest["marts"][mart]["content_hash"]
    # the oldest kept version's files were written by a pruned one: still there, once
    origins = set(read_manifest(published, kept[0])["shared_files"].values())
    assert origins and origins.isdisjoint(kept)
    # deleting the only other holder of a file leaves the kept one whole
    assert os.stat(published / kept[1] / "dim_municipality.parquet").st_nlink == 2


def test_rollback_back_and_forward_across_shared_files(
        warehouse: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    published = data_dir / "published"
    v1 = _night(warehouse, published, 0).version
    v2 = _night(warehouse, published, 1).version  # shares everything with v1
    _revise(warehouse, 92.0)
    v3 = _night(warehouse, published, 2).version
    assert cli.main(["rollback", v1]) == 0
    assert current_version(published) == v1
    assert cli.main(["verify"]) == 0
    rows = pq.read_table(published / "current" / "fct_kpi_values.parquet").to_pylist()
    assert {r["entity_key"]: r["value"] for r in rows}["N15428|0180|2025|T"] == 82.5
    assert cli.main(["rollback", v3]) == 0  # forward again
    assert current_version(published) == v3 and cli.main(["verify"]) == 0
    rows = pq.read_table(published / "current" / "fct_kpi_values.parquet").to_pylist()
    assert {r["entity_key"]: r["value"] for r in rows}["N15428|0180|2025|T"] == 92.0
    assert cli.main(["rollback", v2]) == 0 and cli.main(["verify"]) == 0
    capsys.readouterr()


def test_diff_and_history_read_shared_files_like_any_other(
        warehouse: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    published = data_dir / "published"
    v1 = _night(warehouse, published, 0).version
    v2 = _night(warehouse, published, 1).version
    _revise(warehouse, 93.0)
    v3 = _night(warehouse, published, 2).version
    capsys.readouterr()
    assert cli.main(["diff", v1, v2, "--json"]) == 0
    same = {d["mart"]: d for d in json.loads(capsys.readouterr().out)}
    assert all(d["added"] == d["removed"] == d["changed"] == 0 for d in same.values())
    assert cli.main(["diff", v2, v3, "--json"]) == 0
    changed = {d["mart"]: d["changed"] for d in json.loads(capsys.readouterr().out)}
    assert changed["fct_kpi_values"] == 1 and changed["dim_municipality"] == 0
    # exit 1: this warehouse was written by hand, the event log has no events for the key
    assert cli.main(["history", "N15428", "0180", "--json"]) == 1
    shown = {p["version"]: p["rows"] for p in json.loads(capsys.readouterr().out)["publications"]}
    assert [shown[v][0][2] for v in (v1, v2, v3)] == [82.5, 82.5, 93.0]


def test_verify_reports_an_edit_of_a_shared_file(
        warehouse: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    published = data_dir / "published"
    _night(warehouse, published, 0)
    second = _night(warehouse, published, 1)
    assert cli.main(["verify"]) == 0
    # an in-place edit (no new file) of a shared file is in every version that shares it
    with open(second.path / "mart_kkik_scorecard.parquet", "r+b") as fh:
        fh.seek(10)
        fh.write(b"\0\0\0")
    capsys.readouterr()
    assert cli.main(["verify"]) == 1
    assert "mart_kkik_scorecard.parquet: sha256 differs" in capsys.readouterr().out


# -- report pages ------------------------------------------------------------------------------


def _report_warehouse(tmp_path: Path, arvika_value: float, *, revisions: bool = False,
                      arvika_2023: float | None = None) -> tuple[Path, list[str]]:
    earlier = [] if arvika_2023 is None else [scorecard_row("1784", "N00001", 2023, arvika_2023)]
    folder = write_publication(
        tmp_path / f"pub-{arvika_value}-{arvika_2023}",
        scorecard=[*earlier, scorecard_row("1784", "N00001", 2024, arvika_value),
                   scorecard_row("0114", "N00001", 2024, 5.0),
                   scorecard_row("0180", "N00001", 2024, 6.0)],
        kpi_titles={"N00001": "A"}, names={"1784": "Arvika", "0114": "Upplands Väsby",
                                           "0180": "Stockholm"},
        networks=[("n1", "Nätverk", ["0114", "0180"])])
    marts = [p.stem for p in sorted(folder.glob("*.parquet"))]
    path = tmp_path / "warehouse.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for mart in marts:
            con.execute(f"create table {mart} as select * from '{folder / mart}.parquet'")
        if revisions:  # no changes: each kommun page says "no changes since <previous>"
            columns = ", ".join(f'"{c.name}" {c.data_type}'
                                for c in mart_contracts()["mart_revisions"].columns)
            con.execute(f"create table mart_revisions ({columns})")
            marts.append("mart_revisions")
    return path, marts


def _publish_report(tmp_path: Path, arvika_value: float, hour: int, **kw):
    from pipelines.publish import publish

    warehouse, marts = _report_warehouse(tmp_path, arvika_value, **kw)  # noqa: F811
    formats = {m: FORMATS.get(m, (FOR_PROGRAMS, ""))[0] for m in marts}
    return publish(warehouse, tmp_path / "published", marts,
                   watermark=f"2026-01-01T{hour:02d}:00:00+00:00", check_results=[],
                   code_version="test", synthetic=True, formats=formats)


def test_report_pages_whose_inputs_did_not_change_are_shared(tmp_path: Path) -> None:
    first = _publish_report(tmp_path, 1.0, 1)
    second = _publish_report(tmp_path, 1.0, 2)  # same data
    a, b = first.path / "report", second.path / "report"
    pages = ["kommun/1784.html", "kommun/1784.xlsx", "kommun/1784.csv", "kommun/0114.html",
             "natverk/n1.html", "nyckeltal.html"]
    assert all(os.path.samefile(a / p, b / p) for p in pages)
    assert second.manifest["report"]["pages_shared"] == 5  # 3 kommuner, 1 network, nyckeltal
    # the index names the current publication: always rendered
    assert not os.path.samefile(a / "index.html", b / "index.html")
    assert second.version in (b / "index.html").read_text(encoding="utf-8")
    # a new value for Arvika: its page is rendered, the others stay shared
    third = _publish_report(tmp_path, 2.5, 3)
    c = third.path / "report"
    assert not os.path.samefile(b / "kommun/1784.html", c / "kommun/1784.html")
    assert not os.path.samefile(b / "kommun/1784.xlsx", c / "kommun/1784.xlsx")
    assert "2,5" in (c / "kommun/1784.html").read_text(encoding="utf-8")
    assert third.version in (c / "kommun/1784.html").read_text(encoding="utf-8")
    assert os.path.samefile(b / "natverk/n1.html", c / "natverk/n1.html")
    published = tmp_path / "published"
    assert all(_verified(published, r.version) for r in (first, second, third))


def test_a_revised_earlier_year_draws_the_kommuns_trend_again(tmp_path: Path) -> None:
    """The board shows the latest year; an earlier year's value is only in the trend chart,
    which a page's key holds as the chart's inputs (not the drawn chart)."""
    first = _publish_report(tmp_path, 1.0, 1, arvika_2023=0.5)
    second = _publish_report(tmp_path, 1.0, 2, arvika_2023=0.5)
    third = _publish_report(tmp_path, 1.0, 3, arvika_2023=7.25)
    page = "report/kommun/1784.html"
    assert os.path.samefile(first.path / page, second.path / page)
    assert not os.path.samefile(second.path / page, third.path / page)
    # the trend's table under the chart (2023, 2024): 0,5 before, 7,25 at one decimal after
    assert "Arvika<td>0,5<td>1,0" in (second.path / page).read_text(encoding="utf-8")
    assert "Arvika<td>7,2<td>1,0" in (third.path / page).read_text(encoding="utf-8")
    # the board (latest year) did not change: its downloads are still shared
    assert os.path.samefile(second.path / "report/kommun/1784.xlsx",
                            third.path / "report/kommun/1784.xlsx")
    assert os.path.samefile(second.path / "report/kommun/0114.html",
                            third.path / "report/kommun/0114.html")


def test_a_page_rendered_again_reuses_its_unchanged_trend_section(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second publication counts its changes from the first, so every kommun page is
    rendered again; their trends did not change, so each takes its drawn trend section from
    the previous version's page (unless that page is not what its manifest says) and is byte
    for byte the page a fresh render draws."""
    from pipelines.report import site, views

    first = _publish_report(tmp_path, 1.0, 1, revisions=True)
    edited = first.path / "report/kommun/0114.html"
    text = edited.read_text(encoding="utf-8")
    edited.unlink()  # a hard link is not written through: the edit is this version's alone
    edited.write_text(text.replace("Trender per område", "Trender per omrade"),
                      encoding="utf-8")
    drawn: list[str] = []
    real = views.trends
    monkeypatch.setattr(views, "trends", lambda data, code, *a, **k: (
        drawn.append(code), real(data, code, *a, **k))[1])
    second = _publish_report(tmp_path, 1.0, 2, revisions=True)
    assert second.manifest["report"]["pages_shared"] == 2  # the network and nyckeltal
    assert second.manifest["report"]["sections_reused"] == 2
    assert drawn == ["0114"]  # the edited page's section is drawn afresh, never carried
    fresh = site.render(second.path, tmp_path / "fresh")
    for code in ("0114", "1784"):
        page = f"kommun/{code}.html"
        assert (second.path / "report" / page).read_bytes() == (fresh.folder / page).read_bytes()
        assert "Trender per område" in (second.path / "report" / page).read_text(encoding="utf-8")
    assert drawn.count("1784") == 1  # only by the fresh render


def test_report_pages_naming_their_previous_version_are_shared_when_nothing_changed(
        tmp_path: Path) -> None:
    first = _publish_report(tmp_path, 1.0, 1, revisions=True)
    second = _publish_report(tmp_path, 1.0, 2, revisions=True)
    third = _publish_report(tmp_path, 1.0, 3, revisions=True)
    page = "report/kommun/1784.html"
    # the first publication has no previous: its page says so, the second's names the first
    assert not os.path.samefile(first.path / page, second.path / page)
    assert first.version in (second.path / page).read_text(encoding="utf-8")
    # ... while its downloads hold the board alone, which did not change: shared
    for download in ("report/kommun/1784.xlsx", "report/kommun/1784.csv"):
        assert os.path.samefile(first.path / download, second.path / download)
    # the third counts its (no) changes from the second: the same page, shared
    assert os.path.samefile(second.path / page, third.path / page)
    assert third.manifest["report"]["pages_shared"] == 5
