"""Read what the report shows from one publication's files, never from the warehouse.

The report is rendered from the Parquet files of a publication folder (the one being written,
`published/.tmp-<version>`, or `published/current` for a re-render), so a report always shows
exactly the published numbers, and rendering never takes DuckDB's writer lock from dbt. Each
mart is read once, set-wise, with DuckDB and grouped by municipality here; the templates only
loop over what this module hands them.

Kommunkompassen, the quality profile and the revisions are optional: when a publication lacks
their mart the section is left out (`None`), not rendered empty.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish.swedish import sv_sorted

# Without these a KKiK report cannot be drawn; the publisher skips the report (and says so in
# the manifest) for a publication that does not carry them.
REQUIRED_MARTS = ("dim_municipality", "dim_kpi", "mart_kkik_scorecard", "mart_kkik_board",
                  "mart_kkik_colour_counts")
OPTIONAL_MARTS = ("fct_kpi_values", "mart_revisions", "mart_rank_changes", "mart_kkik_peer_values",
                  "mart_kommunkompassen_areas", "mart_kommunkompassen", "mart_quality_profile")
REPORT_MARTS = REQUIRED_MARTS + OPTIONAL_MARTS
AREAS = ("Barn och unga", "Stöd och omsorg", "Samhälle och miljö")  # KKiK's order since 2018


class ReportDataError(ValueError):
    """The publication folder lacks what a report needs."""


@dataclass
class ReportData:
    manifest: dict[str, Any]
    municipalities: list[dict[str, Any]]  # kommuner (type K), by name
    kpis: dict[str, dict[str, Any]]
    board: dict[str, list[dict[str, Any]]]  # municipality -> scorecard rows at the board's year
    trends: dict[str, dict[str, list[dict[str, Any]]]]  # municipality -> kpi -> rows by year
    colour_counts: dict[str, list[dict[str, Any]]]
    overview_year: int | None
    revisions: dict[str, list[dict[str, Any]]] | None = None
    revision_counts: dict[str, dict[str, int]] | None = None
    rank_changes: dict[str, list[dict[str, Any]]] | None = None
    kommunkompassen: dict[str, list[dict[str, Any]]] | None = None
    quality_profile: dict[str, dict[str, Any]] | None = None
    networks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def municipality_ids(self) -> set[str]:
        return {m["municipality_id"] for m in self.municipalities}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return dict(grouped)


def available_marts(folder: Path) -> set[str]:
    return {m for m in REPORT_MARTS if (Path(folder) / f"{m}.parquet").is_file()}


def load(folder: Path, manifest: Mapping[str, Any] | None = None) -> ReportData:
    """Everything the site shows, from the publication in `folder`.

    `manifest`: the publication's manifest when it is not yet written to the folder (the
    publisher renders before it writes manifest.json); otherwise read from the folder.
    """
    folder = Path(folder)
    if manifest is None:
        path = folder / "manifest.json"
        if not path.is_file():
            raise ReportDataError(f"{folder} has no manifest.json: not a publication")
        manifest = json.loads(path.read_text(encoding="utf-8"))
    present = available_marts(folder)
    missing = [m for m in REQUIRED_MARTS if m not in present]
    if missing:
        raise ReportDataError(f"{folder} lacks the marts a report needs: {', '.join(missing)}")
    con = duckdb.connect()
    try:
        for mart in present:  # a view per file: the SQL below names marts, not paths
            path = str(folder / f"{mart}.parquet").replace("'", "''")
            con.execute(f"create view {mart} as select * from read_parquet('{path}')")
        return _load(con, dict(manifest), present)
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], present: set[str]
          ) -> ReportData:
    municipalities = _rows(con, """
        select municipality_id, municipality_name, county_name, kommungrupp_name, population
        from dim_municipality where municipality_type = 'K' and not is_riket
        order by municipality_id""")
    # Swedish alphabetical order (Å, Ä, Ö after Z), which DuckDB's binary collation is not
    municipalities = sv_sorted(municipalities, key=lambda m: m["municipality_name"])
    kpis = {r["kpi_id"]: r for r in _rows(con, """
        select kpi_id, title, description, unit, kkik_area, direction, decimals,
               is_divided_by_gender
        from dim_kpi""")}
    # The board's rows are the scorecard's at the board's year (each KPI's latest year), so the
    # page shows the scorecard's own numbers, rank and ranked_count included.
    board = _by(_rows(con, """
        select s.municipality_id, s.kpi_id, s.kpi_title, s.kkik_area, s.unit, s.direction,
               s.year, s.value, s.value_y1, s.rank, s.ranked_count, s.colour, s.change,
               s.y1_across_series_break, s.riket_value, s.kommungrupp_mean, s.liknande_mean,
               s.value_y2, b.liknande_names, b.liknande_set_name, b.kommungrupp_name
        from mart_kkik_scorecard s
        join mart_kkik_board b using (municipality_id, kpi_id, year)
        order by s.municipality_id, s.kkik_area, s.kpi_title, s.kpi_id"""), "municipality_id")
    trend_rows = _rows(con, """
        select municipality_id, kpi_id, year, value, riket_value, kommungrupp_mean,
               liknande_mean
        from mart_kkik_scorecard order by municipality_id, kpi_id, year""")
    trends: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in trend_rows:
        trends[row["municipality_id"]][row["kpi_id"]].append(row)
    counts = _rows(con, """
        select municipality_id, year, kkik_area, green, yellow, red, grey, not_ranked, kpis
        from mart_kkik_colour_counts order by municipality_id, year, kkik_area""")
    # The national overview's year is KKiK's year: the one most KPIs have as their latest (a
    # single KPI that already has next year's values must not empty the table).
    years = Counter(r["year"] for rows in board.values() for r in rows)
    overview_year = max(years, key=lambda y: (years[y], y)) if years else None
    data = ReportData(
        manifest=manifest,
        municipalities=municipalities,
        kpis=kpis,
        board=board,
        trends={m: dict(k) for m, k in trends.items()},
        colour_counts=_by(counts, "municipality_id"),
        overview_year=overview_year,
    )
    if "mart_revisions" in present:
        _load_revisions(con, data, "mart_rank_changes" in present)
    if "mart_kommunkompassen_areas" in present:
        data.kommunkompassen = _by(_rows(con, """
            select municipality_id, assessment_year, version, area_number,
                   area_label_published, score, benchmark, score_minus_benchmark, total_stated,
                   previous_assessment_year, score_change, cross_version
            from mart_kommunkompassen_areas
            order by municipality_id, assessment_year desc, version desc, area_number"""),
            "municipality_id")
    if "mart_quality_profile" in present:
        data.quality_profile = {r["municipality_id"]: r for r in _rows(con, """
            select * from mart_quality_profile where is_latest_year""")}
    if "fct_kpi_values" in present:
        _load_genders(con, data)
    if "mart_kkik_peer_values" in present:
        data.networks = _networks(con)
    return data


def _load_genders(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Women's and men's values beside the total, at the board's year, for KPIs Kolada divides
    by gender (board rows get `women` and `men`; None where Kolada has no such value)."""
    rows = _rows(con, """
        select f.municipality_id, f.kpi_id, f.gender, f.value
        from fct_kpi_values f
        join mart_kkik_board b on b.municipality_id = f.municipality_id
             and b.kpi_id = f.kpi_id and b.year = f.period
        where f.gender in ('K', 'M')""")
    found: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    for r in rows:
        found[(r["municipality_id"], r["kpi_id"])][r["gender"]] = r["value"]
    for municipality, board_rows in data.board.items():
        for row in board_rows:
            values = found.get((municipality, row["kpi_id"]), {})
            row["women"], row["men"] = values.get("K"), values.get("M")
            row["by_gender"] = bool(values)


# Value changes are shown per row only when they are revisions or deletions: on a first
# publication every value is "added", which is a count, not news for a board.
REVISION_ROW_LIMIT = 200


# Rows that are counted but not listed: on a first publication every value and unit is new.
ADDED_TYPES = ("value_added", "unit_value_added", "unit_added")


def _load_revisions(con: duckdb.DuckDBPyConnection, data: ReportData, ranks: bool) -> None:
    """Counts per kommun and change type, kommun values first, then its units' (a unit's
    changes carry its kommun); the listed rows are revisions, deletions, renamed and closed
    units. A publication from before mart_revisions had levels reads as kommun values only."""
    columns = {r[0] for r in con.execute("describe mart_revisions").fetchall()}
    unit = "level = 'unit'" if "level" in columns else "false"
    ou_name = "r.ou_name" if "ou_name" in columns else "null::varchar"
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _rows(con, f"""
            select municipality_id, change_type, count(*) as n from mart_revisions
            where municipality_id is not null group by all
            order by municipality_id, bool_or({unit}), change_type"""):
        counts[row["municipality_id"]][row["change_type"]] = row["n"]
    data.revision_counts = dict(counts)
    added = ", ".join(f"'{t}'" for t in ADDED_TYPES)
    data.revisions = _by(_rows(con, f"""
        select * exclude (rn, is_unit) from (
            select r.municipality_id, r.change_type, r.kpi_id, k.title as kpi_title, r.period,
                   r.gender, r.old_value, r.new_value, r.changed_fields, k.decimals,
                   {ou_name} as ou_name, r.old_title, r.new_title, {unit} as is_unit,
                   row_number() over (partition by r.municipality_id
                                      order by {unit}, r.kpi_id, {ou_name}, r.period,
                                               r.gender, r.change_type) as rn
            from mart_revisions r left join dim_kpi k using (kpi_id)
            where r.municipality_id is not null and r.change_type not in ({added}))
        where rn <= {REVISION_ROW_LIMIT}
        order by municipality_id, rn"""), "municipality_id")
    if ranks:
        data.rank_changes = _by(_rows(con, """
            select municipality_id, kpi_id, kpi_title, year, cause, old_rank, new_rank,
                   old_colour, new_colour
            from mart_rank_changes order by municipality_id, kkik_area, kpi_title, year"""),
            "municipality_id")


def _networks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Custom networks as published: members are the kommuner with rows for the network."""
    nets = _rows(con, """
        select peer_set_id as id, any_value(peer_set_name) as title,
               list(distinct municipality_id order by municipality_id) as members
        from mart_kkik_peer_values where peer_set_type = 'network'
        group by peer_set_id order by peer_set_id""")
    means = _rows(con, """
        select p.peer_set_id, p.kpi_id, any_value(p.peer_mean) as peer_mean
        from mart_kkik_peer_values p
        join mart_kkik_board b using (municipality_id, kpi_id, year)
        where p.peer_set_type = 'network' group by all""")
    by_net: dict[str, dict[str, float]] = defaultdict(dict)
    for row in means:
        by_net[row["peer_set_id"]][row["kpi_id"]] = row["peer_mean"]
    for net in nets:
        net["means"] = by_net.get(net["id"], {})
    return nets
