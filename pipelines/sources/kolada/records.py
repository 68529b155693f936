"""Turn Kolada answers (v3, and the v2 reference captures) into normalised source records.

Why normalise here: the event log hashes the payload to decide whether something changed, so
every record must come out in one canonical form (ints for periods, floats for values, group
members sorted) or a harmless difference such as member order would look like a revision.
Malformed rows raise `KoladaParseError` naming the field and the record, because a silently
skipped row would later look like a deletion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pipelines.sources.kolada.streams import (
    KPI,
    KPI_GROUP,
    METADATA_STREAMS,
    MUNICIPALITY,
    OU,
    KoladaStream,
)
from pipelines.sources.records import SourceRecord

KPI_ID_RE = re.compile(r"^[NU]\d{5}$")
MUNICIPALITY_ID_RE = re.compile(r"^\d{4}$")
# An organisational unit: "V15E178402001" = V + two digits (the kind: V15 grundskola) + a letter
# + the rest. The rest is not checked further: the real list holds "V11E26.." (2 of 35,368), and
# refusing them would refuse the whole snapshot; only what would break a key or a URL is refused.
OU_ID_RE = re.compile(r"^V\d{2}[A-Z][^\s|,/?#]+$")
GENDERS = ("T", "K", "M")
_GENDER_SET = frozenset(GENDERS)

# Fields of a v3 KPI object (kolada-api.md). Always present in the payload (None when the
# source omitted them) so that v2 captures and v3 pages give payloads of the same shape.
KPI_FIELDS = tuple(f.name for f in KPI.payload)
_KPI_BOOL_FIELDS = tuple(f.name for f in KPI.payload if f.type == "boolean")


class KoladaParseError(ValueError):
    """A row from Kolada does not have the shape the platform relies on."""


def _short(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 300 else text[:297] + "..."


def _fail(field: str, problem: str, record: Any, source: str) -> KoladaParseError:
    return KoladaParseError(f"{field}: {problem} in record {_short(record)} (from {source})")


def _kpi_id(value: Any, field: str, record: Any, source: str) -> str:
    if not isinstance(value, str) or not KPI_ID_RE.match(value):
        raise _fail(field, f"expected a KPI id like 'N01951', got {value!r}", record, source)
    return value


def _municipality_id(value: Any, field: str, record: Any, source: str) -> str:
    # Ints such as 180 are rejected rather than padded: they mean the producer lost the
    # leading zero somewhere and guessing could map a value to the wrong municipality.
    if not isinstance(value, str) or not MUNICIPALITY_ID_RE.match(value):
        raise _fail(
            field, f"expected a 4-digit municipality id string like '0180', got {value!r}",
            record, source,
        )
    return value


def _period(value: Any, record: Any, source: str) -> int:
    if isinstance(value, bool):
        raise _fail("period", f"expected a year, got {value!r}", record, source)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _fail("period", f"expected a year, got {value!r}", record, source)


def _number(value: Any, field: str, record: Any, source: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(field, f"expected a number or null, got {value!r}", record, source)
    return float(value)


def _count(value: Any, record: Any, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _fail("count", f"expected an integer or null, got {value!r}", record, source)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _fail("count", f"expected an integer or null, got {value!r}", record, source)


def value_records(rows: Iterable[dict[str, Any]], source: str) -> list[SourceRecord]:
    """Flatten data rows (one per kpi/municipality/period) into one record per gender.

    Written as a tight loop without per-row helper objects: a full ingest parses some
    250,000 values and must do so in a second or two.
    """
    out: list[SourceRecord] = []
    append = out.append
    genders = _GENDER_SET
    for row in rows:
        if not isinstance(row, dict):
            raise _fail("row", "expected an object", row, source)
        kpi = row.get("kpi")
        if kpi is None:
            raise _fail("kpi", "missing", row, source)
        if not (isinstance(kpi, str) and KPI_ID_RE.match(kpi)):
            _kpi_id(kpi, "kpi", row, source)
        municipality = row.get("municipality")
        if municipality is None:
            raise _fail("municipality", "missing", row, source)
        if not (isinstance(municipality, str) and MUNICIPALITY_ID_RE.match(municipality)):
            _municipality_id(municipality, "municipality", row, source)
        period = row.get("period")
        if type(period) is not int:
            if period is None:
                raise _fail("period", "missing", row, source)
            period = _period(period, row, source)
        values = row.get("values")
        if not isinstance(values, list):
            raise _fail("values", f"expected a list, got {values!r}", row, source)
        # The natural key of one value: "N15428|1784|2023|T" (kpi|municipality|period|gender).
        prefix = f"{kpi}|{municipality}|{period}|"
        for item in values:
            if not isinstance(item, dict):
                raise _fail("values[]", f"expected an object, got {item!r}", row, source)
            gender = item.get("gender")
            if gender not in genders:
                raise _fail("gender", f"expected one of T, K, M, got {gender!r}", row, source)
            value = item.get("value")
            if type(value) is not float:
                value = _number(value, "value", row, source)
            count = item.get("count")
            if type(count) is not int and count is not None:
                count = _count(count, row, source)
            status = item.get("status")
            if status is None:
                status = ""
            elif not isinstance(status, str):
                status = str(status)
            deleted = item.get("isdeleted") is True
            if deleted:
                value = None
            append(
                SourceRecord(
                    prefix + gender,
                    {
                        "kpi": kpi,
                        "municipality": municipality,
                        "period": period,
                        "gender": gender,
                        "value": value,
                        "count": count,
                        "status": status,
                    },
                    deleted,
                    source,
                )
            )
    return out


def _ou_id(value: Any, field: str, record: Any, source: str) -> str:
    if not isinstance(value, str) or not OU_ID_RE.match(value):
        raise _fail(field, f"expected a unit id like 'V15E178402001', got {value!r}", record,
                    source)
    return value


def ou_value_records(rows: Iterable[dict[str, Any]], source: str) -> list[SourceRecord]:
    """Flatten unit data rows ({kpi, ou, period, values: [...]}) into one record per gender.

    The checked path for the pages ou_values_arrow cannot vouch for (and the reference its
    output must equal byte for byte), so plain: one helper call per field."""
    out: list[SourceRecord] = []
    for row in rows:
        if not isinstance(row, dict):
            raise _fail("row", "expected an object", row, source)
        kpi = _kpi_id(row.get("kpi"), "kpi", row, source)
        ou = _ou_id(row.get("ou"), "ou", row, source)
        if row.get("period") is None:
            raise _fail("period", "missing", row, source)
        period = _period(row.get("period"), row, source)
        values = row.get("values")
        if not isinstance(values, list):
            raise _fail("values", f"expected a list, got {values!r}", row, source)
        for item in values:
            if not isinstance(item, dict):
                raise _fail("values[]", f"expected an object, got {item!r}", row, source)
            gender = item.get("gender")
            if gender not in _GENDER_SET:
                raise _fail("gender", f"expected one of T, K, M, got {gender!r}", row, source)
            deleted = item.get("isdeleted") is True
            value = None if deleted else _number(item.get("value"), "value", row, source)
            status = item.get("status")
            out.append(SourceRecord(
                f"{kpi}|{ou}|{period}|{gender}",
                {"kpi": kpi, "ou": ou, "period": period, "gender": gender, "value": value,
                 "count": _count(item.get("count"), row, source),
                 "status": "" if status is None else str(status)},
                deleted, source))
    return out


def _text(obj: dict[str, Any], field: str, source: str, *, required: bool = True) -> str | None:
    value = obj.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(field, f"expected non-empty text, got {value!r}", obj, source)
    return value


def _bool(value: Any, field: str, obj: Any, source: str) -> bool | None:
    # v2 captures used 0/1 where v3 answers true/false; both mean the same.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _fail(field, f"expected true/false, got {value!r}", obj, source)


def _kpi_payload(obj: dict[str, Any], source: str) -> dict[str, Any]:
    payload = dict(obj)
    payload.pop("isdeleted", None)
    for field in KPI_FIELDS:
        payload.setdefault(field, None)
    _kpi_id(obj.get("id"), "id", obj, source)
    _text(obj, "title", source)
    for field in _KPI_BOOL_FIELDS:
        payload[field] = _bool(payload[field], field, obj, source)
    return payload


def _municipality_payload(obj: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "id": _municipality_id(obj.get("id"), "id", obj, source),
        "title": _text(obj, "title", source),
        "type": _text(obj, "type", source),
    }


def _ou_payload(obj: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "id": _ou_id(obj.get("id"), "id", obj, source),
        "municipality": _municipality_id(obj.get("municipality"), "municipality", obj, source),
        "title": _text(obj, "title", source),
    }


def _group_payload(
    obj: dict[str, Any], source: str, member_check: Any, member_kind: str
) -> dict[str, Any]:
    group_id = _text(obj, "id", source)
    title = _text(obj, "title", source)
    members = obj.get("members")
    if not isinstance(members, list):
        raise _fail("members", f"expected a list, got {members!r}", obj, source)
    clean: list[dict[str, Any]] = []
    for member in members:
        if not isinstance(member, dict):
            raise _fail("members[]", f"expected an object, got {member!r}", obj, source)
        member_id = member_check(member.get("member_id"), f"members[].member_id ({member_kind})",
                                 obj, source)
        member_title = member.get("member_title")
        if member_title is not None and not isinstance(member_title, str):
            raise _fail("members[].member_title", f"expected text, got {member_title!r}",
                        obj, source)
        clean.append({"member_id": member_id, "member_title": member_title})
    # Sorted so that the source reordering members is not mistaken for a revision.
    clean.sort(key=lambda m: m["member_id"])
    return {"id": group_id, "title": title, "members": clean}


def metadata_records(
    stream: KoladaStream, objects: Iterable[dict[str, Any]], source: str
) -> list[SourceRecord]:
    """Normalise metadata objects of one metadata stream (streams.METADATA_STREAMS)."""
    if stream not in METADATA_STREAMS:
        names = ", ".join(s.name for s in METADATA_STREAMS)
        raise KoladaParseError(f"unknown metadata stream {stream!r}; expected one of {names}")
    out: list[SourceRecord] = []
    for obj in objects:
        if not isinstance(obj, dict):
            raise _fail("object", "expected an object", obj, source)
        if stream == KPI:
            payload = _kpi_payload(obj, source)
        elif stream == MUNICIPALITY:
            payload = _municipality_payload(obj, source)
        elif stream == OU:
            payload = _ou_payload(obj, source)
        elif stream == KPI_GROUP:
            payload = _group_payload(obj, source, _kpi_id, "KPI id")
        else:
            payload = _group_payload(obj, source, _municipality_id, "municipality id")
        out.append(SourceRecord(payload["id"], payload, obj.get("isdeleted") is True, source))
    return out
