"""The marts the platform publishes (contract: docs/marts.md), in dependency order.

One list shared by the checks (one GX suite each), the publisher and the tests, so adding a
mart is one line here plus its model, suite and headers.
"""

from __future__ import annotations

PUBLISHED_MARTS: tuple[str, ...] = (
    "dim_municipality",
    "dim_kpi",
    "fct_kpi_values",
    "mart_kkik_scorecard",
    "mart_kkik_peer_values",
    "mart_kkik_colour_counts",
    "mart_kpi_trends",
    "mart_revisions",
)
