"""Each page's table as files beside it: a kommun's board as `kommun/<code>.xlsx` and
`<code>.csv`, a network's table as `natverk/<slug>.xlsx` and `<slug>.csv`.

Written when the report is rendered (inside the publication, at publish time), linked with a
relative href, so the site stays offline and a download always holds the page's numbers. Both
are written by the publication's own Excel writers (pipelines.publish.xlsx and excel_csv):
the xlsx has codes as text, values as numbers at the KPI's precision, fitted columns, Swedish
headers and a Källor sheet; the CSV is Swedish-Excel CSV for programs (the page says to open
the xlsx in Excel, which keeps `0114` as text). Swedish only, as every file a person opens:
labels, never the marts' English codes.

A network's file has one row per member and KPI (the page shows the members side by side):
the same numbers, in the shape a filter or a pivot table reads, with the kommun code as a
column of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.publish.attribution import KOLADA, OWN, TERMS_SV
from pipelines.publish.excel_csv import write_excel_csv
from pipelines.publish.presentation import ExcelColumn, denoise, labels_sv
from pipelines.publish.swedish import stockholm_text
from pipelines.publish.xlsx import write_xlsx
from pipelines.report.load import AREAS, ReportData

# (key in the board row, Swedish header, kind); `kpi` numbers take the KPI's decimals
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("municipality_id", "Kommunkod", "text"),
    ("municipality_name", "Kommun", "text"),
    ("kkik_area", "Område", "text"),
    ("kpi_id", "Nyckeltal id", "text"),
    ("kpi_title", "Mått", "text"),
    ("unit", "Enhet", "text"),
    ("year", "År", "int"),
    ("value_y2", "Utfall år −2", "kpi"),
    ("value_y1", "Utfall år −1", "kpi"),
    ("value", "Utfall", "kpi"),
    ("women", "Utfall kvinnor", "kpi"),
    ("men", "Utfall män", "kpi"),
    ("rank", "Rang", "int"),
    ("ranked_count", "Antal rangordnade", "int"),
    ("colour", "Färg", "colour"),
    ("change", "Förändring", "text"),
    ("riket_value", "Riket", "kpi"),
    ("kommungrupp_mean", "Kommungrupp (medel)", "kpi"),
    ("liknande_mean", "Liknande kommuner (medel)", "kpi"),
)
OWN_COLUMNS = ("Rang", "Antal rangordnade", "Färg", "Förändring", "Kommungrupp (medel)",
               "Liknande kommuner (medel)")
KOLADA_COLUMNS = ("Mått", "Enhet", "Utfall år −2", "Utfall år −1", "Utfall", "Utfall kvinnor",
                  "Utfall män", "Riket")


# the network's table, one row per member and KPI
NETWORK_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("network", "Nätverk", "text"),
    ("municipality_id", "Kommunkod", "text"),
    ("municipality_name", "Kommun", "text"),
    ("kkik_area", "Område", "text"),
    ("kpi_id", "Nyckeltal id", "text"),
    ("kpi_title", "Mått", "text"),
    ("unit", "Enhet", "text"),
    ("year", "År", "int"),
    ("value", "Utfall", "kpi"),
    ("colour", "Färg", "colour"),
    ("network_mean", "Nätverkets medel", "kpi"),
    ("riket_value", "Riket", "kpi"),
)
NETWORK_OWN = ("Färg", "Nätverkets medel")
NETWORK_KOLADA = ("Mått", "Enhet", "Utfall", "Riket")


def board_columns(data: ReportData, code: str, name: str) -> list[ExcelColumn]:
    """The kommun's board rows (the page's table) as Excel columns."""
    rows = [{**r, "municipality_id": code, "municipality_name": name}
            for r in data.board.get(code, [])]
    return _columns(data, rows, COLUMNS)


def network_rows(data: ReportData, net: dict[str, Any], names: dict[str, str]) -> list[dict]:
    """The network page's table as rows: per KPI of the first member's board (the page's row
    order: area, then the board's order), each member's row at that KPI's year."""
    members = list(net["members"])
    if not members:
        return []
    by_member = {m: {r["kpi_id"]: r for r in data.board.get(m, [])} for m in members}
    first = data.board.get(members[0], [])
    areas = [a for a in AREAS if any(r["kkik_area"] == a for r in first)]
    areas += sorted({r["kkik_area"] for r in first} - set(areas))
    out = []
    for area in areas:
        for kpi in (r for r in first if r["kkik_area"] == area):
            for m in members:
                own = by_member[m].get(kpi["kpi_id"]) or {}
                out.append({
                    "network": net["title"], "municipality_id": m,
                    "municipality_name": names.get(m, m), "kkik_area": area,
                    "kpi_id": kpi["kpi_id"], "kpi_title": kpi["kpi_title"],
                    "unit": kpi.get("unit"), "year": kpi["year"], "value": own.get("value"),
                    # a member without the KPI's row has no value: grey where the KPI is
                    # ranked (a colour on the first member's row), else not ranked
                    "colour": own.get("colour") if own else
                    ("grey" if kpi.get("colour") else None),
                    "network_mean": net["means"].get(kpi["kpi_id"]),
                    "riket_value": kpi.get("riket_value"),
                })
    return out


def _columns(data: ReportData, rows: list[dict[str, Any]],
             spec: tuple[tuple[str, str, str], ...]) -> list[ExcelColumn]:
    decimals = [(data.kpis.get(r["kpi_id"]) or {}).get("decimals") for r in rows]
    colours = labels_sv().columns.get("colour") or {}
    out = []
    for key, header, kind in spec:
        values: list[Any] = [r.get(key) for r in rows]
        if kind == "colour":
            values = [colours.get(v, v) if v else "Rangordnas inte" for v in values]
        if kind == "kpi":
            out.append(ExcelColumn(key, header, "number", values, list(decimals)))
        elif kind == "int":
            out.append(ExcelColumn(key, header, "number", values, [0] * len(rows)))
        else:
            out.append(ExcelColumn(key, header, "text", values))
    return out


def sources(manifest: dict[str, Any], name: str, *, table: str | None = None,
            kolada: tuple[str, ...] = KOLADA_COLUMNS,
            own: tuple[str, ...] = OWN_COLUMNS) -> dict[str, str]:
    lines = {
        "Tabell": table or f"KKiK-tabell för {name}: varje nyckeltal för sitt senaste år",
        "Publicering": str(manifest.get("version", "")),
        "Data per": stockholm_text(str(manifest.get("as_of", ""))),
        KOLADA: f"{TERMS_SV['kolada']} Kolumner: {', '.join(kolada)}.",
        OWN: f"{TERMS_SV['own_processing']} Kolumner: {', '.join(own)}.",
    }
    notice = (manifest.get("attribution") or {}).get("synthetic_notice")
    if notice:
        lines["Obs"] = notice
    return lines


def _rounded(column: ExcelColumn) -> pa.Array:
    """Numbers rounded to their decimals, so the CSV shows what the page shows."""
    if column.kind != "number":
        return pa.array([None if v is None else str(v) for v in column.values], pa.string())
    values = [None if v is None else denoise(float(v)) if d is None
              else round(float(v), d) if d > 0 else round(float(v))
              for v, d in zip(column.values, column.decimals or [None] * len(column.values))]
    if all(v is None or isinstance(v, int) for v in values):
        return pa.array(values, pa.int64())
    return pa.array([None if v is None else float(v) for v in values], pa.float64())


def _write_pair(columns: list[ExcelColumn], stem: Path, lines: dict[str, str],
                title: str) -> list[Path]:
    xlsx = write_xlsx(columns, stem.with_suffix(".xlsx"), lines, title)
    table = pa.table({c.name: _rounded(c) for c in columns})
    csv = stem.with_suffix(".csv")
    write_excel_csv(table, csv, [c.header for c in columns])
    return [xlsx, csv]


def write_board_files(data: ReportData, code: str, name: str, folder: Path,
                      columns: list[ExcelColumn] | None = None) -> list[Path]:
    """`<code>.xlsx` and `<code>.csv` of the kommun's board table into `folder` (`columns`:
    board_columns', when the caller has them)."""
    if columns is None:
        columns = board_columns(data, code, name)
    return _write_pair(columns, folder / code, sources(data.manifest, name),
                       f"KKiK-tabell {name} ({code})")


def write_network_files(data: ReportData, net: dict[str, Any], names: dict[str, str],
                        slug: str, folder: Path, rows: list[dict] | None = None) -> list[Path]:
    """`<slug>.xlsx` and `<slug>.csv` of the network page's table into `folder` (`rows`:
    network_rows', when the caller has them)."""
    if rows is None:
        rows = network_rows(data, net, names)
    title = net["title"]
    lines = sources(
        data.manifest, title, kolada=NETWORK_KOLADA, own=NETWORK_OWN,
        table=f"Nätverket {title}: medlemmarnas KKiK-värden, varje nyckeltal för sitt "
              "senaste år, en rad per medlem och nyckeltal")
    return _write_pair(_columns(data, rows, NETWORK_COLUMNS), folder / slug, lines,
                       f"Nätverk {title}")
