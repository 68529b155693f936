"""Write the report's static site: index, one page per kommun, one per network, the assets.

Jinja2 with autoescape on for every template, so any text from the data (a KPI title, a
network name, an assessment's free text) is escaped; only the chart SVG from
pipelines.report.charts, which escapes its own text, arrives as markup. The same publication
gives the same bytes: pages are written in a fixed order, nothing shows the render time, and
every date comes from the manifest.

Inside a publication, a page whose inputs did not change since the previous version is that
version's file (pipelines/publish/sharing.py): each page's inputs key (what the page shows,
apart from the publication's id and dates, and the code that renders it) is recorded in
report.json, and a page with the same key is linked, with its downloads, instead of rendered.
A shared page's header names the publication that rendered it; the index is always rendered,
so it names the current one. A page that is rendered again takes its drawn trend section from
the previous version's page when that section's own key did not change (fragments.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from pipelines.publish.attribution import ASSESSMENT, KOLADA, OWN
from pipelines.publish.sharing import Previous, inputs_key
from pipelines.publish.swedish import stockholm_text
from pipelines.report import charts, downloads, fragments, numbers, views
from pipelines.report.load import AREAS, ReportData, load
from pipelines.report.units import comparison_scope, load_units, unit_credits, unit_sections

STATIC_FILES = ("report.css", "report.js")
MARKER = "report.json"  # written last: a folder with it is a complete report


class ReportError(ValueError):
    """A report cannot be rendered as asked (unknown kommun or network)."""


@dataclass(frozen=True)
class RenderResult:
    folder: Path
    index: Path
    municipality_pages: int
    network_pages: int
    files: int
    bytes: int
    seconds: float
    pages_shared: int = 0
    sections_reused: int = 0  # drawn sections taken from the previous version's pages

    def summary(self) -> dict[str, Any]:
        """What the manifest records about the report (the publisher adds the render time)."""
        return {"index": "report/index.html", "municipality_pages": self.municipality_pages,
                "network_pages": self.network_pages, "files": self.files, "bytes": self.bytes,
                "pages_shared": self.pages_shared, "sections_reused": self.sections_reused}


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipelines.report", "templates"),
        autoescape=True,  # every template, whatever its name: data text is always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _site_context(data: ReportData) -> dict[str, Any]:
    m = data.manifest
    attribution = m.get("attribution") or {}
    return {
        "version": m.get("version", ""),
        # Stockholm time with the zone named (CET/CEST); the UTC instants are in the manifest
        "as_of": stockholm_text(str(m.get("as_of", ""))),
        "published_at": stockholm_text(str(m.get("published_at", ""))),
        "synthetic": bool(m.get("synthetic")),
        "synthetic_notice": attribution.get("synthetic_notice", "Syntetiska exempeldata."),
        "kolada": KOLADA, "own": OWN,
        "assessment": ASSESSMENT if data.kommunkompassen is not None else "",
    }


def _css_string(text: str) -> str:
    """`text` as a CSS string literal: quotes, backslashes and markup characters escaped, so
    data text can neither end the string nor the <style> element."""
    safe = "".join(c if c.isalnum() or c in " .,:;()·–-/_" else f"\\{ord(c):x} " for c in text)
    return f'"{safe}"'


def print_header(left: str, right: str) -> dict[str, Any]:
    """The running header of a printed page (CSS margin boxes, on every A4 page), as an inline
    <style> and the CSP hash that allows exactly it (the pages allow no other inline style).
    The footer (credit, "Sida X av Y") is the same on every page: it is in report.css."""
    css = (f"@page{{@top-left{{content:{_css_string(left)}}}"
           f"@top-right{{content:{_css_string(right)}}}}}")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return {"style": Markup(f"<style>{css}</style>"), "hash": f"sha256-{digest}"}


def render(
    publication: Path,
    out: Path,
    *,
    manifest: dict[str, Any] | None = None,
    municipalities: Iterable[str] | None = None,
    networks: Iterable[str] | None = None,
    previous: Previous | None = None,
    previous_prefix: str = "",
) -> RenderResult:
    """Render the site for the publication in `publication` into `out` (created afresh).

    `municipalities` / `networks`: only these pages (the index still lists every kommun, and
    links the rendered ones). Unknown codes or ids raise ReportError before anything is written.
    `previous`: the previous version (the publisher's), whose report is under
    `previous_prefix`; a page with the same inputs key as there is shared, not rendered.
    """
    started = time.perf_counter()
    data = load(publication, manifest)
    known = data.municipality_ids
    wanted = sorted(known) if municipalities is None else sorted(set(municipalities))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ReportError(f"unknown kommun code(s): {', '.join(unknown)} (4 digits, e.g. 1784)")
    nets = data.networks
    if networks is not None:
        ids = set(networks)
        missing = sorted(ids - {n["id"] for n in nets})
        if missing:
            raise ReportError(f"unknown network(s): {', '.join(missing)}; published: "
                              f"{', '.join(n['id'] for n in nets) or 'none'}")
        nets = [n for n in nets if n["id"] in ids]
    out = Path(out)
    if out.exists():
        # only a previous report is replaced: --out pointed at a folder of other files must
        # never delete them
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise ReportError(f"{out} exists and is not a report folder (no {MARKER}); "
                              "choose an empty or new folder")
        shutil.rmtree(out)
    (out / "kommun").mkdir(parents=True)
    (out / "static").mkdir()
    for name in STATIC_FILES:
        (out / "static" / name).write_bytes(
            resources.files("pipelines.report").joinpath("static", name).read_bytes())
    env = environment()
    site = _site_context(data)
    rendered = set(wanted)
    names = {m["municipality_id"]: m["municipality_name"] for m in data.municipalities}
    board_credits = views.credits("mart_kkik_scorecard", [
        (c, h) for c, h in views.BOARD_COLUMNS])
    trend_credits = views.credits("mart_kkik_scorecard", [
        ("value", "kommunens värde"), ("riket_value", "Riket"),
        ("kommungrupp_mean", "kommungruppens medel"), ("liknande_mean", "liknande kommuners medel")])
    legend = views.legend()  # the trend section's series markers, the same on every page
    unit_rows = load_units(publication)  # None: the publication has no unit scorecard
    unit_scope = comparison_scope(unit_rows, len(data.municipalities))
    page = env.get_template("municipality.html")
    by_id = {m["municipality_id"]: m for m in data.municipalities}
    stamp = f"Publicering {site['version']} · data per {site['as_of']}"
    pages = _Pages(out, site, previous, previous_prefix)
    for code in wanted:
        m = by_id[code]
        name = m["municipality_name"]
        view = {
            "m": m, "population": numbers.number(m["population"], 0),
            "years": views.board_years(data, code), "groups": views.comparison_groups(data, code),
            "networks": views.member_networks(data, code),
            "board": views.board(data, code), "board_credits": board_credits,
            "counts": views.colour_counts(data, code),
            "revisions": views.revisions(data, code), "kk": views.kommunkompassen(data, code),
            "qp": views.quality_profile(data, code),
            "units": unit_sections(unit_rows, code), "unit_scope": unit_scope,
            "unit_credits": unit_credits(),
        }
        # The downloads hold the board table alone, so they have their own key: a night that
        # changes only what else the page shows (an assessment, the changes since the last
        # publication) renders the page and shares the downloads.
        board = downloads.board_columns(data, code, name)
        if not pages.shared([f"kommun/{code}.xlsx", f"kommun/{code}.csv"], name, board):
            downloads.write_board_files(data, code, name, out / "kommun", board)
        # the trend section's key stands for its inputs in the page's key (one dump of the
        # trend rows, not two), and names the section when it is drawn (fragments.py)
        trends_key = inputs_key("trends", views.trend_inputs(data, code, name), trend_credits,
                                legend)
        # which version the changes are counted from names the publication, as the stamp
        # does: a page with the same changes and numbers is shared (it names its own previous)
        keyed = {**view, "revisions": view["revisions"] and {
            k: v for k, v in view["revisions"].items() if k != "previous"},
            "trends": trends_key}
        own = f"kommun/{code}.html"
        if pages.shared([own], keyed):
            continue
        view["trends_html"] = pages.fragment(own, "trends", trends_key) or _draw_trends(
            env, data, code, m, trends_key, trend_credits, legend)
        html = page.render(root="../", site=site, patterns=charts.PATTERN_DEFS,
                           print_header=print_header(f"{name} ({code}) · KKiK-rapport", stamp),
                           **view)
        (out / own).write_text(html, encoding="utf-8")
    net_views = [views.network(data, n, names) for n in nets]
    if net_views:
        (out / "natverk").mkdir()
        template = env.get_template("network.html")
        for net in net_views:
            for member in net["members"]:
                member["rendered"] = member["id"] in rendered
            config_net = next(n for n in nets if n["id"] == net["id"])
            stem = f"natverk/{net['slug']}"
            rows = downloads.network_rows(data, config_net, names)
            if not pages.shared([f"{stem}.xlsx", f"{stem}.csv"], net["title"], rows):
                downloads.write_network_files(data, config_net, names, net["slug"],
                                              out / "natverk", rows)
            if pages.shared([f"{stem}.html"], net):
                continue
            (out / "natverk" / f"{net['slug']}.html").write_text(
                template.render(root="../", site=site, net=net,
                                print_header=print_header(f"{net['title']} · KKiK-rapport",
                                                          stamp)),
                encoding="utf-8")
    listed = [{**m, "rendered": m["municipality_id"] in rendered} for m in data.municipalities]
    overview = [{**row, "rendered": row["municipality_id"] in rendered}
                for row in views.overview(data)]
    definitions = views.definitions(data)
    if not pages.shared(["nyckeltal.html"], definitions):
        (out / "nyckeltal.html").write_text(env.get_template("definitions.html").render(
            root="", site=site, definitions=definitions,
            print_header=print_header("Nyckeltalens definitioner · KKiK-rapport", stamp)),
            encoding="utf-8")
    index = out / "index.html"
    index.write_text(env.get_template("index.html").render(
        root="", site=site, print_header=print_header("KKiK-rapport: alla kommuner", stamp),
        municipalities=listed, networks=net_views, overview=overview,
        overview_year=data.overview_year, areas=AREAS), encoding="utf-8")
    files = [p for p in out.rglob("*") if p.is_file()]
    result = RenderResult(
        folder=out, index=index, municipality_pages=len(wanted), network_pages=len(net_views),
        files=len(files) + 1, bytes=sum(p.stat().st_size for p in files),
        seconds=time.perf_counter() - started, pages_shared=pages.count,
        sections_reused=pages.reused)
    # the marker last: its presence says the folder is a complete report
    (out / MARKER).write_text(json.dumps({
        "version": site["version"], "as_of": data.manifest.get("as_of"),
        **result.summary(), "pages": pages.keys}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    return result


def _draw_trends(env: jinja2.Environment, data: ReportData, code: str, m: dict[str, Any],
                 key: str, credits: Any, legend: Any) -> Markup:
    """The kommun's trend section, drawn, between the markers that name its key."""
    axes: dict[str, str] = {}  # the chart axes the section's charts share, defined once
    trends = views.trends(data, code, m["municipality_name"], axes)
    html = env.get_template("_trends.html").render(
        m=m, trends=trends, axis_defs=charts.axis_defs(axes), legend=legend,
        trend_credits=credits)
    return fragments.marked("trends", key, html)


class _Pages:
    """Each page's inputs key, and sharing a page whose key the previous report recorded.

    The key covers what the page shows apart from the publication's id and dates (`site`
    without them), so a page is shared only when every number and text on it is the same.
    """

    _PER_VERSION = ("version", "as_of", "published_at")

    def __init__(self, out: Path, site: dict[str, Any], previous: Previous | None,
                 prefix: str) -> None:
        self.out, self.previous, self.prefix = out, previous, prefix
        self.site = {k: v for k, v in site.items() if k not in self._PER_VERSION}
        before = previous.read_json(f"{prefix}{MARKER}") if previous is not None else None
        self.before: dict[str, str] = (before or {}).get("pages") or {}
        self.keys: dict[str, str] = {}
        self.count = 0
        self.reused = 0

    def shared(self, files: list[str], *inputs: Any) -> bool:
        """Record the key of the files `files` (a page, or a page's downloads) under
        `files[0]`; True when every one of them is now the previous version's file: nothing
        to render. `count`: the pages (HTML) shared."""
        key = inputs_key(files, self.site, *inputs)
        self.keys[files[0]] = key
        if self.previous is None or self.before.get(files[0]) != key:
            return False
        # all of them or none: a group is rendered afresh, never into a shared file
        if not self.previous.take_all([(f"{self.prefix}{rel}", self.out / rel)
                                       for rel in files]):
            return False
        self.count += files[0].endswith(".html")
        return True

    def fragment(self, page: str, name: str, key: str) -> Markup | None:
        """The section `name` drawn from `key`, from the previous version's `page`; None
        when there is none to reuse (fragments.py)."""
        if self.previous is None or self.before.get(page) is None:
            return None
        text = self.previous.read_text(f"{self.prefix}{page}")
        section = None if text is None else fragments.find(text, name, key)
        self.reused += section is not None
        return section
