"""What each page shows, as plain values: the step between the loaded marts and the templates.

Pure functions from `ReportData` to dicts of already formatted text and chart markup, so the
templates stay loops and the numbers can be unit-tested without a browser. Numbers are
formatted here (pipelines.report.numbers) at the KPI's published precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

from pipelines.publish.attribution import KOLADA, OWN, column_credit
from pipelines.publish.presentation import labels_sv
from pipelines.publish.swedish import sv_sorted
from pipelines.report import charts, numbers
from pipelines.report.load import AREAS, ReportData

COLOURS = {  # colour -> (short label, symbol, what it means); the symbol is the non-colour cue
    "green": ("Grön", "▲", "bästa 25 %"),
    "yellow": ("Gul", "◆", "mellersta 50 %"),
    "red": ("Röd", "▼", "sämsta 25 %"),
    "grey": ("Grå", "○", "värde saknas"),
}
CHANGES = {"Upp": "↑", "Ned": "↓", "Lika": "→", "Ingen": "–"}  # drawn by report.css
SERIES_LABELS = {"kommun": None, "riket": "Riket", "kommungrupp": "Kommungrupp (medel)",
                 "liknande": "Liknande kommuner (medel)"}
SERIES_COLUMNS = {"kommun": "value", "riket": "riket_value", "kommungrupp": "kommungrupp_mean",
                  "liknande": "liknande_mean"}


def _label(column: str, code: str | None) -> str:
    """The Swedish label the Excel files use (labels_sv.yaml): one wording everywhere."""
    if code is None:
        return ""
    return (labels_sv().columns.get(column) or {}).get(code, code)


def slug(text: str) -> str:
    """A file name for an id from the config (network ids are free text)."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "natverk"


# A badge is its class and its word: the symbol (COLOURS) and the arrow (CHANGES), the cues
# that do not rely on colour, are drawn by report.css (`td .c-green::before`), said once in
# the shared stylesheet rather than in each of the ~100 badges of each of 290 pages; the
# legend above the table says what each means.
def colour_badge(colour: str | None) -> Markup:
    if colour is None:
        return Markup('<span class="c c-none">ej rangordnat</span>')
    name, _symbol, _meaning = COLOURS[colour]
    return Markup(f'<span class="c c-{colour}">{name}</span>')


def change_badge(change: str | None) -> Markup:
    if change is None:
        return Markup("")
    return Markup(f'<span class="ch ch-{change.lower()}">{change}</span>')


def credits(mart: str, columns: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Credit line -> the shown headers it covers, from the contract's credit classes."""
    out: dict[str, list[str]] = {KOLADA: [], OWN: []}
    for column, header in columns:
        out.setdefault(column_credit(mart, column), []).append(header)
    return {k: v for k, v in out.items() if k and v}


BOARD_COLUMNS = (("value_y2", "Utfall år −2"), ("value_y1", "Utfall år −1"),
                 ("value", "Utfall"), ("riket_value", "Riket"), ("rank", "Rang"),
                 ("colour", "Färg"), ("change", "Förändring"),
                 ("kommungrupp_mean", "Kommungrupp"), ("liknande_mean", "Liknande kommuner"))


def _areas(rows: list[dict[str, Any]]) -> list[str]:
    found = {r["kkik_area"] for r in rows}
    return [a for a in AREAS if a in found] + sorted(found - set(AREAS))


def board(data: ReportData, municipality: str) -> list[dict[str, Any]]:
    """The KKiK board table grouped by area: the scorecard's row at each KPI's latest year."""
    rows = data.board.get(municipality, [])
    nets = member_networks(data, municipality)
    out = []
    for area in _areas(rows):
        items = []
        for r in (r for r in rows if r["kkik_area"] == area):
            d = (data.kpis.get(r["kpi_id"]) or {}).get("decimals")
            items.append({
                "kpi_id": r["kpi_id"], "title": r["kpi_title"], "unit": r["unit"],
                "year": r["year"],
                "y2": numbers.number(r["value_y2"], d),
                "y1": numbers.number(r["value_y1"], d),
                "value": numbers.number(r["value"], d),
                "riket": numbers.number(r["riket_value"], d),
                "rank": (f"{r['rank']} av {r['ranked_count']}" if r["rank"] is not None
                         else numbers.MISSING),
                "colour": colour_badge(r["colour"]),
                "colour_code": r["colour"] or "none",
                "change": change_badge(r["change"]),
                "series_break": bool(r["y1_across_series_break"]),
                # women and men side by side where Kolada divides the KPI by gender
                "genders": (numbers.number(r.get("women"), d), numbers.number(r.get("men"), d))
                if r.get("by_gender") else None,
                "kommungrupp": numbers.number(r["kommungrupp_mean"], d),
                "liknande": numbers.number(r["liknande_mean"], d),
                "networks": [numbers.number(n["means"].get(r["kpi_id"]), d) for n in nets],
            })
        counts = {c: sum(1 for r in rows if r["kkik_area"] == area and r["colour"] == c)
                  for c in COLOURS}
        out.append({"area": area, "rows": items, "counts": counts})
    return out


def member_networks(data: ReportData, municipality: str) -> list[dict[str, Any]]:
    """The configured networks the kommun belongs to (id, title, slug, KPI means at the
    board's year): each is one more comparison on its board."""
    return [{**n, "slug": slug(n["id"])} for n in data.networks
            if municipality in n["members"]]


def board_years(data: ReportData, municipality: str) -> list[int] | None:
    """[Y-2, Y-1, Y] when every KPI on the board has the same latest year Y (the headers then
    name the years, as a municipal KKiK table does); None when the years differ."""
    years = {r["year"] for r in data.board.get(municipality, [])}
    if len(years) != 1:
        return None
    year = years.pop()
    return [year - 2, year - 1, year]


def comparison_groups(data: ReportData, municipality: str) -> dict[str, Any]:
    """Who the board's comparison columns are: the kommungrupp and the liknande kommuner,
    the names in Swedish order (the mart lists them by code point: "Älmhult, Ånge")."""
    rows = data.board.get(municipality, [])
    first = next((r for r in rows if r.get("liknande_names")), rows[0] if rows else {})
    names = [n.strip() for n in (first.get("liknande_names") or "").split(",") if n.strip()]
    return {"kommungrupp": first.get("kommungrupp_name"),
            "liknande_set": first.get("liknande_set_name"),
            "liknande": sv_sorted(names)}


# Kolada's own page for a KPI: its free search with the KPI chosen. A link for the reader to
# follow, never fetched by the report (the pages stay offline; the CSP blocks requests).
KOLADA_KPI_URL = "https://www.kolada.se/verktyg/fri-sokning/?kpis={kpi_id}"


def definitions(data: ReportData) -> list[dict[str, Any]]:
    """Every KKiK KPI on the board with Kolada's description, unit, direction and a link to
    it on Kolada's site, by area and title (the shared page nyckeltal.html)."""
    on_board = {r["kpi_id"] for rows in data.board.values() for r in rows}
    kpis = [k for k in data.kpis.values() if k["kpi_id"] in on_board]
    out = []
    for area in _areas([{"kkik_area": k["kkik_area"]} for k in kpis]):
        items = sv_sorted([k for k in kpis if k["kkik_area"] == area],
                          key=lambda k: k["title"] or "")
        out.append({"area": area, "kpis": [{
            "kpi_id": k["kpi_id"], "title": k["title"] or k["kpi_id"],
            "description": k.get("description") or "", "unit": k.get("unit") or "",
            "direction": _label("direction", k.get("direction")),
            "gender": bool(k.get("is_divided_by_gender")),
            "url": KOLADA_KPI_URL.format(kpi_id=k["kpi_id"]),
        } for k in items]})
    return out


def legend() -> list[dict[str, Any]]:
    return [{"label": SERIES_LABELS[k] or "Kommunen", "marker": charts.legend_marker(k)}
            for k in charts.SERIES_STYLE]


def trend_inputs(data: ReportData, municipality: str, name: str) -> dict[str, Any]:
    """Everything trends() draws the kommun's charts from: a page's sharing key holds this
    instead of the drawn charts, so a page that is shared is never drawn (the charts are most
    of a page's time; the code that draws them is in the key through the writer's
    fingerprint)."""
    rows = data.board.get(municipality, [])
    by_kpi = data.trends.get(municipality, {})
    return {
        "name": name,
        "rows": [(r["kkik_area"], r["kpi_id"], r["kpi_title"], r["unit"]) for r in rows],
        # of each year's row only what trends() draws: the year and the series' values
        "history": {r["kpi_id"]: [(h["year"], *(h[c] for c in SERIES_COLUMNS.values()))
                                  for h in by_kpi.get(r["kpi_id"], [])] for r in rows},
        "decimals": {r["kpi_id"]: (data.kpis.get(r["kpi_id"]) or {}).get("decimals")
                     for r in rows},
    }


def trends(data: ReportData, municipality: str, name: str,
           axes: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Per area, one small multiple per KPI (kommun, Riket, kommungrupp, liknande) + table.
    `axes`: the page's shared chart axes (charts.trend_chart), filled here."""
    by_kpi = data.trends.get(municipality, {})
    rows = data.board.get(municipality, [])
    out = []
    for area in _areas(rows):
        charts_out = []
        for r in (r for r in rows if r["kkik_area"] == area):
            kpi = r["kpi_id"]
            history = by_kpi.get(kpi, [])
            years = [h["year"] for h in history]
            d = (data.kpis.get(kpi) or {}).get("decimals")
            series = []
            table = []
            for key in charts.SERIES_STYLE:
                values = [h[SERIES_COLUMNS[key]] for h in history]
                label = SERIES_LABELS[key] or name
                series.append(charts.Series(key, label, values))
                table.append({"label": label, "cells": [numbers.number(v, d) for v in values]})
            table_id = f"t-{kpi}"
            charts_out.append({
                "kpi_id": kpi, "title": r["kpi_title"], "years": years, "table": table,
                "table_id": table_id,
                "svg": charts.trend_chart(r["kpi_title"], years, series, decimals=d,
                                          table_id=table_id, unit=r["unit"] or "",
                                          axes=axes, label_id=f"c-{kpi}"),
            })
        out.append({"area": area, "charts": charts_out})
    return out


def colour_counts(data: ReportData, municipality: str) -> list[dict[str, Any]]:
    rows = data.colour_counts.get(municipality, [])
    out = []
    for area in _areas(rows):
        mine = [r for r in rows if r["kkik_area"] == area]
        table_id = f"cc-{slug(area)}"
        out.append({"area": area, "rows": mine, "table_id": table_id,
                    "svg": charts.colour_count_chart(f"Färger per år, {area}", mine,
                                                     table_id=table_id)})
    return out


def revisions(data: ReportData, municipality: str) -> dict[str, Any] | None:
    if data.revisions is None:
        return None
    counts = (data.revision_counts or {}).get(municipality, {})
    rows = [_revision_row(r) for r in data.revisions.get(municipality, [])]
    ranks = [{
        "title": r["kpi_title"], "year": r["year"], "cause": _label("cause", r["cause"]),
        "old_rank": numbers.integer(r["old_rank"]), "new_rank": numbers.integer(r["new_rank"]),
        "old_colour": colour_badge(r["old_colour"]) if r["old_colour"] else numbers.MISSING,
        "new_colour": colour_badge(r["new_colour"]) if r["new_colour"] else numbers.MISSING,
    } for r in (data.rank_changes or {}).get(municipality, [])]
    shown = sum(counts.get(k, 0) for k in LISTED_CHANGES)
    return {
        "first": data.manifest.get("previous_version") is None,
        "previous": data.manifest.get("previous_version"),
        "counts": [(_label("change_type", k), numbers.integer(v)) for k, v in counts.items()],
        "rows": rows, "more": max(shown - len(rows), 0), "ranks": ranks,
        "units": any(r["unit"] for r in rows),
    }


# The change types the report lists row by row (the added ones are only counted).
LISTED_CHANGES = ("value_revised", "value_deleted", "unit_value_revised", "unit_value_deleted",
                  "unit_renamed", "unit_closed")


def _revision_row(r: dict[str, Any]) -> dict[str, Any]:
    """A listed change: a value's (a kommun's or one of its units') old and new value, or a
    unit's old and new name when the unit itself was renamed or closed."""
    own = r["change_type"] in ("unit_renamed", "unit_closed")
    return {
        "type": _label("change_type", r["change_type"]),
        "kpi_id": r["kpi_id"],
        "title": numbers.MISSING if own else (r["kpi_title"] or r["kpi_id"]),
        "unit": r.get("ou_name") or "",
        "period": "" if r["period"] is None else r["period"], "gender": r["gender"] or "",
        "old": (r["old_title"] or numbers.MISSING) if own
        else numbers.number(r["old_value"], r["decimals"]),
        "new": (r["new_title"] or numbers.MISSING) if own
        else numbers.number(r["new_value"], r["decimals"]),
    }


def kommunkompassen(data: ReportData, municipality: str) -> dict[str, Any] | None:
    if data.kommunkompassen is None:
        return None
    rows = data.kommunkompassen.get(municipality, [])
    if not rows:
        return {"assessments": []}
    assessments = []
    for key in dict.fromkeys((r["assessment_year"], r["version"]) for r in rows):
        areas = [r for r in rows if (r["assessment_year"], r["version"]) == key]
        table_id = f"kk-{key[0]}-{key[1]}"
        assessments.append({
            "year": key[0], "version": key[1], "table_id": table_id,
            "previous": areas[0]["previous_assessment_year"],
            "cross_version": any(a["cross_version"] for a in areas),
            "areas": [{
                "number": a["area_number"], "label": a["area_label_published"],
                "score": numbers.number(a["score"], 0),
                "benchmark": numbers.number(a["benchmark"], 1),
                "diff": numbers.number(a["score_minus_benchmark"], 1, signed=True),
                "change": numbers.number(a["score_change"], 0, signed=True),
            } for a in areas],
            # the total as published when the file gave one (published totals do not always
            # equal the sum of the areas), else the sum when all 8 areas are there
            "total": numbers.number(_total(areas), 0),
            "svg": charts.bar_chart(
                f"Kommunkompassen {key[0]}: poäng per område mot Sverigesnitt",
                [(f"{a['area_number']}. {a['area_label_published']}", a["score"], a["benchmark"])
                 for a in areas], maximum=100, table_id=table_id,
                reference_label="Sverigesnitt"),
        })
    return {"assessments": assessments}


def _total(areas: list[dict[str, Any]]) -> float | None:
    stated = areas[0]["total_stated"]
    if stated is not None:
        return stated
    scores = [a["score"] for a in areas if a["score"] is not None]
    return sum(scores) if len(scores) == 8 else None


PROFILE_DIMENSIONS = (("results", "Resultat (KKiK)"), ("economy", "Ekonomi"),
                      ("employer", "Arbetsgivare"), ("development", "Utveckling"),
                      ("composite", "Sammanvägd"))


def quality_profile(data: ReportData, municipality: str) -> dict[str, Any] | None:
    if data.quality_profile is None:
        return None
    row = data.quality_profile.get(municipality)
    if row is None:
        return {"row": None}
    dims = []
    for key, label in PROFILE_DIMENSIONS:
        rank = row.get("profile_rank" if key == "composite" else f"{key}_rank")
        dims.append({"label": label, "score": numbers.number(row.get(f"{key}_score"), 1),
                     "rank": numbers.integer(rank), "raw": row.get(f"{key}_score")})
    return {
        "row": row, "year": row["year"], "dims": dims, "table_id": "qp-table",
        "rank": numbers.integer(row["profile_rank"]),
        "ranked": numbers.integer(row["profile_ranked_count"]),
        "svg": charts.bar_chart("Kvalitetsprofil: poäng per dimension (0–100)",
                                [(d["label"], d["raw"], None) for d in dims], maximum=100,
                                table_id="qp-table"),
    }


def overview(data: ReportData) -> list[dict[str, Any]]:
    """All kommuner's colour counts per area in the latest year (the index's national table)."""
    year = data.overview_year
    out = []
    for m in data.municipalities:
        rows = {r["kkik_area"]: r for r in data.colour_counts.get(m["municipality_id"], [])
                if r["year"] == year}
        cells = []
        for area in AREAS:
            r = rows.get(area)
            cells.append([r[c] if r else None for c in ("green", "yellow", "red")])
        out.append({**m, "cells": cells,
                    "green": sum(c[0] or 0 for c in cells), "red": sum(c[2] or 0 for c in cells)})
    return out


def network(data: ReportData, net: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Members side by side per KPI at the board's year, each value with its colour."""
    members = list(net["members"])
    by_member = {m: {r["kpi_id"]: r for r in data.board.get(m, [])} for m in members}
    first = data.board.get(members[0], []) if members else []
    areas = []
    for area in _areas(first):
        rows = []
        for r in (r for r in first if r["kkik_area"] == area):
            d = (data.kpis.get(r["kpi_id"]) or {}).get("decimals")
            cells = []
            for m in members:
                own = by_member[m].get(r["kpi_id"])
                cells.append({"value": numbers.number(own["value"] if own else None, d),
                              "colour": colour_badge(own["colour"]) if own else Markup(""),
                              "colour_code": (own["colour"] or "none") if own else "none"})
            rows.append({"kpi_id": r["kpi_id"], "title": r["kpi_title"], "year": r["year"],
                         "cells": cells, "riket": numbers.number(r["riket_value"], d),
                         "mean": numbers.number(net["means"].get(r["kpi_id"]), d)})
        areas.append({"area": area, "rows": rows})
    return {"id": net["id"], "slug": slug(net["id"]), "title": net["title"],
            "members": [{"id": m, "name": names.get(m, m)} for m in members], "areas": areas}
