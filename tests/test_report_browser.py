"""The report in a real browser: headless system Chromium on the sample's publication.

One sample refresh for the module (the publish step renders the report), then Playwright
drives /usr/bin/chromium (Debian's package; nothing downloads a browser). Every request the
pages make is recorded and must stay on file://. A screenshot of Arvika's page is written to
tests/output/report-arvika.png for a person to look at.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.report import numbers as nb
from pipelines.report.load import AREAS
from pipelines.scope import load_scope
from pipelines.settings import DEFAULT_CONFIG
from tests.env_helpers import platform_env

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent / "output"
# Without the background-networking flags Chromium phones home at start-up (and those
# connections are refused on locked-down networks); --headless comes from Playwright.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARVIKA = "1784"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A data dir with the sample published (report included), and the refresh's stdout."""
    data = tmp_path_factory.mktemp("report") / "data"
    # KK_XLSX_ROW_CAP unset, as deployed: every person-facing mart gets an xlsx
    with platform_env(data, unset=("KK_XLSX_ROW_CAP",)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["refresh", "--source", "sample"])
        assert code == 0, out.getvalue()[-3000:]
        yield data, out.getvalue()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()


class Visit:
    """A page with every request, console error and page error it caused."""

    def __init__(self, context, url: str) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url, wait_until="load")

    def close(self) -> None:
        self.page.close()


def report_dir(data: Path) -> Path:
    return data / "published" / "current" / "report"


def board_rows(data: Path, municipality: str) -> list[dict]:
    current = data / "published" / "current"
    sql = f"""
        select s.kkik_area, s.kpi_id, s.year, s.value, s.value_y1, s.value_y2, s.rank, s.ranked_count, s.colour, s.change,
               s.riket_value, s.kommungrupp_mean, s.liknande_mean, k.decimals
        from '{current}/mart_kkik_scorecard.parquet' s
        join '{current}/mart_kkik_board.parquet' b using (municipality_id, kpi_id, year)
        join '{current}/dim_kpi.parquet' k using (kpi_id)
        where s.municipality_id = '{municipality}'
        order by s.kkik_area, s.kpi_title, s.kpi_id"""
    cur = duckdb.sql(sql)
    rows = [dict(zip(cur.columns, r)) for r in cur.fetchall()]
    return sorted(rows, key=lambda r: AREAS.index(r["kkik_area"]))  # KKiK's order of areas


def close_to(text: str, value: float | None, decimals: int) -> bool:
    shown = nb.parse(text)
    if value is None:
        return shown is None
    return shown is not None and abs(shown - value) <= 0.5 * 10 ** -decimals + 1e-9


def test_report_unit_sections_match_the_unit_scorecard(published) -> None:
    """Arvika's page has a section per kind of unit in the sample, and each unit's latest value,
    national rank and colour are the published mart_unit_scorecard row (issue 30)."""
    data, _ = published
    current = data / "published" / "current"
    html = (report_dir(data) / "kommun" / f"{ARVIKA}.html").read_text(encoding="utf-8")
    cur = duckdb.sql(f"""
        select s.*, k.decimals from '{current}/mart_unit_scorecard.parquet' s
        left join '{current}/dim_kpi.parquet' k using (kpi_id)
        where s.municipality_id = '{ARVIKA}'
          and s.year = (select max(year) from '{current}/mart_unit_scorecard.parquet' x
                        where x.municipality_id = s.municipality_id and x.kpi_id = s.kpi_id
                          and x.unit_kind = s.unit_kind)""")
    rows = [dict(zip(cur.columns, r)) for r in cur.fetchall()]
    kinds = {r["unit_kind"] for r in rows}
    assert kinds >= {"V11", "V15"}
    for kind in kinds:
        assert f'id="enheter-{kind.lower()}"' in html
    checked = 0
    for r in rows:
        table = html.split(f'id="unit-{r["kpi_id"].lower()}-{r["unit_kind"].lower()}"')[1]
        cell = table.split("</table>")[0].split(f'data-ou="{r["ou_id"]}"')[1].split("</tr>")[0]
        value = re.findall(r'<td class="num">([^<]*)</td>', cell)[0]
        assert close_to(value, r["value"], r["decimals"] or 1), (r, cell)
        if r["rank"] is not None:
            assert f"{r['rank']} av {r['ranked_count']}" in cell
            checked += 1
        else:
            assert "Grå" in cell or "inget värde" in cell
    assert checked > 20


def test_report_refresh_summary_ends_with_the_report_path(published) -> None:
    data, stdout = published
    last = [line for line in stdout.splitlines() if line.strip()][-1]
    index = data / "published" / "current" / "report" / "index.html"
    assert last.endswith(str(index)) and index.is_file()


def test_report_index_loads_offline_without_console_errors(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "index.html").as_uri())
    try:
        assert visit.errors == []
        assert visit.requests and all(u.startswith("file://") for u in visit.requests), \
            visit.requests
        assert visit.page.locator("#municipalities li").count() == 290
        assert visit.page.locator("#overview tbody tr").count() == 290
        assert "Syntetiska exempeldata" in visit.page.inner_text("body")
    finally:
        visit.close()


def test_report_search_finds_arvika(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "index.html").as_uri())
    try:
        visit.page.fill("#search", "Arvika")
        shown = visit.page.locator("#municipalities li:not(.hidden)")
        assert shown.count() == 1 and shown.first.inner_text().startswith("Arvika")
        assert visit.page.inner_text("#search-status") == "1 kommun"
        shown.first.locator("a").click()
        visit.page.wait_for_load_state("load")
        assert visit.page.url.endswith(f"/kommun/{ARVIKA}.html")
        assert visit.page.inner_text("h1").startswith("Arvika")
        assert visit.errors == [] and all(u.startswith("file://") for u in visit.requests)
    finally:
        visit.close()


def test_report_board_table_matches_the_mart_row_for_row(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        shown = visit.page.eval_on_selector_all(
            "#board tr[data-kpi]",
            """rows => rows.map(r => [r.dataset.kpi, r.dataset.year, Object.fromEntries(
                Array.from(r.querySelectorAll('td[data-col]'),
                           c => [c.dataset.col, c.innerText]))])""")
        expected = board_rows(data, ARVIKA)
        assert [s[0] for s in shown] == [e["kpi_id"] for e in expected]
        for (kpi, year, cells), e in zip(shown, expected):
            d = e["decimals"]
            assert int(year) == e["year"], kpi
            assert close_to(cells["value"], e["value"], d), kpi
            assert close_to(cells["y1"], e["value_y1"], d), kpi
            assert close_to(cells["y2"], e["value_y2"], d), kpi
            assert close_to(cells["riket"], e["riket_value"], d), kpi
            assert close_to(cells["kommungrupp"], e["kommungrupp_mean"], d), kpi
            assert close_to(cells["liknande"], e["liknande_mean"], d), kpi
            assert cells["rank"] == (f"{e['rank']} av {e['ranked_count']}" if e["rank"]
                                     else nb.MISSING)
            assert cells["colour"].split()[-1] == {
                "green": "Grön", "yellow": "Gul", "red": "Röd", "grey": "Grå",
                None: "rangordnat"}[e["colour"]], kpi
            assert cells["change"].endswith(e["change"] or ""), kpi
        assert visit.errors == [] and all(u.startswith("file://") for u in visit.requests)
    finally:
        visit.close()


def test_report_chart_data_table_matches_the_mart(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        figure = visit.page.locator("figure.multiple").first
        kpi = figure.get_attribute("data-kpi")
        assert figure.locator("svg.trend path.s-kommun").count() == 1
        table = figure.locator("table.data")
        years = [int(t) for t in table.locator("thead th").all_text_contents()[1:]]
        rows = {r[0]: r[1:] for r in table.evaluate(
            "t => Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => c.textContent))")}
        current = data / "published" / "current"
        cur = duckdb.sql(f"""
            select year, value, riket_value, kommungrupp_mean, liknande_mean, decimals
            from '{current}/mart_kkik_scorecard.parquet'
            join '{current}/dim_kpi.parquet' using (kpi_id)
            where municipality_id = '{ARVIKA}' and kpi_id = '{kpi}' order by year""")
        mart = cur.fetchall()
        assert years == [r[0] for r in mart]
        for label, column in (("Arvika", 1), ("Riket", 2), ("Kommungrupp (medel)", 3),
                              ("Liknande kommuner (medel)", 4)):
            assert len(rows[label]) == len(mart)
            for text, r in zip(rows[label], mart):
                assert close_to(text, r[column], r[5]), (label, r[0])
    finally:
        visit.close()


def test_report_network_page_lists_its_members(published, browser) -> None:
    data, _ = published
    network = load_scope(DEFAULT_CONFIG).networks[0]
    visit = Visit(browser, (report_dir(data) / "natverk" / f"{network.id}.html").as_uri())
    try:
        members = visit.page.eval_on_selector_all(
            "#network thead th[data-member]", "ths => ths.map(t => t.dataset.member)")
        assert members == sorted(network.members)
        assert visit.page.inner_text("h1") == network.title
        assert visit.page.locator("#network tr[data-kpi]").count() >= 30
        assert visit.errors == [] and all(u.startswith("file://") for u in visit.requests)
    finally:
        visit.close()


def test_report_screenshot_of_arvika_for_a_person(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        OUTPUT.mkdir(exist_ok=True)
        shot = OUTPUT / "report-arvika.png"
        visit.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        for section in ("tabell", "trender", "farger", "andrat", "kommunkompassen", "profil"):
            assert visit.page.locator(f"section#{section}").count() == 1, section
    finally:
        visit.close()


def test_report_cli_rerenders_from_current_to_the_same_bytes(published, tmp_path) -> None:
    data, _ = published
    out = tmp_path / "arvika"
    assert main(["report", "--municipality", ARVIKA, "--out", str(out)]) == 0
    page = f"kommun/{ARVIKA}.html"
    assert (out / page).read_bytes() == (report_dir(data) / page).read_bytes()
    assert sorted(p.name for p in (out / "kommun").iterdir()) == [
        f"{ARVIKA}.csv", f"{ARVIKA}.html", f"{ARVIKA}.xlsx"]
    for name in (f"kommun/{ARVIKA}.xlsx", f"kommun/{ARVIKA}.csv", "nyckeltal.html"):
        assert (out / name).read_bytes() == (report_dir(data) / name).read_bytes(), name
    assert main(["report", "--municipality", "12"]) == 2
    assert re.search(r"^v\d{8}T\d{6}Z", (data / "published" / "current").resolve().name)


# Every box that could run into a neighbour: the small multiples and the colour-count figures
# (their charts, tables and captions), and every cell of a table that could be cut.
OVERLAPS_JS = """() => {
  const bad = [];
  const box = el => {
    const r = el.getBoundingClientRect();
    let [l, t, rr, b] = [r.left, r.top, r.right, r.bottom];
    for (const d of el.querySelectorAll('table, svg, figcaption')) {
      if (d.closest('details:not([open])')) continue;  // laid out, but neither shown nor in flow
      const q = d.getBoundingClientRect();
      if (q.width === 0 || q.height === 0) continue;
      l = Math.min(l, q.left); t = Math.min(t, q.top);
      rr = Math.max(rr, q.right); b = Math.max(b, q.bottom);
    }
    return [l, t, rr, b];
  };
  for (const row of document.querySelectorAll('.multiples')) {
    const kids = Array.from(row.children).filter(k => k.getBoundingClientRect().width > 0);
    const boxes = kids.map(box);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, c] = [boxes[i], boxes[j]];
      if (a[0] < c[2] - 0.5 && c[0] < a[2] - 0.5 && a[1] < c[3] - 0.5 && c[1] < a[3] - 0.5)
        bad.push('overlap: ' + kids[i].innerText.slice(0, 40) + ' / ' +
                 kids[j].innerText.slice(0, 40));
    }
  }
  for (const cell of document.querySelectorAll('main th, main td')) {
    if (cell.closest('details:not([open])')) continue;
    if (cell.getBoundingClientRect().width > 0 && cell.scrollWidth > cell.clientWidth + 1)
      bad.push('cut cell: ' + cell.innerText.slice(0, 40));
  }
  for (const svg of document.querySelectorAll('main svg[role=img]')) {
    const s = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const q = t.getBoundingClientRect();
      if (q.width > 0 && (q.left < s.left - 1 || q.right > s.right + 1))
        bad.push('cut label: ' + t.textContent.slice(0, 40));
    }
  }
  const main = document.querySelector('main').getBoundingClientRect();
  for (const table of document.querySelectorAll('main table')) {
    if (table.getBoundingClientRect().right > main.right + 1)
      bad.push('table wider than the page: ' + (table.id || table.className));
  }
  return bad;
}"""
# A4 less the print stylesheet's margins (12 mm each side, 16 + 15 mm top and bottom), in CSS
# pixels (96 per inch): the box a printed page lays out.
A4_CONTENT = {"width": round((210 - 24) / 25.4 * 96), "height": round((297 - 31) / 25.4 * 96)}


def test_report_kommun_page_has_no_overlapping_boxes_at_1400_px(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        visit.page.set_viewport_size({"width": 1400, "height": 900})
        assert visit.page.evaluate(OVERLAPS_JS) == []
        # and with every "Siffror" table opened, as a reader checking the numbers would
        visit.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        assert visit.page.evaluate(OVERLAPS_JS) == []
        OUTPUT.mkdir(exist_ok=True)
        visit.page.locator("#farger").screenshot(path=str(OUTPUT / "report-arvika-farger.png"))
    finally:
        visit.close()


def test_report_kommun_page_prints_on_a4_without_overlaps_and_the_table_first(
        published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        visit.page.emulate_media(media="print")
        visit.page.set_viewport_size(A4_CONTENT)
        assert visit.page.evaluate(OVERLAPS_JS) == []
        first_row = visit.page.locator("#board tr[data-kpi]").first.bounding_box()
        assert first_row["y"] + first_row["height"] < A4_CONTENT["height"]  # on page 1
        assert visit.page.locator("nav.toc").is_hidden()
    finally:
        visit.close()


def test_report_pdf_is_an_a4_board_pack_with_the_table_on_page_1(published, tmp_path) -> None:
    pypdf = pytest.importorskip("pypdf")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    data, _ = published
    out = tmp_path / "pdf-report"
    assert main(["report", "--municipality", ARVIKA, "--out", str(out), "--pdf"]) == 0
    reader = pypdf.PdfReader(out / "pdf" / f"{ARVIKA}.pdf")
    pages = len(reader.pages)
    # the board pack (10 pages on the sample) and Arvika's units (4 kinds, about 3 pages)
    assert 2 <= pages <= 16
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (
        210, 297)
    first = reader.pages[0].extract_text()
    expected = board_rows(data, ARVIKA)
    title = duckdb.sql(f"""select kpi_title from '{data}/published/current/mart_kkik_board.parquet'
        where municipality_id = '{ARVIKA}' and kpi_id = '{expected[0]["kpi_id"]}'""").fetchall()[0][0]
    for needle in ("Arvika (1784) · KKiK-rapport", "KKiK-tabell", f"Sida 1 av {pages}",
                   "Utfall", title.split()[0]):
        assert needle in first, needle
    assert re.search(r"data per \d{4}-\d\d-\d\d \d\d:\d\d CES?T", first)
    assert f"Sida {pages} av {pages}" in reader.pages[-1].extract_text()
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "report-arvika.pdf").write_bytes((out / "pdf" / f"{ARVIKA}.pdf").read_bytes())


def test_report_charts_have_year_ticks(published, browser) -> None:
    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        figure = visit.page.locator("figure.multiple").first
        years = [int(t) for t in figure.locator("table.data thead th").all_text_contents()[1:]]
        # the chart refers to its page's shared x axis (defined once, drawn in every chart)
        ref = figure.locator("svg.trend use").get_attribute("href")
        labels = [int(t) for t in
                  visit.page.locator(f"svg.defs {ref} g.xl text").all_text_contents()]
        box = figure.locator("svg.trend use").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 5  # drawn, not just defined
        assert labels[-1] == years[-1] and labels == sorted(labels) and len(labels) >= 2
        assert set(labels) <= set(years)
        assert figure.locator("svg path.gr").count() == 1
        assert figure.locator("svg text.unit").count() == 1
    finally:
        visit.close()


def test_report_download_links_resolve_to_files_that_open(published, browser) -> None:
    import csv

    import openpyxl

    data, _ = published
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        links = visit.page.eval_on_selector_all(
            "a[data-download]", "as => as.map(a => [a.dataset.download, a.getAttribute('href'),"
            " a.href])")
        assert {kind for kind, _, _ in links} == {"xlsx", "csv"}
        paths = {}
        for kind, href, url in links:
            assert "/" not in href and url.startswith("file://")  # relative, offline
            paths[kind] = Path(url.removeprefix("file://"))
            assert paths[kind].is_file(), url
        rows = board_rows(data, ARVIKA)
        ws = openpyxl.load_workbook(paths["xlsx"])["Data"]
        codes = [c.value for c in ws["A"][1:]]
        assert codes == [ARVIKA] * len(rows) and ws["A2"].data_type == "s"
        with open(paths["csv"], encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh, delimiter=";"))
        assert table[0][:2] == ["Kommunkod", "Kommun"] and len(table) == len(rows) + 1
    finally:
        visit.close()


def test_report_board_comparison_can_be_picked(published, browser) -> None:
    data, _ = published
    network = load_scope(DEFAULT_CONFIG).networks[0]
    visit = Visit(browser, (report_dir(data) / "kommun" / f"{ARVIKA}.html").as_uri())
    try:
        options = visit.page.eval_on_selector_all("#compare option", "os => os.map(o => o.value)")
        assert options == ["alla", "kommungrupp", "liknande", f"n-{network.id}"]
        visible = "sel => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent)" \
                  ".length"
        rows = visit.page.locator("#board tr[data-kpi]").count()
        assert visit.page.evaluate(visible, f'#board td[data-cmp="n-{network.id}"]') == rows
        visit.page.select_option("#compare", "liknande")
        assert visit.page.evaluate(visible, '#board td[data-cmp="liknande"]') == rows
        assert visit.page.evaluate(visible, '#board [data-cmp="kommungrupp"]') == 0
        assert visit.page.evaluate(visible, f'#board [data-cmp="n-{network.id}"]') == 0
        visit.page.select_option("#compare", "alla")
        assert visit.page.evaluate(visible, '#board td[data-cmp="kommungrupp"]') == rows
        assert visit.errors == []
    finally:
        visit.close()


def test_network_page_downloads_open_and_its_comparison_can_be_picked(
    published, browser
) -> None:
    """The network page (Arvika's network in the sample) links its table as xlsx and CSV,
    relatively; both open (openpyxl: codes as text) and hold a row per member and KPI, and
    its "Jämför med" picker hides the comparison not picked."""
    import csv

    import openpyxl

    from pipelines.report.views import slug

    data, _ = published
    network = load_scope(DEFAULT_CONFIG).networks[0]
    assert ARVIKA in network.members
    page = report_dir(data) / "natverk" / f"{slug(network.id)}.html"
    visit = Visit(browser, page.as_uri())
    try:
        assert visit.errors == [] and all(u.startswith("file://") for u in visit.requests)
        links = visit.page.eval_on_selector_all(
            "a[data-download]", "as => as.map(a => [a.dataset.download, a.getAttribute('href'),"
            " a.href])")
        assert sorted(kind for kind, _, _ in links) == ["csv", "xlsx"]
        paths = {}
        for kind, href, url in links:
            assert "/" not in href and url.startswith("file://")  # relative, offline
            paths[kind] = Path(url.removeprefix("file://"))
            assert paths[kind].is_file() and paths[kind].parent == page.parent, url
        kpis = visit.page.locator("#network tr[data-kpi]").count()
        members = len(network.members)
        ws = openpyxl.load_workbook(paths["xlsx"])["Data"]
        header = [c.value for c in ws[1]]
        assert header[:3] == ["Nätverk", "Kommunkod", "Kommun"]
        codes = [c for c in ws["B"][1:]]
        assert len(codes) == kpis * members > 0
        assert {c.value for c in codes} == set(network.members)
        assert {c.data_type for c in codes} == {"s"}  # 0114-style codes stay text
        colours = {c.value for c in ws[chr(ord("A") + header.index("Färg"))][1:]}
        assert colours and not colours & {"green", "yellow", "red", "grey"}  # Swedish only
        with open(paths["csv"], encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh, delimiter=";"))
        assert table[0] == header and len(table) == kpis * members + 1
        arvika = [r for r in table[1:] if r[1] == ARVIKA]
        assert len(arvika) == kpis

        options = visit.page.eval_on_selector_all("#compare option", "os => os.map(o => o.value)")
        assert options == ["alla", "medel", "riket"]
        visible = "sel => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent)" \
                  ".length"
        assert visit.page.evaluate(visible, '#network td[data-cmp="riket"]') == kpis
        visit.page.select_option("#compare", "medel")
        assert visit.page.evaluate(visible, '#network td[data-cmp="medel"]') == kpis
        assert visit.page.evaluate(visible, '#network [data-cmp="riket"]') == 0
        visit.page.select_option("#compare", "alla")
        assert visit.page.evaluate(visible, '#network td[data-cmp="riket"]') == kpis
        assert visit.errors == []
    finally:
        visit.close()


def test_publication_has_an_xlsx_for_every_mart_a_person_opens_with_codes_as_text(
        published) -> None:
    import json

    import openpyxl

    from pipelines.publish.formats import XLSX, declared_formats

    data, _ = published
    current = data / "published" / "current"
    manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    formats = declared_formats()
    assert all(bool(entry["xlsx"]) == (XLSX in formats[mart])
               for mart, entry in manifest["marts"].items()), manifest["marts"]
    with_xlsx = [m for m, entry in manifest["marts"].items() if entry["xlsx"]]
    biggest = max(with_xlsx, key=lambda m: manifest["marts"][m]["rows"])
    workbook = openpyxl.load_workbook(current / "xlsx" / f"{biggest}.xlsx", read_only=True)
    try:
        ws = workbook["Data"]
        header, *rows = (list(r) for r in ws.iter_rows(min_row=1, max_row=200))
        assert ws.max_row == manifest["marts"][biggest]["rows"] + 1
        column = [c.value for c in header].index("Kommunkod")
        # the first row with a code (a revision of a KPI's metadata has none)
        code = next(r[column] for r in rows if r[column].value is not None)
        assert code.data_type == "s" and len(code.value) == 4
    finally:
        workbook.close()
