"""The report renders any publication safely: hostile text, missing values, a single year.

These render a hand-written publication folder (tests/report_helpers.py), so they run in
about a second; the browser tests on the real sample are in tests/test_report_browser.py.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import publish
from pipelines.report import ReportError, render
from pipelines.report import numbers as nb
from tests.report_helpers import HOSTILE, scorecard_row, write_publication


def _site(tmp_path: Path, **kw) -> Path:
    folder = write_publication(tmp_path / "pub", **kw)
    render(folder, tmp_path / "site")
    return tmp_path / "site"


def _hostile(tmp_path: Path) -> Path:
    rows = [scorecard_row("1784", "N00001", y, 10.0 + y - 2020, title=HOSTILE)
            for y in (2020, 2021, 2022)]
    return _site(tmp_path, scorecard=rows, kpi_titles={"N00001": HOSTILE},
                 names={"1784": f"Arvika {HOSTILE}"},
                 networks=[("n<1>", f"Nätverk {HOSTILE}", ["1784"])])


def test_report_escapes_hostile_text_everywhere(tmp_path: Path) -> None:
    site = _hostile(tmp_path)
    pages = sorted(site.rglob("*.html"))
    assert {p.relative_to(site).as_posix() for p in pages} == {
        "index.html", "kommun/1784.html", "natverk/n-1.html"}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
    # the only scripts are the report's own file
    index = (site / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script[^>]*>", index) == ['<script src="static/report.js">']


def test_report_shows_missing_values_as_a_dash(tmp_path: Path) -> None:
    rows = [scorecard_row("1784", "N00001", 2022, None, riket_value=None,
                          kommungrupp_mean=None, change=None),
            scorecard_row("1784", "N00002", 2022, 3.14159)]
    site = _site(tmp_path, scorecard=rows, kpi_titles={"N00001": "A", "N00002": "B"},
                 names={"1784": "Arvika"})
    html = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    missing = re.search(r'<tr data-kpi="N00001".*?</tr>', html, re.DOTALL).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', missing)
    assert cells == ["2022", nb.MISSING, nb.MISSING, nb.MISSING, nb.MISSING, nb.MISSING]
    assert "Grå" in missing and "○" in missing  # a symbol beside the colour
    present = re.search(r'<tr data-kpi="N00002".*?</tr>', html, re.DOTALL).group(0)
    assert "3,1" in present and "1 av 2" in present and "▲" in present


def test_report_draws_a_single_year_as_points(tmp_path: Path) -> None:
    rows = [scorecard_row("1784", "N00001", 2024, 12.5)]
    site = _site(tmp_path, scorecard=rows, kpi_titles={"N00001": "A"}, names={"1784": "Arvika"})
    html = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    chart = re.search(r'<svg class="trend".*?</svg>', html, re.DOTALL).group(0)
    assert 'class="s-kommun" d="M' in chart and "h0" in chart  # a lone point keeps its marker
    table = re.search(r'<table class="data" id="t-N00001">.*?</table>', html, re.DOTALL).group(0)
    assert re.findall(r'<th scope="col">(\d{4})</th>', table) == ["2024"]
    assert "<td>12,5</td>" in table


def test_report_leaves_out_sections_whose_marts_are_not_published(tmp_path: Path) -> None:
    site = _hostile(tmp_path)
    html = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    for section in ("andrat", "kommunkompassen", "profil"):
        assert f'id="{section}"' not in html and f'href="#{section}"' not in html
    assert 'id="tabell"' in html and 'id="trender"' in html and 'id="farger"' in html


def test_report_is_byte_identical_for_the_same_publication(tmp_path: Path) -> None:
    first = _hostile(tmp_path / "a")
    second = _hostile(tmp_path / "b")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_report_says_synthetic_and_credits_on_every_page(tmp_path: Path) -> None:
    site = _hostile(tmp_path)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "Syntetiska exempeldata" in html and "Källa: Kolada" in html
        assert "Egen bearbetning (inte Kolada)" in html


def test_report_refuses_to_overwrite_a_folder_that_is_not_a_report(tmp_path: Path) -> None:
    folder = write_publication(tmp_path / "pub", scorecard=[
        scorecard_row("1784", "N00001", 2024, 1.0)], kpi_titles={"N00001": "A"},
        names={"1784": "Arvika"})
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "budget.xlsx").write_text("keep me")
    with pytest.raises(ReportError, match="not a report folder"):
        render(folder, precious)
    assert (precious / "budget.xlsx").read_text() == "keep me"
    with pytest.raises(ReportError, match="unknown kommun"):
        render(folder, tmp_path / "out", municipalities=["0999"])


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (12345.67, 1, "12\u202f345,7"), (1234.0, 0, "1234"), (-1.25, 2, "\u22121,25"),
    (-0.04, 1, "0,0"), (None, 1, "\u2013"), (float("nan"), 2, "\u2013"),
    (1234567.0, 0, "1\u202f234\u202f567"), (2.5, None, "2,5"),
])
def test_report_numbers_are_swedish(value, decimals, text) -> None:
    assert nb.number(value, decimals) == text
    if value is not None and not math.isnan(value):
        assert nb.parse(text) == pytest.approx(round(value, decimals or 1))


def _warehouse(tmp_path: Path, folder: Path) -> tuple[Path, list[str]]:
    marts = [p.stem for p in sorted(folder.glob("*.parquet"))]
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for mart in marts:
            con.execute(f"create table {mart} as select * from '{folder / mart}.parquet'")
    return path, marts


def test_report_is_published_inside_the_version(tmp_path: Path) -> None:
    folder = write_publication(tmp_path / "pub", scorecard=[
        scorecard_row("1784", "N00001", 2024, 1.0)], kpi_titles={"N00001": "A"},
        names={"1784": "Arvika"})
    warehouse, marts = _warehouse(tmp_path, folder)
    result = publish(warehouse, tmp_path / "published", marts, watermark="2026-01-01T00:00:00",
                     check_results=[], code_version="test", synthetic=True)
    current = tmp_path / "published" / "current"
    assert (current / "report" / "index.html").is_file()
    assert (current / "report" / "kommun" / "1784.html").is_file()
    assert result.manifest["report"]["municipality_pages"] == 1
    assert "report/index.html" in (current / "README.md").read_text(encoding="utf-8")


def test_report_failure_fails_the_publication(tmp_path: Path, monkeypatch) -> None:
    folder = write_publication(tmp_path / "pub", scorecard=[
        scorecard_row("1784", "N00001", 2024, 1.0)], kpi_titles={"N00001": "A"},
        names={"1784": "Arvika"})
    warehouse, marts = _warehouse(tmp_path, folder)

    def broken(*args, **kwargs):
        raise RuntimeError("template broke")

    monkeypatch.setattr("pipelines.report.render", broken)
    published = tmp_path / "published"
    with pytest.raises(RuntimeError, match="template broke"):
        publish(warehouse, published, marts, watermark="2026-01-01T00:00:00",
                check_results=[], code_version="test", synthetic=True)
    assert not (published / "current").exists()
    assert [p.name for p in published.iterdir() if not p.name.startswith(".publish")] == []


def test_report_overview_uses_the_year_most_kpis_report(tmp_path: Path) -> None:
    rows = [scorecard_row("1784", "N00001", 2024, 1.0), scorecard_row("1784", "N00002", 2024, 2.0),
            scorecard_row("1784", "N00003", 2025, 3.0)]  # one KPI already has next year
    site = _site(tmp_path, scorecard=rows,
                 kpi_titles={"N00001": "A", "N00002": "B", "N00003": "C"},
                 names={"1784": "Arvika"})
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "antal färger per område 2024" in index
