"""Parsers of Kolada answers: value rows, metadata objects and the real reference captures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipelines.sources.kolada.records import KoladaParseError, metadata_records, value_records
from pipelines.sources.kolada.streams import KPI, KPI_GROUP, MUNICIPALITY, MUNICIPALITY_GROUP
from tests.conftest import REFERENCE_DIR

SRC = "http://127.0.0.1/v3/data/kpi/N15428/municipality/1784/year/2023"


def row(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kpi": "N15428", "municipality": "1784", "period": 2023,
        "values": [{"gender": "T", "count": 1, "status": "", "value": 74.1, "isdeleted": False}],
    }
    base.update(overrides)
    return base


def reference(name: str) -> list[dict[str, Any]]:
    path = REFERENCE_DIR / name
    if not path.exists():
        pytest.skip(f"reference capture {path} is not available")
    return json.loads(path.read_text(encoding="utf-8"))


# -- value rows -------------------------------------------------------------------------------


def test_value_records_one_record_per_gender_with_natural_key() -> None:
    values = [{"gender": "T", "count": 1, "status": "", "value": 74.1, "isdeleted": False},
              {"gender": "K", "count": 1, "status": "", "value": 77.0, "isdeleted": False}]
    records = value_records([row(values=values)], SRC)
    assert [r.entity_key for r in records] == ["N15428|1784|2023|T", "N15428|1784|2023|K"]
    assert records[1].payload["value"] == 77.0 and records[1].payload["gender"] == "K"
    assert all(r.source == SRC and not r.deleted for r in records)


@pytest.mark.parametrize("period", [2023, 2023.0, "2023"])
def test_value_records_period_becomes_int(period: Any) -> None:
    (record,) = value_records([row(period=period)], SRC)
    assert record.payload["period"] == 2023 and type(record.payload["period"]) is int


def test_value_records_isdeleted_gives_deleted_record_without_value() -> None:
    values = [{"gender": "T", "count": 1, "status": "", "value": 12.0, "isdeleted": True}]
    (record,) = value_records([row(values=values)], SRC)
    assert record.deleted and record.payload["value"] is None


def test_value_records_null_value_is_kept_as_live_null() -> None:
    values = [{"gender": "M", "count": 1, "status": "", "value": None, "isdeleted": False}]
    (record,) = value_records([row(values=values)], SRC)
    assert not record.deleted and record.payload["value"] is None


def test_value_records_int_value_becomes_float() -> None:
    values = [{"gender": "T", "count": 3, "status": "", "value": 74, "isdeleted": False}]
    (record,) = value_records([row(values=values)], SRC)
    assert type(record.payload["value"]) is float and record.payload["count"] == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kpi": "X1"}, "kpi"),
        ({"municipality": 180}, "municipality"),
        ({"period": "tjugo"}, "period"),
        ({"values": None}, "values"),
        ({"values": [{"gender": "X", "value": 1.0}]}, "gender"),
        ({"values": [{"gender": "T", "value": "74,1"}]}, "value"),
    ],
)
def test_value_records_bad_row_names_field_and_source(overrides: dict[str, Any], field: str
                                                      ) -> None:
    with pytest.raises(KoladaParseError) as info:
        value_records([row(**overrides)], SRC)
    assert str(info.value).startswith(f"{field}:") and SRC in str(info.value)


def test_value_records_missing_municipality_is_an_error() -> None:
    bad = row()
    del bad["municipality"]
    with pytest.raises(KoladaParseError, match="municipality: missing"):
        value_records([bad], SRC)


# -- metadata ---------------------------------------------------------------------------------


def test_metadata_kpi_fills_missing_v3_fields_and_reads_01_as_bool() -> None:
    (record,) = metadata_records(
        KPI, [{"id": "N15428", "title": "Behöriga", "is_divided_by_gender": 1}], SRC)
    assert record.payload["is_divided_by_gender"] is True
    assert record.payload["has_ou_data"] is None and "publ_period" in record.payload


def test_metadata_kpi_without_title_is_an_error() -> None:
    with pytest.raises(KoladaParseError, match="^title:"):
        metadata_records(KPI, [{"id": "N15428", "title": " "}], SRC)


def test_metadata_group_members_are_sorted() -> None:
    group = {"id": "G1", "title": "Grupp", "members": [
        {"member_id": "1784", "member_title": "Arvika"},
        {"member_id": "0180", "member_title": "Stockholm"}]}
    (record,) = metadata_records(MUNICIPALITY_GROUP, [group], SRC)
    assert [m["member_id"] for m in record.payload["members"]] == ["0180", "1784"]


def test_metadata_group_member_with_int_id_is_an_error() -> None:
    group = {"id": "G1", "title": "Grupp", "members": [{"member_id": 180, "member_title": "S"}]}
    with pytest.raises(KoladaParseError, match="member_id"):
        metadata_records(MUNICIPALITY_GROUP, [group], SRC)


def test_metadata_municipality_keeps_leading_zero_and_type() -> None:
    (record,) = metadata_records(MUNICIPALITY,
                                 [{"id": "0180", "title": "Stockholm", "type": "K"}], SRC)
    assert record.entity_key == "0180" and record.payload == {
        "id": "0180", "title": "Stockholm", "type": "K"}


# -- the real captures --------------------------------------------------------------------------


def test_reference_municipalities_parse_all_312() -> None:
    records = metadata_records(MUNICIPALITY, reference("municipality.json"), "ref")
    types = [r.payload["type"] for r in records]
    assert len(records) == 312 and types.count("K") == 290
    assert {r.entity_key for r in records} >= {"0000", "0180", "1784"}


def test_reference_kpi_group_kkik_has_40_members() -> None:
    records = metadata_records(KPI_GROUP, reference("kpi_groups.json"), "ref")
    kkik = {r.entity_key: r for r in records}["GKPI118"]
    assert len(kkik.payload["members"]) == 40


def test_reference_municipality_groups_parse_with_sorted_members() -> None:
    raw = reference("municipality_groups.json")
    records = metadata_records(MUNICIPALITY_GROUP, raw, "ref")
    assert len(records) == len(raw) and len(records) > 3000
    assert all(
        [m["member_id"] for m in r.payload["members"]]
        == sorted(m["member_id"] for m in r.payload["members"])
        for r in records
    )
    storstader = {r.entity_key: r for r in records}["G92787"].payload
    assert {m["member_id"] for m in storstader["members"]} == {"0180", "1280", "1480"}
