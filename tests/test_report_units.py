"""The kommun page's unit sections (pipelines/report/units.py, templates/_units.html), rendered
from a small hand-written publication: a section per kind, colours against the kind, grey
units said to be not comparable, a closed unit marked, and no section without the mart."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.report.site import render
from pipelines.report.units import sparkline
from tests.report_helpers import HOSTILE, scorecard_row, write_publication

S, I, F, B = pa.string(), pa.int32(), pa.float64(), pa.bool_()
UNIT_SCORECARD = pa.schema([
    ("ou_id", S), ("ou_name", S), ("municipality_id", S), ("unit_kind", S), ("kind_name", S),
    ("kind_plural", S), ("is_open", B), ("kpi_id", S), ("year", I), ("direction", S),
    ("change_direction", S), ("value", F), ("value_y1", F), ("rank", I), ("ranked_count", I),
    ("percentile", F), ("colour", S), ("kommun_rank", I), ("kommun_ranked_count", I),
    ("kommun_value", F), ("riket_value", F), ("change", S), ("ranked_kommuner", I)])


def unit_row(ou: str, name: str, kpi: str, year: int, value: float | None, **kw) -> dict:
    kind = ou[:3]
    row = {"ou_id": ou, "ou_name": name, "municipality_id": "1784", "unit_kind": kind,
           "kind_name": {"V15": "Grundskola", "V26": "Daglig verksamhet LSS"}[kind],
           "kind_plural": {"V15": "Grundskolor", "V26": "Dagliga verksamheter (LSS)"}[kind],
           "is_open": True, "kpi_id": kpi, "year": year, "direction": "higher_better",
           "change_direction": "higher_better", "value": value, "value_y1": None,
           "rank": None, "ranked_count": 131, "percentile": None, "colour": "grey",
           "kommun_rank": None, "kommun_ranked_count": None, "kommun_value": 84.5,
           "riket_value": 73.49, "change": "Ingen"}
    row.update(kw)
    return row


def publication(tmp_path: Path, units: list[dict] | None) -> Path:
    folder = write_publication(
        tmp_path / "pub", scorecard=[scorecard_row("1784", "N15436", 2024, 80.0)],
        kpi_titles={"N15436": "Behöriga till yrkesprogram, andel (%)", "U28532": HOSTILE},
        names={"1784": "Arvika", "1780": "Karlstad"})
    if units is not None:
        pq.write_table(pa.Table.from_pylist(units, schema=UNIT_SCORECARD),
                       folder / "mart_unit_scorecard.parquet")
    return folder


UNITS = [
    unit_row("V15E178402001", "Dotteviksskolan", "N15436", 2023, 80.0, rank=50, colour="yellow",
             kommun_rank=2, kommun_ranked_count=12),
    unit_row("V15E178402001", "Dotteviksskolan", "N15436", 2024, 91.7, rank=27, colour="green",
             kommun_rank=1, kommun_ranked_count=12, change="Upp", value_y1=80.0,
             ranked_kommuner=16),
    unit_row("V15E178402101", "Gateskolan", "N15436", 2024, None),
    unit_row("V15E178403601", "Klässbols skola", "N15436", 2023, 70.0, rank=120, colour="red",
             kommun_rank=12, kommun_ranked_count=12, is_open=False),
    unit_row("V26E5778", "DV Muraren", "U28532", 2024, 70.0, ranked_count=0),
]


def page(tmp_path: Path, units: list[dict] | None) -> str:
    render(publication(tmp_path, units), tmp_path / "out", municipalities=["1784", "1780"])
    return (tmp_path / "out" / "kommun" / "1784.html").read_text(encoding="utf-8")


def test_a_section_per_kind_with_each_units_latest_value_and_colour(tmp_path: Path) -> None:
    html = page(tmp_path, UNITS)
    assert '<a href="#enheter">Enheter</a>' in html
    assert [m for m in re.findall(r'<h3 id="enheter-(v\d\d)-h">([^<]+)', html)] == \
        [("v15", "Grundskolor "), ("v26", "Dagliga verksamheter (LSS) ")]
    table = html.split('id="unit-n15436-v15"')[1].split("</table>")[0]
    assert "2024 · Kommunen: 84,5 · Riket: 73,5" in html  # decimals from dim_kpi (1)
    rows = re.findall(r'<tr data-ou="([^"]+)"', table)
    assert rows == ["V15E178402001", "V15E178402101", "V15E178403601"]  # ranked first
    dottevik = table.split('data-ou="V15E178402001"')[1].split("</tr>")[0]
    assert "91,7" in dottevik and "Grön" in dottevik and "27 av 131" in dottevik
    assert "1 av 12" in dottevik and "Upp" in dottevik and "<svg" in dottevik
    gate = table.split('data-ou="V15E178402101"')[1].split("</tr>")[0]
    assert 'class="not-comparable"' in table and "ej jämförbar" in gate
    klassbol = table.split('data-ou="V15E178403601"')[1].split("</tr>")[0]
    assert "(finns inte längre)" in klassbol and "inget värde 2024" in klassbol


def test_a_kind_too_small_to_compare_is_grey_and_titles_are_escaped(tmp_path: Path) -> None:
    html = page(tmp_path, UNITS)
    lss = html.split('id="unit-u28532-v26"')[1].split("</table>")[0]
    assert "Grå (ej jämförbar)" in lss and " av " not in lss
    assert '<span class="counts">1 enhet</span>' in html  # one LSS unit: singular
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_no_unit_mart_no_section_and_no_units_says_so(tmp_path: Path) -> None:
    assert 'id="enheter"' not in page(tmp_path / "a", None)
    render(publication(tmp_path / "b", UNITS), tmp_path / "b" / "out", municipalities=["1780"])
    karlstad = (tmp_path / "b" / "out" / "kommun" / "1780.html").read_text(encoding="utf-8")
    assert "Publiceringen har inga enhetsvärden för Karlstad" in karlstad


def test_sparkline_names_its_numbers_and_draws_nothing_from_one_point() -> None:
    svg = sparkline([(2023, 80.0), (2024, 91.7)], "Dotteviksskolan")
    assert 'role="img"' in svg and "2023: 80,0, 2024: 91,7" in svg and "<polyline" in svg
    assert "<polyline" not in sparkline([(2024, 1.0)], "x")


def test_the_page_says_how_wide_the_comparison_is_from_the_data(tmp_path: Path) -> None:
    """Units of one of the publication's two kommuner: "nationally" is the sample's units only,
    and the page says so; with units in every kommun it is the whole country."""
    html = page(tmp_path / "a", UNITS)
    intro = html.split('id="enheter-h"')[1].split("</p>")[0]
    assert "bland enheterna i urvalet" in intro and "enheter i 1 av landets 2 kommuner" in intro
    assert "i landet (" not in intro
    table = html.split('id="unit-n15436-v15"')[1].split("</caption>")[0]
    assert "Jämförd bland enheter i 16 kommuner" in table
    karlstad = unit_row("V15E178001001", "Klaraskolan", "N15436", 2024, 70.0,
                        municipality_id="1780")
    national = page(tmp_path / "b", [*UNITS, karlstad]).split('id="enheter-h"')[1]
    assert "alla enheter av samma slag i landet" in national.split("</p>")[0]
    assert "i urvalet" not in national.split("</p>")[0]
