"""The Kolada streams: the one place their names, keys and payload shapes are written down.

Everything else (the event log, the client, the ingestion assets, the sample server, the dbt
sources file) refers to these objects. `endpoint` is the Kolada v3 path a metadata stream is
fetched from; values come from `/data/kpi/.../municipality/.../year/...`, unit values (schools,
preschools, care homes) from `/oudata/kpi/.../ou/.../year/...`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.eventlog.streams import PayloadField, StreamSpec

SOURCE = "kolada"


@dataclass(frozen=True)
class KoladaStream(StreamSpec):
    endpoint: str = ""


def _f(name: str, type_: str = "text", description: str = "") -> PayloadField:
    return PayloadField(name, type_, description)


KPI = KoladaStream(
    source=SOURCE,
    entity="kpi",
    key_parts=("id",),
    payload=(
        _f("id"), _f("title"), _f("description"), _f("is_divided_by_gender", "boolean"),
        _f("municipality_type"), _f("auspice"), _f("operating_area"), _f("perspective"),
        _f("prel_publication_date"), _f("publication_date"), _f("publ_period"),
        _f("has_ou_data", "boolean"),
    ),
    description="Kolada v3 kpi objects (KPI metadata).",
    endpoint="kpi",
)

KPI_GROUP = KoladaStream(
    source=SOURCE,
    entity="kpi_group",
    key_parts=("id",),
    payload=(_f("id"), _f("title"), _f("members", "json", "[{member_id, member_title}], sorted")),
    description="Kolada KPI groups ({id, title, members}); GKPI118 is KKiK.",
    endpoint="kpi_groups",
)

MUNICIPALITY = KoladaStream(
    source=SOURCE,
    entity="municipality",
    key_parts=("id",),
    payload=(_f("id"), _f("title"), _f("type", description="K = kommun, L = region")),
    description="Kolada municipalities, regions and Riket ({id, title, type}).",
    endpoint="municipality",
)

MUNICIPALITY_GROUP = KoladaStream(
    source=SOURCE,
    entity="municipality_group",
    key_parts=("id",),
    payload=(_f("id"), _f("title"), _f("members", "json", "[{member_id, member_title}], sorted")),
    description="Kolada municipality groups ({id, title, members}): SKR kommungrupper, "
    "liknande kommuner, ...",
    endpoint="municipality_groups",
)

KPI_VALUE = KoladaStream(
    source=SOURCE,
    entity="kpi_value",
    key_parts=("kpi", "municipality", "period", "gender"),
    payload=(
        _f("kpi"), _f("municipality"), _f("period", "integer"), _f("gender"),
        _f("value", "double"), _f("count", "integer"), _f("status"),
    ),
    description="Kolada KPI values, one per kpi x municipality x period x gender.",
    scope_parts=("kpi", "municipality", "period"),
)

# Organisational units: a full snapshot like the other metadata, so a unit that closes becomes a
# tombstone and a renamed one a new version (units open, close and get renamed every year).
OU = KoladaStream(
    source=SOURCE,
    entity="ou",
    key_parts=("id",),
    payload=(_f("id", description="e.g. V15E178402001; V15 = grundskola (the unit's kind)"),
             _f("municipality"), _f("title")),
    description="Kolada organisational units ({id, municipality, title}): schools, preschools, "
    "care homes, ...",
    endpoint="ou",
)

OU_VALUE = KoladaStream(
    source=SOURCE,
    entity="ou_value",
    key_parts=("kpi", "ou", "period", "gender"),
    payload=(
        _f("kpi"), _f("ou"), _f("period", "integer"), _f("gender"),
        _f("value", "double"), _f("count", "integer"), _f("status"),
    ),
    description="Kolada KPI values per organisational unit, one per kpi x ou x period x gender.",
    scope_parts=("kpi", "ou", "period"),
)

METADATA_STREAMS: tuple[KoladaStream, ...] = (KPI, KPI_GROUP, MUNICIPALITY, MUNICIPALITY_GROUP, OU)
STREAMS: tuple[KoladaStream, ...] = (*METADATA_STREAMS, KPI_VALUE, OU_VALUE)
