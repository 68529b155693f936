"""Which files each published mart gets: the one table that decides it.

Every mart is published as Parquet and as a table in `marts.duckdb`: programs, BI tools and the
report read those, and they cost little (the sample's 21 marts: 9 MB of Parquet, 34 MB of
DuckDB). The Swedish Excel files (`csv/<mart>.csv`, `xlsx/<mart>.xlsx`) are for a person who
opens the table, and they are the dear part of a publication (on the sample, 229 MB of CSV and
95 MB of xlsx when every mart had both, 324 of 413 MB). So only the marts a person opens get
them: the board, the wide table, the colour counts, the trends, the quality profile,
Kommunkompassen, the follow-up of initiatives, what changed (revisions, rank changes) and the
small reference tables. The large long tables that feed those (every value, the full
scorecard, the peer values and members) are for programs: on workload M they hold millions of
rows, more than an Excel sheet takes (1,048,576 rows), and a person reads them through the
board, the wide table or the report. Figures behind each choice: docs/checks-and-publishing.md.

An xlsx is written only up to the row cap (`xlsx.row_cap()`, at most an Excel sheet), so a
person-facing mart that outgrows a sheet (the first night's revisions on M) gets its CSV only;
the README and the manifest say so.

A new published mart must be added here (tests/test_publish_sharing.py fails otherwise): its
files are a decision, not a default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

PARQUET, DUCKDB, CSV, XLSX = "parquet", "duckdb", "csv", "xlsx"
ALL_FORMATS = (PARQUET, DUCKDB, CSV, XLSX)
FOR_PROGRAMS = frozenset({PARQUET, DUCKDB})
FOR_PEOPLE = frozenset(ALL_FORMATS)


class FormatsError(ValueError):
    """A mart has no declared formats, or a declaration names an unknown format."""


# mart -> (its formats, why)
FORMATS: dict[str, tuple[frozenset[str], str]] = {
    "dim_municipality": (FOR_PEOPLE, "the kommuner, their codes and groups: looked up by hand"),
    "dim_kpi": (FOR_PEOPLE, "the KPIs with their titles and definitions: looked up by hand"),
    "dim_source": (FOR_PROGRAMS, "provenance (URL, fetch time), joined by programs"),
    "fct_kpi_values": (FOR_PROGRAMS, "every value; millions of rows on M, past a sheet"),
    "mart_kkik_scorecard": (FOR_PROGRAMS, ("every kommun x KPI x year; read as the board, "
                                           "the wide table or the report; past a sheet on M")),
    "mart_kkik_peer_values": (FOR_PROGRAMS, "scorecard x peer set; past a sheet on M"),
    "mart_kkik_peer_members": (FOR_PROGRAMS, ("the peers behind each mean; the largest "
                                              "mart (730,800 rows on the sample)")),
    "mart_kkik_board": (FOR_PEOPLE, "the board's KKiK table"),
    "mart_kkik_colour_counts": (FOR_PEOPLE, "colour counts per kommun, year and area"),
    "mart_kpi_trends": (FOR_PEOPLE, "one trend per kommun and KPI"),
    "mart_kpi_wide": (FOR_PEOPLE, "one column per year, read without a pivot"),
    "mart_revisions": (FOR_PEOPLE, "what changed since the last publication"),
    "mart_rank_changes": (FOR_PEOPLE, "why a rank, colour or peer mean changed"),
    "mart_kommunkompassen_areas": (FOR_PEOPLE, "Kommunkompassen per area"),
    "mart_kommunkompassen": (FOR_PEOPLE, "Kommunkompassen per assessment"),
    "mart_quality_profile": (FOR_PEOPLE, "the quality profile of all 290 kommuner"),
    "mart_kvalitetskommun_history": (FOR_PEOPLE, "past winners and nominees"),
    "mart_improvement_followup": (FOR_PEOPLE, "did an initiative work"),
    "mart_unit_scorecard": (FOR_PEOPLE, "the units' table, as the board is the kommuner's"),
    "mart_unit_trends": (FOR_PEOPLE, "one trend per unit and KPI"),
    "mart_unit_revisions": (FOR_PEOPLE, "what changed in the unit data"),
}


def declared_formats() -> dict[str, frozenset[str]]:
    """mart -> its formats, from the table above."""
    return {mart: formats for mart, (formats, _why) in FORMATS.items()}


def formats_for(marts: Collection[str],
                table: Mapping[str, Collection[str]] | None = None) -> dict[str, frozenset[str]]:
    """The formats of each of `marts` (from `table`, default the declared one); a mart without
    a declaration, or one that drops Parquet or DuckDB, is a FormatsError naming it."""
    table = declared_formats() if table is None else table
    missing = [m for m in marts if m not in table]
    if missing:
        raise FormatsError(f"no formats declared for {', '.join(missing)}: add each to "
                           "FORMATS in pipelines/publish/formats.py")
    out = {}
    for mart in marts:
        formats = frozenset(table[mart])
        unknown = sorted(formats - FOR_PEOPLE)
        if unknown:
            raise FormatsError(f"{mart}: unknown format(s) {unknown}; known: {ALL_FORMATS}")
        if not FOR_PROGRAMS <= formats:
            raise FormatsError(f"{mart}: every mart is published as Parquet and DuckDB")
        out[mart] = formats
    return out
