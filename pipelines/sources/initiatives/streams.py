"""The initiative stream: improvement initiatives analysts register for follow-up.

A file is the register of the kommuner it names: importing it replaces those kommuners'
initiatives (one removed from the file is tombstoned) and never touches another kommun's.
"""

from __future__ import annotations

from pipelines.eventlog.streams import PayloadField, StreamSpec

INITIATIVE = StreamSpec(
    source="initiative",
    entity="registered",
    key_parts=("municipality", "initiative"),
    payload=(
        PayloadField("municipality", "text", "4-digit kommun code"),
        PayloadField("initiative", "text", "the initiative's id (as given, else from the title)"),
        PayloadField("title", "text", "what the initiative is"),
        PayloadField("kpis", "text", "comma-separated Kolada KPI ids it aims to move"),
        PayloadField("start_year", "integer", "the first year the change was in place"),
        PayloadField("peer_set", "text", "kommungrupp | liknande_kommuner | county | riket | "
                     "network:<id>"),
        PayloadField("description", "text", "free text, nullable"),
    ),
    description="Improvement initiatives registered by analysts for follow-up (municipality, "
    "title, KPI ids, start year, peer set), from files in landing/initiatives/ "
    "(docs/initiatives.md).",
    scope_parts=("municipality",),
)

STREAMS: tuple[StreamSpec, ...] = (INITIATIVE,)
