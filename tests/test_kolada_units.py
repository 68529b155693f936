"""Kolada's unit-level data: the ou and ou_value streams, through the real client over real
HTTP against the sample server (paging, 25-id chunks, from_date, a unit that closes)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.eventlog.store import EventLog, current_payloads
from pipelines.sample.server import SampleKoladaServer
from pipelines.sample.units import (
    CLOSED_UNIT,
    KPI_KINDS,
    LAST_YEAR_DAY1,
    RENAMED_UNIT,
    unit_world,
)
from pipelines.scope import IngestScope, UnitScope, load_scope
from pipelines.sources.kolada.client import KoladaClient, SuspiciousEmptyAnswer
from pipelines.sources.kolada.ingest import ingest_metadata
from pipelines.sources.kolada.ou_ingest import ingest_ou_values
from pipelines.sources.kolada.records import KoladaParseError, metadata_records, ou_value_records
from pipelines.sources.kolada.streams import OU, OU_VALUE
from tests.conftest import REFERENCE_DIR

YEARS = tuple(range(2016, 2026))
ARVIKA = "1784"


def quiet(_: str) -> None:
    """Progress lines are not under test here."""


def unit_scope(municipalities: object = "all", kpis: tuple[str, ...] = tuple(KPI_KINDS)
               ) -> IngestScope:
    return IngestScope(kpi_groups=(), kpis=("N15436",), kpi_themes={}, municipalities="all",
                       years=YEARS, networks=(),
                       units=UnitScope({"all": kpis}, municipalities))  # type: ignore[arg-type]


def ingest_day(log: EventLog, day: int, scope: IngestScope, *, full: bool = False,
               server: SampleKoladaServer | None = None, **server_opts: object):
    with (server or SampleKoladaServer(day=day, **server_opts)) as srv, \
            KoladaClient(srv.base_url, max_rps=1000.0, backoff_base=0.01) as client:
        meta = ingest_metadata(OU, client, log, run_id=f"day{day}", progress=quiet)
        values = ingest_ou_values(client, log, scope, run_id=f"day{day}", full=full,
                                  progress=quiet)
        return meta, values, srv


# -- parsers -----------------------------------------------------------------------------------


@pytest.mark.skipif(not (REFERENCE_DIR / "ou.json").exists(), reason="shared reference absent")
def test_every_real_unit_of_the_reference_parses() -> None:
    units = json.loads((REFERENCE_DIR / "ou.json").read_text(encoding="utf-8"))
    records = metadata_records(OU, units, "ou.json")
    assert len(records) == len(units) == 35_368
    assert {r.entity_key[:3] for r in records} >= {"V11", "V15", "V17", "V21", "V23", "V26"}


@pytest.mark.parametrize(("row", "field"), [
    ({"kpi": "N15436", "ou": "1784", "period": 2023, "values": []}, "ou"),
    ({"kpi": "N15436", "ou": "V15E1|2", "period": 2023, "values": []}, "ou"),
    ({"kpi": "N15436", "ou": "V15E178402001", "values": []}, "period"),
    ({"kpi": "X1", "ou": "V15E178402001", "period": 2023, "values": []}, "kpi"),
    ({"kpi": "N15436", "ou": "V15E178402001", "period": 2023,
      "values": [{"gender": "X", "value": 1.0}]}, "gender"),
    ({"kpi": "N15436", "ou": "V15E178402001", "period": 2023,
      "values": [{"gender": "T", "value": "high"}]}, "value"),
])
def test_a_malformed_unit_row_names_its_field(row: dict, field: str) -> None:
    with pytest.raises(KoladaParseError, match=rf"^{field}\b.*from page-7"):
        ou_value_records([row], "page-7")


def test_unit_values_parse_to_one_record_per_gender_and_tombstones() -> None:
    rows = [{"kpi": "N15436", "ou": "V15E178402001", "period": "2023", "values": [
        {"gender": "T", "count": 1, "status": None, "value": 80, "isdeleted": False},
        {"gender": "K", "count": 1, "status": "", "value": 12.5, "isdeleted": True}]}]
    t, k = ou_value_records(rows, "p")
    assert t.entity_key == "N15436|V15E178402001|2023|T"
    assert t.payload == {"kpi": "N15436", "ou": "V15E178402001", "period": 2023, "gender": "T",
                         "value": 80.0, "count": 1, "status": ""}
    assert k.deleted and k.payload["value"] is None


def test_the_default_config_lists_unit_kpis_by_theme_for_all_kommuner() -> None:
    scope = load_scope(Path(__file__).resolve().parents[1] / "pipelines/config/default.yaml")
    assert set(scope.units.kpi_themes) >= {"grundskola", "forskola", "aldreomsorg", "lss"}
    assert set(scope.units.kpis) == set(KPI_KINDS)
    assert scope.units.municipalities == "all"


def test_a_unit_kommun_that_is_no_code_is_refused_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("kolada:\n  kpis: [N15436]\n  years: {from: 2020, to: 2021}\n"
                    "units:\n  kpis: {skola: [N15436]}\n  municipalities: [Arvika]\n")
    with pytest.raises(ValueError, match=r"units\.municipalities\[0\].*'Arvika'"):
        load_scope(path)


# -- the client over HTTP ------------------------------------------------------------------------


def test_paging_follows_next_url_to_every_unit_value() -> None:
    with SampleKoladaServer(day=1, max_page_size=500) as server, \
            KoladaClient(server.base_url, max_rps=1000.0) as client:
        chunks = list(client.ou_values(["N15436", "N11102"], None, range(2016, 2025)))
        assert server.request_log.wait_idle()
        pages = [parse_qs(urlsplit(t).query).get("page", ["1"])[0]
                 for t in server.request_log.targets("/oudata/")]
    expected = len(unit_world(1).select(["N15436", "N11102"], None, list(range(2016, 2025))))
    assert sum(c.rows for c in chunks) == expected > 500 * 3
    assert len(pages) == -(-expected // 500) and pages[-1] == str(len(pages))


def test_the_units_of_a_kommun_go_25_ids_per_request() -> None:
    arvika = [u["id"] for u in unit_world(1).units if u["municipality"] == ARVIKA]
    with SampleKoladaServer(day=1) as server, \
            KoladaClient(server.base_url, max_rps=1000.0) as client:
        chunks = list(client.ou_values(["N15436"], arvika, range(2016, 2025)))
        assert server.request_log.wait_idle()
        segments = [urlsplit(t).path.split("/ou/")[1].split("/")[0].split(",")
                    for t in server.request_log.targets("/oudata/")]
    assert len(arvika) > 50 and len(segments) == -(-len(arvika) // 25)
    assert max(len(s) for s in segments) == 25
    assert sorted(x for s in segments for x in s) == sorted(arvika)
    assert {r.payload["ou"][:3] for c in chunks for r in c.records} == {"V15"}


def test_an_empty_unit_answer_to_a_full_fetch_is_suspicious() -> None:
    with SampleKoladaServer(day=1) as server, \
            KoladaClient(server.base_url, max_rps=1000.0) as client:
        server.faults.add(r"/oudata/", "empty")
        with pytest.raises(SuspiciousEmptyAnswer, match="no unit values"):
            list(client.ou_values(["N15436"], None, [2020]))


# -- ingest: from_date, a unit that closes, scoped tombstones --------------------------------------


@pytest.fixture(scope="module")
def day1_log(tmp_path_factory: pytest.TempPathFactory) -> EventLog:
    log = EventLog(tmp_path_factory.mktemp("units") / "events")
    ingest_day(log, 1, unit_scope())
    return log


def test_day1_ingests_every_unit_and_value(day1_log: EventLog) -> None:
    assert len(current_payloads(day1_log, OU)) == len(unit_world(1).units) == 843
    live = day1_log.live_key_count(OU_VALUE, unit_scope_all())
    assert live == unit_world(1).value_count


def unit_scope_all():
    from pipelines.sources.kolada.ou_ingest import ou_value_scope
    return ou_value_scope(list(KPI_KINDS), None, YEARS)


def test_day2_goes_incremental_with_one_day_overlap_and_closes_a_unit(
        day1_log: EventLog, tmp_path: Path) -> None:
    import shutil
    shutil.copytree(day1_log.events_dir, tmp_path / "events")
    log = EventLog(tmp_path / "events")
    meta, values, server = ingest_day(log, 2, unit_scope())
    assert server.request_log.wait_idle()
    ingested_on = day1_recorded_on(log)
    assert values.mode == "incremental"
    assert values.from_date == ingested_on - timedelta(days=1)
    assert all("from_date=" in t for t in server.request_log.targets("/oudata/"))
    # the units: one closed (a tombstone), one renamed (a new version)
    units = current_payloads(log, OU)
    assert CLOSED_UNIT not in units and units[RENAMED_UNIT[0]]["title"] == RENAMED_UNIT[1]
    assert (meta.result.deleted, meta.result.upserted) == (1, 1)
    # the values: exactly the day's changes, the closed school's last year withdrawn
    changed = [v for v in unit_world(2).values.values() if v.changed_day == 2]
    assert values.result.deleted == sum(v.deleted for v in changed)
    assert values.result.upserted == sum(not v.deleted for v in changed)
    assert log.live_key_count(OU_VALUE, unit_scope_all()) == unit_world(2).value_count
    closed = {k for k in unit_world(2).values if k[1] == CLOSED_UNIT and k[2] == LAST_YEAR_DAY1}
    assert closed and all(unit_world(2).values[k].deleted for k in closed)


def day1_recorded_on(log: EventLog):
    import pyarrow.compute as pc
    ledger = log.ledger()
    rows = ledger.filter(pc.equal(ledger["stream"], OU_VALUE.name))
    return pc.min(rows["recorded_at"]).as_py().date()


def test_a_full_fetch_for_one_kommun_tombstones_only_inside_its_units(
        day1_log: EventLog, tmp_path: Path) -> None:
    """Day 2 fetched for Arvika only: the closed Arvika school's withdrawn values become
    tombstones; values other kommuner's units lost on day 2 stay live (outside the scope)."""
    import shutil
    shutil.copytree(day1_log.events_dir, tmp_path / "events")
    log = EventLog(tmp_path / "events")
    _, values, server = ingest_day(log, 2, unit_scope([ARVIKA]), full=True)
    assert server.request_log.wait_idle()
    assert values.mode == "full"
    assert all("/ou/" in t for t in server.request_log.targets("/oudata/"))
    w1, w2 = unit_world(1), unit_world(2)
    arvika = {u["id"] for u in w1.units if u["municipality"] == ARVIKA} - {CLOSED_UNIT}
    gone = {k for k, v in w2.values.items() if v.deleted and k in w1.values
            and not w1.values[k].deleted}
    inside = {k for k in gone if k[1] in arvika}
    outside = gone - inside
    assert outside, "the sample must withdraw values outside Arvika on day 2"
    assert values.result.deleted == len(inside)
    added = {k for k, v in w2.values.items() if k not in w1.values and k[1] in arvika}
    assert log.live_key_count(OU_VALUE, unit_scope_all()) == \
        w1.value_count - len(inside) + len(added)
    # the closed school left the ou stream before the fetch, so its units are not asked for
    # and its withdrawn 2024 values stay live: a scope never covers what it did not ask
    assert all(k[1] != CLOSED_UNIT for k in inside)


def test_history_of_a_unit_value_lists_its_events(day1_log: EventLog, tmp_path: Path) -> None:
    from pipelines.operations.history import render, unit_value_history

    key = next(k for k, v in sorted(unit_world(1).values.items()) if not v.deleted)
    found = unit_value_history(day1_log, tmp_path / "published", key[0], key[1], year=key[2])
    assert [e["entity_key"] for e in found.events] == [f"{key[0]}|{key[1]}|{key[2]}|T"]
    assert found.events[0]["payload"]["value"] == unit_world(1).values[key].value
    assert "/oudata/" in found.events[0]["source"] and "none kept" in render(found)


def test_the_bulk_unit_path_equals_the_record_path_byte_for_byte() -> None:
    """ou_values_arrow must hash exactly as records.ou_value_records + records_to_table would,
    or every unit value would look revised; awkward numbers and tombstones included."""
    import json as _json

    from pipelines.eventlog.store import records_to_table
    from pipelines.sources.kolada.ou_values_arrow import incoming_from_ou_pages, read_ou_page

    rows = unit_world(2).select(None, None, None, since_day=1)  # tombstones too
    rows = [*(r for r in rows if not r["values"][0]["isdeleted"])][:200] + \
        [r for r in rows if r["values"][0]["isdeleted"]]
    odd = [0.1 + 0.2, 1e-05, 80, 1e17, 0.0, 12.5]
    rows += [{"kpi": "N15436", "ou": f"V15E9{i:05d}", "period": 2024, "values": [
        {"gender": g, "count": None if i % 2 else 3, "status": "Å \"x\"" if i % 3 else "",
         "value": v, "isdeleted": False}]}
        for i, v in enumerate(odd) for g in ("K", "M")]
    body = _json.dumps({"values": rows, "count": len(rows), "next_url": None}).encode()
    page = read_ou_page(body)
    assert page is not None and page.rows == len(rows)
    bulk = incoming_from_ou_pages([("u", page.values)])
    ref = records_to_table(ou_value_records(rows, "u"))
    assert ref.num_rows == len(rows)  # one value per row, one row per key
    columns = ("entity_key", "payload", "payload_hash", "deleted")
    assert sorted(zip(*(bulk[c].to_pylist() for c in columns), strict=True)) == \
        sorted(zip(*(ref[c].to_pylist() for c in columns), strict=True))


def test_a_unit_page_the_bulk_reader_cannot_vouch_for_takes_the_checked_path() -> None:
    from pipelines.sources.kolada.ou_values_arrow import read_ou_page

    row = {"kpi": "N15436", "ou": "V11E26..", "period": 2024,
           "values": [{"gender": "T", "count": 1, "status": "", "value": 1.0}]}
    body = json.dumps({"values": [row], "count": 1, "next_url": None}).encode()
    assert read_ou_page(body) is None  # the real list's odd id: Python decides
    assert ou_value_records([row], "p")[0].entity_key == "N15436|V11E26..|2024|T"
    assert read_ou_page(body.replace(b'"period": 2024', b'"period": "2024"')) is None


def test_history_of_a_closed_units_value_says_the_unit_closed(
        day1_log: EventLog, tmp_path: Path) -> None:
    """`history N15436 <closed unit>` after day 2: the value's tombstone, and the unit's own
    events (listed on day 1, no longer listed on day 2), as mart_revisions' unit_closed says."""
    import shutil

    from pipelines.operations.history import render, unit_value_history

    shutil.copytree(day1_log.events_dir, tmp_path / "events")
    log = EventLog(tmp_path / "events")
    ingest_day(log, 2, unit_scope())
    found = unit_value_history(log, tmp_path / "published", "N15436", CLOSED_UNIT,
                               year=LAST_YEAR_DAY1)
    assert [e["event"] for e in found.events] == ["upserted", "deleted"]
    assert [e["event"] for e in found.unit_events] == ["upserted", "deleted"]
    assert found.unit_events[0]["payload"]["title"] == "Klässbols skola"
    text = render(found)
    assert f"the unit ({OU.name}):" in text and "closed: Kolada no longer lists it" in text
    assert "title = Klässbols skola" in text
    renamed = unit_value_history(log, tmp_path / "published", "N15436", RENAMED_UNIT[0])
    assert [e["payload"]["title"] for e in renamed.unit_events] == \
        ["Jössefors skola", RENAMED_UNIT[1]]
    assert found.as_dict()["unit_events"] == found.unit_events
