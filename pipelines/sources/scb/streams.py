"""The SCB streams: population per municipality, year and age band.

One stream, keyed municipality|year|age_band, in Kolada's unit codes (0000 Riket, 0001-0025
the län, 4-digit kommuner), so it joins the Kolada streams without a mapping table. The
payload carries only the figure: where it came from (the table, its `updated` stamp and the
hash of the POST body that asked for it) is the record's source, so a table republished with
the same numbers is not a revision.
"""

from __future__ import annotations

from pipelines.eventlog.streams import PayloadField, StreamSpec

SOURCE = "scb"

# TAB638 "Folkmängden efter region, civilstånd, ålder och kön", content BE0101N1 (Folkmängd).
POPULATION_TABLE = "TAB638"
POPULATION_CONTENT = "BE0101N1"

POPULATION = StreamSpec(
    source=SOURCE,
    entity="population",
    key_parts=("municipality", "year", "age_band"),
    payload=(
        PayloadField("municipality", "text", "Kolada unit code (0000, 0001-0025, kommun)"),
        PayloadField("year", "integer", "31 December of this year"),
        PayloadField("age_band", "text", "0-5, 6-15, 16-19, 20-64, 65-79 or 80+"),
        PayloadField("population", "integer", "single years of age summed, sex eliminated"),
    ),
    description="SCB population per unit x year x age band (TAB638 / BE0101N1, PxWeb API "
    "v2), SCB's 00/01-25 mapped to Kolada's 0000/0001-0025.",
    scope_parts=("municipality", "year"),
)

STREAMS: tuple[StreamSpec, ...] = (POPULATION,)
