"""A tiny publication folder, written by hand, for rendering the report without a pipeline run.

Only the columns the report reads; values chosen per test (hostile text, missing values, a
single year). The real sample publication is exercised by tests/test_report_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

HOSTILE = '<script>alert(1)</script> & "citat" \'x\''

MANIFEST = {
    "version": "v20260101T000000Z", "published_at": "2026-01-01T00:00:00+00:00",
    "as_of": "2025-12-31T23:00:00+00:00", "previous_version": None, "synthetic": True,
    "attribution": {"synthetic_notice": "Syntetiska exempeldata (test)."},
}


def _write(folder: Path, mart: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"{mart}.parquet")


S, I, F, B = pa.string(), pa.int32(), pa.float64(), pa.bool_()

SCORECARD = pa.schema([
    ("municipality_id", S), ("municipality_name", S), ("kpi_id", S), ("kpi_title", S),
    ("kkik_area", S), ("unit", S), ("direction", S), ("year", I), ("value", F),
    ("value_y1", F), ("value_y2", F), ("rank", I), ("ranked_count", I), ("colour", S), ("change", S),
    ("y1_across_series_break", B), ("riket_value", F), ("kommungrupp_mean", F),
    ("liknande_mean", F)])


def scorecard_row(municipality: str, kpi: str, year: int, value: float | None, **kw: Any
                  ) -> dict[str, Any]:
    row = {"municipality_id": municipality, "municipality_name": "x", "kpi_id": kpi,
           "kpi_title": kw.pop("title", f"Titel {kpi}"), "kkik_area": kw.pop("area",
                                                                              "Barn och unga"),
           "unit": "andel (%)", "direction": "higher_better", "year": year, "value": value,
           "value_y1": None, "value_y2": None, "rank": 1 if value is not None else None,
           "ranked_count": 2, "colour": "green" if value is not None else "grey",
           "change": "Ingen", "y1_across_series_break": False, "riket_value": 50.0,
           "kommungrupp_mean": 51.25, "liknande_mean": None}
    row.update(kw)
    return row


def write_publication(folder: Path, *, scorecard: list[dict[str, Any]],
                      kpi_titles: dict[str, str], names: dict[str, str],
                      networks: list[tuple[str, str, list[str]]] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, "dim_municipality", [
        {"municipality_id": code, "municipality_name": name, "municipality_type": "K",
         "is_riket": False, "county_name": "Län", "kommungrupp_name": None,
         "population": 12345.0} for code, name in names.items()], pa.schema([
        ("municipality_id", S), ("municipality_name", S), ("municipality_type", S),
        ("is_riket", B), ("county_name", S), ("kommungrupp_name", S), ("population", F)]))
    _write(folder, "dim_kpi", [
        {"kpi_id": k, "title": t, "description": f"Beskrivning av {t}.", "unit": "andel (%)",
         "kkik_area": "Barn och unga", "direction": "higher_better", "decimals": 1,
         "is_divided_by_gender": False} for k, t in kpi_titles.items()],
        pa.schema([("kpi_id", S), ("title", S), ("description", S), ("unit", S),
                   ("kkik_area", S), ("direction", S), ("decimals", I),
                   ("is_divided_by_gender", B)]))
    _write(folder, "mart_kkik_scorecard", scorecard, SCORECARD)
    latest: dict[str, int] = {}
    for r in scorecard:
        latest[r["kpi_id"]] = max(latest.get(r["kpi_id"], 0), r["year"])
    _write(folder, "mart_kkik_board", [
        {"municipality_id": r["municipality_id"], "kpi_id": r["kpi_id"], "year": r["year"],
         "liknande_names": r.get("liknande_names"), "liknande_set_name": "Liknande kommuner",
         "kommungrupp_name": None}
        for r in scorecard if r["year"] == latest[r["kpi_id"]]],
        pa.schema([("municipality_id", S), ("kpi_id", S), ("year", I), ("liknande_names", S),
                   ("liknande_set_name", S), ("kommungrupp_name", S)]))
    counts = {}
    for r in scorecard:
        key = (r["municipality_id"], r["year"], r["kkik_area"])
        c = counts.setdefault(key, {"municipality_id": key[0], "year": key[1],
                                    "kkik_area": key[2], "green": 0, "yellow": 0, "red": 0,
                                    "grey": 0, "not_ranked": 0, "kpis": 0})
        c[r["colour"] or "not_ranked"] += 1
        c["kpis"] += 1
    _write(folder, "mart_kkik_colour_counts", list(counts.values()), pa.schema([
        ("municipality_id", S), ("year", I), ("kkik_area", S), ("green", I), ("yellow", I),
        ("red", I), ("grey", I), ("not_ranked", I), ("kpis", I)]))
    peer_rows = [
        {"municipality_id": m, "kpi_id": r["kpi_id"], "year": r["year"],
         "peer_set_type": "network", "peer_set_id": net_id, "peer_set_name": title,
         "peer_mean": 42.0}
        for net_id, title, members in networks for m in members
        for r in scorecard if r["municipality_id"] == m]
    _write(folder, "mart_kkik_peer_values", peer_rows, pa.schema([
        ("municipality_id", S), ("kpi_id", S), ("year", I), ("peer_set_type", S),
        ("peer_set_id", S), ("peer_set_name", S), ("peer_mean", F)]))
    (folder / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    return folder
