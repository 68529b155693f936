"""Who gets credit for which published column, per Kolada's and SCB's terms.

Kolada's terms: a service showing Kolada data credits "Källa: Kolada", but processed data must
*not* be credited to Kolada. So the credit is per column: values we pass through unchanged
(a KPI value, a title, a municipality name) are Kolada's; ranks, colours, peer means, trends,
counts and revision detection are our own processing and are credited to the publisher.
SCB (CC0) asks for "Källa: SCB"; the line is already present for population data from SCB.

Which column is which is declared once, as the column's `credit` class in the marts' contract
(dbt_project/models/marts/_marts__models.yml, read by pipelines/warehouse/marts.py), which
also holds each class's credit line (the docs of the marts print them); the manifest's block is
made here.
"""

from __future__ import annotations

from pipelines.warehouse.marts import (
    ASSESSMENT,
    CREDIT_TEXTS,
    KOLADA,
    OWN,
    SCB,
    mart_contracts,
)

__all__ = ["ASSESSMENT", "CREDIT_TEXTS", "KOLADA", "OWN", "SCB", "attribution", "column_credit"]

# The manifest's `terms` are for engineers (English); what an analyst reads (the xlsx Källor
# sheet, the publication's README) says the same in Swedish. Keyed like the manifest's blocks.
TERMS_SV: dict[str, str] = {
    "kolada": "Obearbetade värden från Kolada anges med 'Källa: Kolada'.",
    "own_processing": "Rang, färger, percentiler, förändringar, medel och medianer för "
    "jämförelsegrupper, trender, räkningar och upptäckta revideringar är vår egen bearbetning "
    "och får INTE tillskrivas Kolada.",
    "scb": "Data från SCB (CC0) anges med 'Källa: SCB' (folkmängd, när den hämtas från SCB).",
    "assessment": "Kommunkompassens poäng, Sverigesnitt och texter är SKR:s publicerade "
    "resultat, inmatade av analytiker (importfilerna arkiveras i händelseloggen).",
}


def column_credit(mart: str, column: str) -> str:
    """The credit line for one published column ("" for keys and identifiers).

    A column the contract does not list counts as our processing: Kolada is never credited
    for something nobody declared to be Kolada's.
    """
    contract = mart_contracts().get(mart)
    spec = contract.column(column) if contract else None
    return CREDIT_TEXTS[spec.credit] if spec else OWN


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
    assessed = select(ASSESSMENT)
    if assessed:
        block["assessment"] = {
            "credit": ASSESSMENT,
            "applies_to": assessed,
            "terms": "Kommunkompassen scores, benchmarks and texts are SKR's published results "
            "as typed in by analysts (their import files are archived with the event log).",
        }
    if synthetic:
        block["synthetic_notice"] = (
            "Syntetiska exempeldata, genererade offline: inte verkliga värden från Kolada eller SCB."
        )
    return block
