"""Each kommun page's board table as files beside it: `kommun/<code>.xlsx` and `<code>.csv`.

Written when the report is rendered (inside the publication, at publish time), linked with a
relative href, so the site stays offline and a download always holds the page's numbers. Both
are written by the publication's own Excel writers (pipelines.publish.xlsx and excel_csv):
the xlsx has codes as text, values as numbers at the KPI's precision, fitted columns, Swedish
headers and a Källor sheet; the CSV is Swedish-Excel CSV for programs (the page says to open
the xlsx in Excel, which keeps `0114` as text).
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
from pipelines.report.load import ReportData

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


def board_columns(data: ReportData, code: str, name: str) -> list[ExcelColumn]:
    """The kommun's board rows (the page's table) as Excel columns."""
    rows = data.board.get(code, [])
    decimals = [(data.kpis.get(r["kpi_id"]) or {}).get("decimals") for r in rows]
    colours = labels_sv().columns.get("colour") or {}
    out = []
    for key, header, kind in COLUMNS:
        if key == "municipality_id":
            values: list[Any] = [code] * len(rows)
        elif key == "municipality_name":
            values = [name] * len(rows)
        else:
            values = [r.get(key) for r in rows]
        if kind == "colour":
            values = [colours.get(v, v) if v else "Rangordnas inte" for v in values]
        if kind == "kpi":
            out.append(ExcelColumn(key, header, "number", values, list(decimals)))
        elif kind == "int":
            out.append(ExcelColumn(key, header, "number", values, [0] * len(rows)))
        else:
            out.append(ExcelColumn(key, header, "text", values))
    return out


def sources(manifest: dict[str, Any], name: str) -> dict[str, str]:
    lines = {
        "Tabell": f"KKiK-tabell för {name}: varje nyckeltal för sitt senaste år",
        "Publicering": str(manifest.get("version", "")),
        "Data per": stockholm_text(str(manifest.get("as_of", ""))),
        KOLADA: f"{TERMS_SV['kolada']} Kolumner: {', '.join(KOLADA_COLUMNS)}.",
        OWN: f"{TERMS_SV['own_processing']} Kolumner: {', '.join(OWN_COLUMNS)}.",
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


def write_board_files(data: ReportData, code: str, name: str, folder: Path) -> list[Path]:
    """`<code>.xlsx` and `<code>.csv` of the kommun's board table into `folder`."""
    columns = board_columns(data, code, name)
    xlsx = write_xlsx(columns, folder / f"{code}.xlsx", sources(data.manifest, name),
                      f"KKiK-tabell {name} ({code})")
    table = pa.table({c.name: _rounded(c) for c in columns})
    csv = folder / f"{code}.csv"
    write_excel_csv(table, csv, [c.header for c in columns])
    return [xlsx, csv]
