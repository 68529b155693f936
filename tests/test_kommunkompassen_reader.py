"""The Kommunkompassen import reader: formats, encodings, areas, scope and the template."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest

from pipelines.sources.kommunkompassen.areas import AREAS, fold, match_label
from pipelines.sources.kommunkompassen.reader import (
    Problem,
    ReadResult,
    format_report,
    read_assessment_file,
)
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN, STREAMS
from pipelines.sources.kommunkompassen.template import EXAMPLE_MUNICIPALITY, write_template
from tests.kommunkompassen_helpers import MUNICIPALITIES

HEADER = "kommunkod;kommun;år;version;område_nr;område;poäng;sverigesnitt;totalt;styrkor;" \
    "förbättringsområden"
# Grästorp 2014, 2010 version (docs/domain.md): total 506 of 800.
GRASTORP = (61, 60, 73, 53, 70, 56, 65, 68)


def write_bytes(tmp_path: Path, data: bytes, name: str = "kk.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_csv(
    tmp_path: Path, lines: list[str], *, encoding: str = "utf-8", name: str = "kk.csv"
) -> Path:
    return write_bytes(tmp_path, ("\r\n".join(lines) + "\r\n").encode(encoding), name)


def write_xlsx(
    tmp_path: Path, sheets: dict[str, list[list[object]]], name: str = "kk.xlsx"
) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def grastorp_lines(code: str = "1444", total: str = "506") -> list[str]:
    return [f"{code};;2014;2010;{n};;{s};;{total};;" for n, s in enumerate(GRASTORP, 1)]


def read(path: Path) -> ReadResult:
    return read_assessment_file(path, municipalities=MUNICIPALITIES)


def payloads(result: ReadResult) -> list[dict[str, object]]:
    return [r.payload for r in result.records]


def row_warnings(result: ReadResult) -> list[Problem]:
    """Warnings other than "fewer than 8 areas" (which every one-row file gets)."""
    return [w for w in result.warnings if "av 8 områden" not in w.reason]


# -- areas --------------------------------------------------------------------------------------


def test_fold_ignores_case_diacritics_spaces_hyphens_underscores_and_dots() -> None:
    assert fold("Område nr") == fold("omrade_nr") == fold("OMRÅDE-NR") == "omradenr"
    assert fold("År") == fold("ar") == fold("AR") == "ar"
    assert fold("Förbättrings.områden") == "forbattringsomraden"
    assert fold("Café") == "cafe"


def test_areas_both_versions_have_eight_published_labels() -> None:
    assert [a.label for a in AREAS[2010]][:2] == [
        "Offentlighet och demokrati", "Tillgänglighet och brukarorientering",
    ]
    assert AREAS[2020][7].label == "Chefs- och ledarskap samt medarbetarskap"
    assert all(len(AREAS[v]) == 8 for v in (2010, 2020))


def test_match_label_exact_after_folding() -> None:
    match = match_label(2020, "  styrning OCH kontroll ")
    assert match is not None and match.exact and match.area.number == 3
    match = match_label(2010, "Ledarskap ansvar och delegation")
    assert match is not None and match.exact and match.area.number == 4


def test_match_label_one_typo_is_a_fuzzy_match() -> None:
    match = match_label(2020, "Samhälsutveckling")
    assert match is not None and not match.exact and match.area.number == 2


def test_match_label_far_or_other_version_label_is_no_match() -> None:
    assert match_label(2020, "Politisk styrning och kontroll") is None
    assert match_label(2010, "Styrning och kontroll") is None
    assert match_label(2020, "Ekonomi") is None


# -- stream -------------------------------------------------------------------------------------


def test_stream_declares_key_scope_and_payload() -> None:
    assert STREAMS == (KOMMUNKOMPASSEN,)
    assert KOMMUNKOMPASSEN.key_parts == ("municipality", "year", "version", "area")
    assert KOMMUNKOMPASSEN.scope_parts == ("municipality", "year", "version")
    types = {f.name: f.type for f in KOMMUNKOMPASSEN.payload}
    assert types["score"] == types["benchmark"] == types["total_stated"] == "double"
    assert types["year"] == types["version"] == types["area"] == "integer"


# -- CSV: header, separators, numbers, encodings ------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Kommunkod;År;Område nr;Poäng",
        "kommunkod;ar;omrade_nr;poang",
        "KOMMUNKOD;AR;OMRÅDE-NR;POÄNG",
        "kommun kod;år;område.nr;Poäng",
    ],
)
def test_reader_header_matches_after_folding(tmp_path: Path, header: str) -> None:
    result = read(write_csv(tmp_path, [header, "1784;2014;3;73"]))
    assert result.problems == []
    assert payloads(result)[0]["score"] == 73.0


def test_reader_header_as_written_names_the_column_of_a_problem(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, ["Kommunkod;År;OMRÅDE-NR;Poäng", "1784;2014;3;120"]))
    assert [(p.row, p.column) for p in result.problems] == [(2, "Poäng")]


def test_reader_semicolon_separator_with_decimal_comma(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2014;2010;1;;73,5;61,25;;;"]))
    assert (payloads(result)[0]["score"], payloads(result)[0]["benchmark"]) == (73.5, 61.25)
    assert result.layout == "CSV, UTF-8, semikolon"


def test_reader_comma_separator_with_quoted_decimal_comma(tmp_path: Path) -> None:
    lines = [HEADER.replace(";", ","), '1784,,2014,2010,1,,"73,5",61.5,,"Bra, tydlig",']
    result = read(write_csv(tmp_path, lines))
    assert result.problems == []
    payload = payloads(result)[0]
    assert (payload["score"], payload["benchmark"], payload["strengths"]) == (
        73.5, 61.5, "Bra, tydlig",
    )
    assert "komma" in result.layout


@pytest.mark.parametrize(
    ("typed", "score"),
    [("73", 73.0), ("73,5", 73.5), ("73.5", 73.5), ("51 %", 51.0), ("51%", 51.0),
     ("51\u00a0%", 51.0), (" 60 ", 60.0), ("0", 0.0), ("100", 100.0)],
)
def test_reader_score_number_forms(tmp_path: Path, typed: str, score: float) -> None:
    result = read(write_csv(tmp_path, ["kommunkod;år;område_nr;poäng", f"1784;2014;1;{typed}"]))
    assert result.problems == []
    assert payloads(result)[0]["score"] == score


def _swedish_lines() -> list[str]:
    return [
        HEADER,
        "1442;Vårgårda;2014;2010;;Tillgänglighet och brukarorientering;60;;;Öppen dialog;",
        "1480;Göteborgs stad;2016;2010;;Kommunen som samhällsbyggare;68;;;;Målstyrning – uppföljning",
    ]


@pytest.mark.parametrize(
    ("encoding", "prefix", "layout"),
    [("utf-8", b"", "UTF-8"), ("utf-8", b"\xef\xbb\xbf", "UTF-8 med BOM"),
     ("cp1252", b"", "Windows-1252")],
)
def test_reader_encodings_with_swedish_letters(
    tmp_path: Path, encoding: str, prefix: bytes, layout: str
) -> None:
    text = "\r\n".join(_swedish_lines()) + "\r\n"
    result = read(write_bytes(tmp_path, prefix + text.encode(encoding)))
    assert result.problems == [] and result.layout == f"CSV, {layout}, semikolon"
    first, second = payloads(result)
    assert (first["municipality"], first["area"], first["strengths"]) == ("1442", 2, "Öppen dialog")
    assert first["area_label"] == "Tillgänglighet och brukarorientering"
    assert (second["municipality"], second["area"]) == ("1480", 8)
    assert second["improvement_areas"] == "Målstyrning – uppföljning"


def test_reader_encodings_give_identical_payloads(tmp_path: Path) -> None:
    text = "\r\n".join(_swedish_lines())
    utf8 = read(write_bytes(tmp_path, text.encode("utf-8"), "a.csv"))
    cp1252 = read(write_bytes(tmp_path, text.encode("cp1252"), "b.csv"))
    assert payloads(utf8) == payloads(cp1252)


# -- municipalities -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "typed", "code"),
    [
        ("kommunkod", "1784", "1784"),
        ("kommunkod", "0180", "0180"),
        ("kommunkod", "180", "0180"),
        ("kommun", "0180", "0180"),
        ("kommun", "Arvika", "1784"),
        ("kommun", "ARVIKA", "1784"),
        ("kommun", "arvika kommun", "1784"),
        ("kommun", "Arvika Kommun", "1784"),
        ("kommun", "Askersunds kommun", "1882"),
        ("kommun", "Stockholms stad", "0180"),
        ("kommun", "vårgårda", "1442"),
    ],
)
def test_reader_municipality_by_code_or_name(
    tmp_path: Path, column: str, typed: str, code: str
) -> None:
    result = read(write_csv(tmp_path, [f"{column};år;område_nr;poäng", f"{typed};2014;1;60"]))
    assert result.problems == [] and row_warnings(result) == []
    assert payloads(result)[0]["municipality"] == code
    assert result.records[0].entity_key == f"{code}|2014|2010|1"


def test_reader_municipality_name_without_diacritics_lands_with_warning(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, ["kommun;år;område_nr;poäng", "Vargarda;2014;1;60"]))
    assert payloads(result)[0]["municipality"] == "1442"
    assert [(w.row, w.column) for w in row_warnings(result)] == [(2, "kommun")]
    assert "Vårgårda" in row_warnings(result)[0].reason


def test_reader_code_and_name_that_agree_land(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;Arvika kommun;2014;;1;;60;;;;"]))
    assert result.problems == [] and payloads(result)[0]["municipality"] == "1784"


# -- areas in rows --------------------------------------------------------------------------------


def test_reader_area_number_only_stores_the_published_label(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;2020;5;;61;;;;"]))
    assert payloads(result)[0]["area_label"] == "Brukarens fokus"


def test_reader_area_label_only_finds_the_number(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;2020;;brukarens FOKUS;61;;;;"]))
    assert (payloads(result)[0]["area"], payloads(result)[0]["area_label"]) == (
        5, "brukarens FOKUS",
    )
    assert row_warnings(result) == []


def test_reader_area_number_and_agreeing_label_land_without_warning(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;2020;5;Brukarens fokus;61;;;;"]))
    assert result.problems == [] and row_warnings(result) == []


def test_reader_numbered_label_in_area_column(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [
        "kommunkod;år;område;poäng", "1784;2022;3. Styrning och kontroll;61", "1784;2022;4;62",
    ]))
    assert [(p["area"], p["area_label"]) for p in payloads(result)] == [
        (3, "Styrning och kontroll"), (4, "Effektivitet"),
    ]


def test_reader_label_disagreeing_with_number_keeps_number_and_warns(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;2020;3;Effektivitet;61;;;;"]))
    assert (payloads(result)[0]["area"], payloads(result)[0]["area_label"]) == (3, "Effektivitet")
    assert [(w.row, w.column, w.value) for w in row_warnings(result)] == [(2, "område", "Effektivitet")]
    assert "område 4" in row_warnings(result)[0].reason and "numret 3 används" in row_warnings(result)[0].reason


def test_reader_old_label_with_number_lands_with_warning_naming_its_version(tmp_path: Path) -> None:
    result = read(write_csv(
        tmp_path, [HEADER, "1784;;2022;2020;3;Politisk styrning och kontroll;61;;;;"]
    ))
    assert result.problems == [] and payloads(result)[0]["area"] == 3
    assert "2010 års version" in row_warnings(result)[0].reason


def test_reader_misspelt_label_lands_with_warning(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;2020;;Samhälsutveckling;61;;;;"]))
    assert payloads(result)[0]["area"] == 2
    assert [(w.row, w.column) for w in row_warnings(result)] == [(2, "område")]
    assert "Samhällsutveckling" in row_warnings(result)[0].reason


def test_reader_other_versions_label_without_number_is_rejected(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;;;Offentlighet och demokrati;61;;;;"]))
    assert result.records == []
    assert "hör till 2010 års version" in result.problems[0].reason


@pytest.mark.parametrize(("year", "version"), [(2014, 2010), (2019, 2010), (2020, 2020),
                                               (2023, 2020), (2005, 2010)])
def test_reader_version_derived_from_year(tmp_path: Path, year: int, version: int) -> None:
    result = read(write_csv(tmp_path, ["kommunkod;år;område_nr;poäng", f"1784;{year};1;60"]))
    assert payloads(result)[0]["version"] == version


# -- XLSX ---------------------------------------------------------------------------------------


def test_reader_xlsx_prefers_the_sheet_named_kommunkompassen(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, {
        "Anteckningar": [["inget här"]],
        "kommunkompassen": [["kommunkod", "år", "område_nr", "poäng"], ["1784", 2014, 1, 60]],
    })
    result = read(path)
    assert result.layout == 'Excel, bladet "kommunkompassen"' and len(result.records) == 1


def test_reader_xlsx_reads_the_first_sheet_when_none_is_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, {
        "Blad1": [["kommunkod", "år", "område_nr", "poäng"], ["1784", 2014, 1, 60]],
        "Blad2": [["kommunkod", "år", "område_nr", "poäng"], ["0180", 2014, 1, 70]],
    })
    assert payloads(read(path))[0]["municipality"] == "1784"


def test_reader_xlsx_numeric_cells_and_lost_leading_zero(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, {"Blad1": [
        ["kommunkod", "år", "version", "område_nr", "poäng", "sverigesnitt", "totalt"],
        [180, 2014.0, 2010, 1, 73.5, 61, 506.0],
        [],
        [1784, 2014, None, 2.0, "51 %", "61,5", None],
    ]})
    result = read(path)
    assert result.problems == [] and result.rows_read == 2
    first, second = payloads(result)
    assert (first["municipality"], first["year"], first["score"], first["total_stated"]) == (
        "0180", 2014, 73.5, 506.0,
    )
    assert (second["area"], second["score"], second["benchmark"]) == (2, 51.0, 61.5)
    assert result.records[1].entity_key == "1784|2014|2010|2"


def test_reader_xlsx_percent_formatted_cell_is_points(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["kommunkod", "år", "område_nr", "poäng"])
    sheet.append(["1784", 2014, 1, 0.51])
    sheet["D2"].number_format = "0%"
    workbook.save(tmp_path / "kk.xlsx")
    assert payloads(read(tmp_path / "kk.xlsx"))[0]["score"] == 51.0


def test_reader_csv_and_xlsx_give_identical_payloads(tmp_path: Path) -> None:
    csv_result = read(write_csv(tmp_path, [HEADER, "1784;Arvika;2014;;2;;60,5;58;;  Styrka ;"]))
    xlsx_result = read(write_xlsx(tmp_path, {"Blad1": [
        HEADER.split(";"), [1784, "Arvika", 2014, None, 2, None, 60.5, 58, None, "Styrka", None],
    ]}))
    assert payloads(csv_result) == payloads(xlsx_result)


# -- totals, sums and area counts ---------------------------------------------------------------


def test_reader_grastorp_2014_lands_eight_areas_without_warnings(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, *grastorp_lines()]))
    assert result.problems == [] and result.warnings == []
    assert [p["score"] for p in payloads(result)] == [float(s) for s in GRASTORP]
    assert {p["total_stated"] for p in payloads(result)} == {506.0}


def test_reader_total_on_one_row_or_every_row_gives_the_same_payloads(tmp_path: Path) -> None:
    every = read(write_csv(tmp_path, [HEADER, *grastorp_lines()], name="a.csv"))
    once = grastorp_lines(total="")
    once[0] = "1444;;2014;2010;1;;61;;506;;"
    first = read(write_csv(tmp_path, [HEADER, *once], name="b.csv"))
    assert first.problems == [] and payloads(first) == payloads(every)


def test_reader_sum_not_matching_total_warns_with_the_difference(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, *grastorp_lines(total="509")]))
    assert len(result.records) == 8 and result.problems == []
    (warning,) = result.warnings
    assert (warning.row, warning.column, warning.value) == (2, "totalt", "509")
    assert "506" in warning.reason and "skillnad 3 poäng" in warning.reason


def test_reader_assessment_with_fewer_than_eight_areas_warns(tmp_path: Path) -> None:
    lines = grastorp_lines()
    del lines[2], lines[5]
    result = read(write_csv(tmp_path, [HEADER, *lines]))
    assert len(result.records) == 6
    (warning,) = result.warnings
    assert "6 av 8" in warning.reason and "saknas: 3, 7" in warning.reason


# -- payload, source, scope ---------------------------------------------------------------------


def test_reader_payload_is_canonical_and_has_exactly_the_declared_fields(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [HEADER, "1784;;2022;2020;1;;61;55;;  Öppenhet  ;  "]))
    (record,) = result.records
    assert list(record.payload) == [f.name for f in KOMMUNKOMPASSEN.payload]
    assert record.payload == {
        "municipality": "1784", "year": 2022, "version": 2020, "area": 1,
        "area_label": "Samspel mellan förtroendevalda och medborgare", "score": 61.0,
        "benchmark": 55.0, "total_stated": None, "strengths": "Öppenhet",
        "improvement_areas": None,
    }
    assert type(record.payload["score"]) is float and type(record.payload["year"]) is int
    assert record.entity_key == "1784|2022|2020|1" and record.deleted is False


def test_reader_source_is_file_name_and_sha256(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, "1784;;2022;2020;1;;61;;;;"], name="arvika-2022.csv")
    result = read(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.sha256 == digest
    assert result.records[0].source == f"arvika-2022.csv#sha256:{digest}"


def test_reader_scope_lists_the_assessments_of_the_good_rows(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [
        HEADER, *grastorp_lines(), "1784;;2022;;1;;61;;;;", "1784;;2022;;2;;62;;;;",
        "9999;;2016;;1;;61;;;;",
    ]))
    assert result.assessments() == [("1444", 2014, 2010), ("1784", 2022, 2020)]
    assert result.scope() == {
        "municipality": ["1444", "1784"], "year": ["2014", "2022"], "version": ["2010", "2020"],
    }


def test_reader_scope_holds_back_what_an_unreadable_key_part_may_be(tmp_path: Path) -> None:
    # An unknown municipality in 2022 may be a typo of Arvika's row: Arvika 2022 is no snapshot.
    result = read(write_csv(tmp_path, [
        HEADER, *grastorp_lines(), "1784;;2022;;1;;61;;;;", "9999;;2022;;2;;62;;;;",
    ]))
    assert result.snapshot_assessments() == [("1444", 2014, 2010)]
    garbage = read(write_csv(tmp_path, [HEADER, *grastorp_lines(), ";;;;;;x;;;;"]))
    assert garbage.scope() == {"municipality": [], "year": [], "version": []}


def test_reader_scope_holds_back_an_assessment_with_a_rejected_row(tmp_path: Path) -> None:
    lines = grastorp_lines()
    lines[3] = lines[3].replace(";53;", ";530;")
    result = read(write_csv(tmp_path, [HEADER, *lines, "1784;;2022;;1;;61;;;;"]))
    assert len(result.records) == 8
    assert result.snapshot_assessments() == [("1784", 2022, 2020)]
    assert result.scope() == {"municipality": ["1784"], "year": ["2022"], "version": ["2020"]}


def test_reader_scope_is_not_held_back_by_a_duplicate_row(tmp_path: Path) -> None:
    lines = grastorp_lines()
    result = read(write_csv(tmp_path, [HEADER, *lines, lines[0]]))
    assert result.rejected_rows == [10]
    assert result.snapshot_assessments() == [("1444", 2014, 2010)]


def test_reader_scopes_are_exact_per_year_and_version(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [
        HEADER, "1784;;2014;;1;;61;;;;", "0180;;2022;;1;;61;;;;", "1442;;2022;;1;;61;;;;",
    ]))
    assert result.scope() == {
        "municipality": ["0180", "1442", "1784"], "year": ["2014", "2022"],
        "version": ["2010", "2020"],
    }
    assert result.scopes() == [
        {"municipality": ["1784"], "year": ["2014"], "version": ["2010"]},
        {"municipality": ["0180", "1442"], "year": ["2022"], "version": ["2020"]},
    ]


def test_reader_rows_read_counts_accepted_rejected_and_example_rows(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [
        HEADER, "1784;;2014;;1;;61;;;;", "", "1784;;2014;;2;;610;;;;",
        ";EXEMPEL Arvika;2014;;3;;61;;;;", ";;;;;;;;;;",
    ]))
    assert (result.rows_read, len(result.records), result.rejected_rows,
            result.example_rows_skipped) == (3, 1, [4], 1)


def test_reader_title_row_above_header_is_ignored(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, ["Kommunkompassen 2014;;;", "", "kommunkod;år;område_nr;poäng",
                                       "1784;2014;1;50"]))
    assert len(result.records) == 1
    result = read(write_csv(tmp_path, ["Kommunkompassen", "kommunkod,år,område_nr,poäng",
                                       '1784,2014,1,"50,5"']))
    assert payloads(result)[0]["score"] == 50.5
    result = read(write_csv(tmp_path, ["kommunkod;år;område_nr;poäng", "1784;2014;1;500"]))
    assert result.problems[0].row == 2


def test_reader_unknown_column_is_a_warning(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, ["kommunkod;år;område_nr;poäng;kommentar", "1784;2014;1;50;x"]))
    assert len(result.records) == 1
    assert [(w.row, w.column, w.reason) for w in row_warnings(result)] == [
        (1, "kommentar", "okänd kolumn, ignoreras"),
    ]


def test_reader_multiline_text_cell_keeps_spreadsheet_row_numbers(tmp_path: Path) -> None:
    result = read(write_csv(tmp_path, [
        "kommunkod;år;område_nr;poäng;styrkor", '1784;2014;1;50;"rad ett\r\nrad två"',
        "1784;2014;2;500;",
    ]))
    assert payloads(result)[0]["strengths"] == "rad ett\nrad två"
    assert result.problems[0].row == 3


# -- report and problems ------------------------------------------------------------------------


def test_problem_to_dict_has_the_five_fields() -> None:
    problem = Problem("kk.csv", 7, "poäng", "120", "poängen måste vara mellan 0 och 100")
    assert problem.to_dict() == {
        "file": "kk.csv", "row": 7, "column": "poäng", "value": "120",
        "reason": "poängen måste vara mellan 0 och 100",
    }


def test_report_has_counts_and_one_line_per_problem(tmp_path: Path) -> None:
    lines = [HEADER, *grastorp_lines()[:5], "1444;;2014;2010;6;;120;;506;;", *grastorp_lines()[6:]]
    result = read(write_csv(tmp_path, lines))
    report = format_report(result)
    assert "rader lästa: 8, godkända: 7, avvisade: 1, varningar: 1" in report
    assert 'rad 7, kolumn "poäng", värde "120": poängen måste vara mellan 0 och 100' in report
    assert "7 av 8 områden" in report
    assert format_report(result.problems).startswith("avvisade: 1")


# -- template ------------------------------------------------------------------------------------


def test_template_csv_is_what_swedish_excel_writes(tmp_path: Path) -> None:
    data = write_template(tmp_path / "mall.csv", xlsx=False).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + HEADER.encode("utf-8") + b"\r\n")
    assert ";55,5;" in data.decode("utf-8-sig")


def test_template_csv_round_trip_skips_examples_then_lands_when_filled(tmp_path: Path) -> None:
    path = write_template(tmp_path / "mall.csv", xlsx=False)
    result = read(path)
    assert (result.problems, result.warnings, result.records) == ([], [], [])
    assert result.example_rows_skipped == 8
    path.write_text(path.read_text("utf-8-sig").replace(EXAMPLE_MUNICIPALITY, "Arvika"),
                    "utf-8-sig")
    filled = read(path)
    assert filled.problems == [] and filled.warnings == [] and len(filled.records) == 8
    assert filled.assessments() == [("1784", 2024, 2020)]


def test_template_xlsx_round_trip_skips_examples_then_lands_when_filled(tmp_path: Path) -> None:
    path = write_template(tmp_path / "mall.xlsx", xlsx=True)
    result = read(path)
    assert (result.problems, result.warnings, result.records) == ([], [], [])
    assert result.example_rows_skipped == 8
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Kommunkompassen", "Instruktioner"]
    sheet = workbook["Kommunkompassen"]
    for row in range(2, 10):
        sheet.cell(row=row, column=1).value = "0180"
        sheet.cell(row=row, column=2).value = "Stockholm"
    workbook.save(path)
    filled = read(path)
    assert filled.problems == [] and filled.warnings == [] and len(filled.records) == 8
    assert {p["municipality"] for p in payloads(filled)} == {"0180"}
    assert payloads(filled)[0]["benchmark"] == 55.5
