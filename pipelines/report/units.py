"""The kommun page's unit sections (issue 30): one per kind of unit (grundskolor, förskolor,
särskilda boenden, ...), from the publication's mart_unit_scorecard.

Kept apart from load.py and views.py: it reads its own mart, and a publication without it
(an older one, or a scope without units) simply has no unit sections. Per kind and KPI: each
unit of the kommun at the KPI's latest year for that kind, with its colour among all units of
the kind the publication holds (nationally only when its unit scope is: the section says how
many kommuner's units were compared), its rank there and in the kommun, Förändring and a small trend line; a
unit with no comparable value says so (grey, or "inget värde") instead of disappearing.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
from markupsafe import Markup, escape

from pipelines.report import numbers
from pipelines.report.views import change_badge, colour_badge, credits

MART = "mart_unit_scorecard"
SHOWN_COLUMNS = (("value", "Utfall"), ("kommun_value", "Kommunens värde"),
                 ("riket_value", "Riket"), ("rank", "Rang bland enheter"),
                 ("colour", "Färg"), ("kommun_rank", "Rang i kommunen"), ("change", "Förändring"))


def load_units(folder: Path) -> dict[str, list[dict[str, Any]]] | None:
    """municipality -> its units' scorecard rows (with the KPI's title and decimals), or None
    when the publication carries no unit scorecard."""
    path = Path(folder) / f"{MART}.parquet"
    if not path.is_file():
        return None
    kpi_path = Path(folder) / "dim_kpi.parquet"
    quoted = str(path).replace("'", "''")
    kpi_quoted = str(kpi_path).replace("'", "''")
    titles = (f"left join read_parquet('{kpi_quoted}') k using (kpi_id)" if kpi_path.is_file()
              else "left join (select null::varchar as kpi_id, null::varchar as title, "
                   "null::integer as decimals) k using (kpi_id)")
    with duckdb.connect() as con:
        cur = con.execute(f"""
            select s.*, coalesce(k.title, s.kpi_id) as kpi_title, k.decimals
            from read_parquet('{quoted}') s {titles}
            order by s.municipality_id, s.unit_kind, s.kpi_id, s.ou_name, s.ou_id, s.year""")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["municipality_id"]].append(row)
    return dict(out)


def sparkline(points: list[tuple[int, float]], label: str) -> Markup:
    """A small inline SVG line of a unit's values over the years, with its numbers as the
    title (never the only carrier of the numbers: the table beside it has the latest)."""
    described = ", ".join(f"{y}: {numbers.number(v)}" for y, v in points)
    title = escape(f"{label}: {described}" if points else f"{label}: inga värden")
    if len(points) < 2:
        return Markup(f'<svg class="spark" role="img" width="80" height="20" viewBox="0 0 80 20">'
                      f"<title>{title}</title></svg>")
    years = [y for y, _ in points]
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    span_y = (hi - lo) or 1.0
    span_x = (max(years) - min(years)) or 1
    xy = [(2 + 76 * (y - min(years)) / span_x, 18 - 16 * (v - lo) / span_y) for y, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    return Markup(
        f'<svg class="spark" role="img" width="80" height="20" viewBox="0 0 80 20">'
        f"<title>{title}</title>"
        f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2" fill="currentColor"/></svg>')


def comparison_scope(units: dict[str, list[dict[str, Any]]] | None, kommuner: int | None
                     ) -> dict[str, Any] | None:
    """How wide "all units of the kind" is, from the data: the kommuner the publication has
    units of against the country's kommuner. A unit scope of some kommuner (the sample's:
    Värmland's) ranks a school among those kommuner's schools only, and the page must say so."""
    if units is None:
        return None
    with_units = sum(1 for rows in units.values() if rows)
    national = kommuner is None or with_units >= kommuner
    return {"national": national, "kommuner": with_units, "of": kommuner}


def unit_sections(units: dict[str, list[dict[str, Any]]] | None, code: str
                  ) -> list[dict[str, Any]] | None:
    """The kommun's unit sections, one per kind (kind order by code), or None when the
    publication has no unit data at all; [] when the kommun has no units in it."""
    if units is None:
        return None
    rows = units.get(code, [])
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["unit_kind"]].append(row)
    sections = []
    for kind in sorted(by_kind):
        kind_rows = by_kind[kind]
        by_kpi: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in kind_rows:
            by_kpi[row["kpi_id"]].append(row)
        tables = [_kpi_table(kpi, kpi_rows) for kpi, kpi_rows in sorted(by_kpi.items())]
        sections.append({
            "kind": kind, "name": kind_rows[0]["kind_plural"],
            "slug": f"enheter-{kind.lower()}", "units": len({r["ou_id"] for r in kind_rows}),
            "tables": tables,
        })
    return sections



def _kpi_table(kpi: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One KPI's table: every unit of the kommun that has ever had a row for it, at the
    latest year any of them has; a unit without that year shows "inget värde"."""
    latest = max(r["year"] for r in rows)
    first = rows[0]
    decimals = first["decimals"]
    by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_unit[row["ou_id"]].append(row)
    at_latest = [r for r in rows if r["year"] == latest]
    reference = at_latest[0] if at_latest else first
    out_rows = []
    for ou_id, series in by_unit.items():
        row = next((r for r in series if r["year"] == latest), None)
        points = [(r["year"], r["value"]) for r in series if r["value"] is not None]
        name = series[-1]["ou_name"]
        closed = not series[-1]["is_open"]
        entry = {
            "ou_id": ou_id, "name": name, "closed": closed,
            "spark": sparkline(points, name),
            "comparable": row is not None and row["rank"] is not None,
        }
        if row is None:
            entry.update(value=numbers.MISSING, colour=Markup(
                f'<span class="c c-grey" title="Inget värde för {latest}">'
                f'inget värde {latest}</span>'),  # the ○ is drawn by report.css
                rank="", kommun_rank="", change=Markup(""), sort=(2, 0))
        else:
            grey = row["colour"] == "grey"
            entry.update(
                value=numbers.number(row["value"], decimals),
                colour=(Markup('<span class="c c-grey" title="Grå: för få enheter att jämföra '
                               'med, eller inget värde">Grå (ej jämförbar)</span>')
                        if grey else colour_badge(row["colour"])),
                rank=(f"{row['rank']} av {row['ranked_count']}" if row["rank"] is not None
                      else ""),
                kommun_rank=(f"{row['kommun_rank']} av {row['kommun_ranked_count']}"
                             if row["kommun_rank"] is not None else ""),
                change=change_badge(row["change"]),
                sort=(0 if row["rank"] is not None else 1, row["rank"] or 0))
        out_rows.append(entry)
    out_rows.sort(key=lambda e: (e["sort"], e["name"]))
    return {
        "kpi_id": kpi, "title": first["kpi_title"], "year": latest,
        "table_id": f"unit-{kpi}-{first['unit_kind']}".lower(),
        "kommun_value": numbers.number(reference["kommun_value"], decimals),
        "riket_value": numbers.number(reference["riket_value"], decimals),
        "ranked_count": reference["ranked_count"],
        # across how many kommuner's units the latest year was ranked (None: not ranked, or a
        # publication from before the mart said)
        "ranked_kommuner": max((r.get("ranked_kommuner") or 0 for r in at_latest), default=0)
        or None,
        "rows": out_rows,
    }


def unit_credits() -> dict[str, list[str]]:
    return credits(MART, SHOWN_COLUMNS)
