"""Who gets credit for which published column, per Kolada's and SCB's terms.

Kolada's terms: a service showing Kolada data credits "Källa: Kolada", but processed data must
*not* be credited to Kolada. So the credit is per column: values we pass through unchanged
(a KPI value, a title, a municipality name) are Kolada's; ranks, colours, peer means, trends,
counts and revision detection are our own processing and are credited to the publisher.
SCB (CC0) asks for "Källa: SCB"; the line is already present for population data from SCB.
"""

from __future__ import annotations

KOLADA = "Källa: Kolada"
SCB = "Källa: SCB"
OWN = "Egen bearbetning (inte Kolada)"

# Columns that carry Kolada's values unprocessed (everything else is our processing or a key).
KOLADA_COLUMNS: dict[str, tuple[str, ...]] = {
    "dim_municipality": (
        "municipality_name",
        "municipality_type",
        "county_name",
        "kommungrupp_name",
        "population",
    ),
    "dim_kpi": (
        "title",
        "description",
        "operating_area",
        "perspective",
        "is_divided_by_gender",
        "publication_date",
        "publ_period",
    ),
    "fct_kpi_values": ("value", "status", "value_count"),
    "mart_kkik_scorecard": (
        "municipality_name",
        "kpi_title",
        "value",
        "value_y1",
        "value_y2",
        "riket_value",
    ),
    "mart_kkik_peer_values": ("value",),
    "mart_kkik_colour_counts": ("municipality_name",),
    "mart_kpi_trends": ("latest_value", "riket_latest_value"),
    "mart_revisions": ("old_value", "new_value", "old_title", "new_title"),
}
# Columns whose source is SCB (none yet: population comes from Kolada's N01951 today).
SCB_COLUMNS: dict[str, tuple[str, ...]] = {}
# Identifiers and periods: neither a value nor processing, so no credit line of their own.
KEY_COLUMNS = frozenset(
    {
        "municipality_id",
        "kpi_id",
        "period",
        "year",
        "gender",
        "entity_key",
        "county_id",
        "kommungrupp_id",
        "kommungrupp_code",
        "peer_set_id",
        "source_url",
        "first_recorded_at",
        "last_revised_at",
    }
)


def column_credit(mart: str, column: str) -> str:
    """The credit line for one published column ("" for keys and identifiers)."""
    if column in SCB_COLUMNS.get(mart, ()):
        return SCB
    if column in KOLADA_COLUMNS.get(mart, ()):
        return KOLADA
    if column in KEY_COLUMNS:
        return ""
    return OWN


def attribution(columns: dict[str, list[str]], *, synthetic: bool) -> dict:
    """The manifest's `attribution` block for the published marts and their columns."""

    def select(credit: str) -> dict[str, list[str]]:
        found = {
            m: [c for c in cols if column_credit(m, c) == credit] for m, cols in columns.items()
        }
        return {m: cols for m, cols in found.items() if cols}

    block = {
        "kolada": {
            "credit": KOLADA,
            "applies_to": select(KOLADA),
            "terms": "Unprocessed Kolada values are credited 'Källa: Kolada'.",
        },
        "own_processing": {
            "credit": OWN,
            "applies_to": select(OWN),
            "terms": "Ranks, colours, percentiles, changes, peer means/medians, trends, counts "
            "and revision detection are our processing and must NOT be credited to Kolada.",
        },
        "scb": {
            "credit": SCB,
            "applies_to": select(SCB),
            "terms": "SCB data (CC0) is credited 'Källa: SCB' (population, when sourced from SCB).",
        },
    }
    if synthetic:
        block["synthetic_notice"] = (
            "Syntetiska exempeldata, genererade offline: inte verkliga värden från Kolada eller SCB."
        )
    return block
