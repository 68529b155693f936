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
        "index.html", "kommun/1784.html", "natverk/n-1.html", "nyckeltal.html"}
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
    cells = dict(re.findall(r'<td[^>]*data-col="(\w+)"[^>]*>([^<]*)</td>', missing))
    assert cells.pop("change") == ""  # no change without a value
    assert cells == {k: nb.MISSING for k in ("y2", "y1", "value", "rank", "riket",
                                              "kommungrupp", "liknande")}
    # a symbol beside the colour: drawn by the shared stylesheet for the badge's class
    assert '<span class="c c-grey">Grå</span>' in missing
    present = re.search(r'<tr data-kpi="N00002".*?</tr>', html, re.DOTALL).group(0)
    assert "3,1" in present and "1 av 2" in present and 'class="c c-green"' in present
    css = (site / "static" / "report.css").read_text(encoding="utf-8")
    assert 'td .c-green::before { content: "\\25B2\\A0"' in css  # ▲ and a no-break space
    assert 'td .c-grey::before { content: "\\25CB\\A0"' in css  # ○


def test_report_draws_a_single_year_as_points(tmp_path: Path) -> None:
    rows = [scorecard_row("1784", "N00001", 2024, 12.5)]
    site = _site(tmp_path, scorecard=rows, kpi_titles={"N00001": "A"}, names={"1784": "Arvika"})
    html = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    chart = re.search(r'<svg class="trend".*?</svg>', html, re.DOTALL).group(0)
    assert 'class="s-kommun" d="M' in chart and "h0" in chart  # a lone point keeps its marker
    table = re.search(r'<table class="data" id="t-N00001">.*?</table>', html, re.DOTALL).group(0)
    assert re.findall(r"<th>(\d{4})", table) == ["2024"]
    assert "<td>12,5" in table


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


def _board(tmp_path: Path, names: dict[str, str], **kw) -> Path:
    rows = [scorecard_row(code, "N00001", y, 10.0 + y - 2020 + i, value_y1=9.0 + y - 2020,
                          value_y2=8.0 + y - 2020, liknande_names="Ånge, Älmhult, Örebro, Arboga")
            for i, code in enumerate(names) for y in (2022, 2023, 2024)]
    return _site(tmp_path, scorecard=rows, kpi_titles={"N00001": "Andel & <mått>"},
                 names=names, **kw)


NAMES = {"1784": "Arvika", "2260": "Ånge", "0765": "Älmhult", "1880": "Örebro",
         "0114": "Upplands Väsby"}


def test_report_lists_names_in_swedish_order(tmp_path: Path) -> None:
    site = _board(tmp_path, NAMES)
    index = (site / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<li data-name="[^"]*" data-id="(\d{4})">', index)
    # Å, Ä, Ö after Z and in that order (a code-point sort gives "Älmhult, Ånge")
    assert [NAMES[c] for c in listed] == ["Arvika", "Upplands Väsby", "Ånge", "Älmhult", "Örebro"]
    page = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    assert "Arboga, Ånge, Älmhult, Örebro." in page


def test_report_header_gives_stockholm_time_with_the_zone(tmp_path: Path) -> None:
    site = _board(tmp_path, {"1784": "Arvika"})
    page = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    # the manifest's as_of 2025-12-31T23:00:00+00:00 is midnight in Stockholm
    assert "Data per 2026-01-01 00:00 CET (svensk normaltid)" in page
    assert " UTC" not in page


def test_report_board_shows_three_years_and_links_definitions(tmp_path: Path) -> None:
    site = _board(tmp_path, {"1784": "Arvika"})
    page = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    head = re.search(r'<table class="board" id="board">\s*<thead>.*?</thead>', page, re.DOTALL).group(0)
    assert re.findall(r'class="yh">([^<]*)<', head) == ["2022", "2023", "Utfall 2024"]
    row = re.search(r'<tr data-kpi="N00001".*?</tr>', page, re.DOTALL).group(0)
    cells = dict(re.findall(r'data-col="(\w+)"[^>]*>([^<]*)</td>', row))
    assert (cells["y2"], cells["y1"], cells["value"]) == ("12,0", "13,0", "14,0")
    assert 'href="../nyckeltal.html#N00001"' in row
    definitions = (site / "nyckeltal.html").read_text(encoding="utf-8")
    assert 'id="N00001"' in definitions and "Beskrivning av Andel &amp; &lt;mått&gt;." in definitions
    assert 'href="https://www.kolada.se/verktyg/fri-sokning/?kpis=N00001"' in definitions


def test_report_print_header_is_allowed_by_the_pages_csp(tmp_path: Path) -> None:
    import base64
    import hashlib

    site = _board(tmp_path, {"1784": "Arvika"})
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src 'self' 'sha256-{digest}'" in html, page
        assert "@top-left" in style and "<" not in style
    page = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    assert 'content:"Arvika (1784) · KKiK-rapport"' in page


def test_report_trend_chart_has_year_ticks_gridlines_and_unit(tmp_path: Path) -> None:
    site = _board(tmp_path, {"1784": "Arvika"})
    page = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    chart = re.search(r'<svg class="trend".*?</svg>', page, re.DOTALL).group(0)
    # the x axis is defined once per page and each chart over the same years refers to it
    ref = re.search(r'<use href="#(ax-[\w-]+)"/>', chart).group(1)
    axis = re.search(rf'<g id="{ref}">(.*?</g>)</g>', page).group(1)
    labels = re.search(r'<g class="xl"[^>]*>(.*?)</g>', axis).group(1)
    assert re.findall(r">(\d{4})<", labels) == ["2022", "2023", "2024"]
    assert 'class="gr" d="M' in chart and axis.count("v3") == 3  # a tick per year
    assert page.count(f'<g id="{ref}">') == 1
    assert '<text x="2" y="9" class="unit">andel (%)</text>' in chart


def test_report_writes_each_kommuns_board_as_xlsx_and_csv(tmp_path: Path) -> None:
    import openpyxl

    site = _board(tmp_path, {"0114": "Upplands Väsby"})
    page = (site / "kommun" / "0114.html").read_text(encoding="utf-8")
    assert 'href="0114.xlsx"' in page and 'href="0114.csv"' in page  # relative: offline
    ws = openpyxl.load_workbook(site / "kommun" / "0114.xlsx")["Data"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}  # the one KPI at its latest year
    assert row["Kommunkod"].value == "0114" and row["Kommunkod"].data_type == "s"
    assert row["Utfall"].value == 14.0 and row["Utfall"].number_format == "0.0"
    assert row["Färg"].value.startswith("Grön")
    csv_text = (site / "kommun" / "0114.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Kommunkod;Kommun;Område;Nyckeltal id;Mått")
    assert ";14;" in csv_text or ";14,0;" in csv_text


def test_bar_chart_wraps_long_labels_instead_of_cutting_them() -> None:
    from pipelines.report.charts import bar_chart

    svg = bar_chart("t", [("1. Samspel mellan förtroendevalda och medborgare", 64.0, 60.0)],
                    maximum=100, table_id="x")
    assert "…" not in svg and ">förtroendevalda och medborgare</tspan>" in svg


def test_report_shows_women_and_men_beside_the_total(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [scorecard_row("1784", k, 2024, 50.0) for k in ("N00001", "N00002")]
    folder = write_publication(tmp_path / "pub", scorecard=rows,
                               kpi_titles={"N00001": "A", "N00002": "B"},
                               names={"1784": "Arvika"})
    pq.write_table(pa.table({
        "municipality_id": ["1784"] * 3, "kpi_id": ["N00001"] * 3, "period": [2024, 2024, 2023],
        "gender": ["K", "M", "K"], "value": [52.04, 47.96, 1.0]}), folder / "fct_kpi_values.parquet")
    render(folder, tmp_path / "site")
    html = (tmp_path / "site" / "kommun" / "1784.html").read_text(encoding="utf-8")
    divided = re.search(r'<tr data-kpi="N00001".*?</tr>', html, re.DOTALL).group(0)
    assert "Kvinnor 52,0 · Män 48,0" in divided  # the board's year, at the KPI's precision
    total_only = re.search(r'<tr data-kpi="N00002".*?</tr>', html, re.DOTALL).group(0)
    assert "Kvinnor" not in total_only


def test_report_board_compares_with_the_kommuns_networks_too(tmp_path: Path) -> None:
    site = _board(tmp_path, {"1784": "Arvika", "1780": "Karlstad"},
                  networks=[("vn", "Värmlandsnätverket", ["1784", "1780"])])
    page = (site / "kommun" / "1784.html").read_text(encoding="utf-8")
    head = re.search(r"<thead>.*?</thead>", page, re.DOTALL).group(0)
    assert '<th scope="col" data-cmp="n-vn">Värmlandsnätverket (medel)</th>' in head
    row = re.search(r'<tr data-kpi="N00001".*?</tr>', page, re.DOTALL).group(0)
    assert '<td data-col="network" data-cmp="n-vn">42,0</td>' in row
    # the picker offers every comparison the board has; the script is the report's own file
    options = re.findall(r'<option value="([^"]+)">', page)
    assert options == ["alla", "kommungrupp", "liknande", "n-vn"]
    assert '<script src="../static/report.js"></script>' in page


def test_network_page_offers_its_table_as_xlsx_and_csv_and_a_picker(tmp_path: Path) -> None:
    import openpyxl

    site = _board(tmp_path, {"0114": "Upplands Väsby", "1780": "Karlstad"},
                  networks=[("vn", "Värmlandsnätverket", ["0114", "1780"])])
    page = (site / "natverk" / "vn.html").read_text(encoding="utf-8")
    assert 'href="vn.xlsx"' in page and 'href="vn.csv"' in page  # relative: offline
    assert re.findall(r'<option value="([^"]+)">', page) == ["alla", "medel", "riket"]
    assert '<select id="compare" data-table="network">' in page
    assert '<script src="../static/report.js"></script>' in page
    ws = openpyxl.load_workbook(site / "natverk" / "vn.xlsx")["Data"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2)]
    assert [r["Kommunkod"].value for r in rows] == ["0114", "1780"]  # a row per member
    assert {r["Kommunkod"].data_type for r in rows} == {"s"}
    assert rows[0]["Nätverk"].value == "Värmlandsnätverket"
    assert rows[0]["Nätverkets medel"].value == 42.0
    csv_text = (site / "natverk" / "vn.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Nätverk;Kommunkod;Kommun;Område")
    assert "\nVärmlandsnätverket;0114;Upplands Väsby;" in csv_text


def test_report_css_draws_every_badges_symbol_and_arrow() -> None:
    from importlib import resources

    from pipelines.report.views import CHANGES, COLOURS

    css = resources.files("pipelines.report").joinpath("static", "report.css").read_text("utf-8")
    cues = {f"c-{c}": symbol for c, (_, symbol, _) in COLOURS.items()}
    cues |= {f"ch-{change.lower()}": arrow for change, arrow in CHANGES.items()}
    for cls, symbol in cues.items():
        assert f'td .{cls}::before {{ content: "\\{ord(symbol):04X}\\A0"' in css, cls
