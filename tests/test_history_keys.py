"""`kommunkvalitet history` with a key the event log does not know: one line that says which
part is unknown and what is close (exit 2), and a kommun given by its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.sources.kolada.streams import KPI, KPI_VALUE, MUNICIPALITY
from tests.eventlog_helpers import Rec, value


@pytest.fixture
def log(data_dir: Path) -> EventLog:
    log = EventLog(data_dir / "events")
    kpis = [Rec(k, {"id": k, "title": t}) for k, t in (
        ("N15428", "Elever i åk 9 som är behöriga till ett yrkesprogram"),
        ("N15030", "Elever i åk 9 med lägst betyget E i matematik"))]
    units = [Rec(c, {"id": c, "title": t, "type": "K"}) for c, t in (
        ("1784", "Arvika"), ("1785", "Säffle"), ("0114", "Upplands Väsby"),
        ("1442", "Vårgårda"), ("1470", "Vara"))]
    for stream, records in ((KPI, kpis), (MUNICIPALITY, units)):
        log.append(stream, records_to_table(records), batch_id=f"b-{stream.name}",
                   snapshot=None, scope_source="test")
    log.append(KPI_VALUE, records_to_table([value("N15428", "1784", 2023, 81.5)]),
               batch_id="b-values", snapshot=None, scope_source="test")
    return log


def test_a_kommun_by_its_name_is_its_code(log: EventLog,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "N15428", "arvika", "--year", "2023"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "history of N15428 1784 2023"
    assert "81.5" in out
    assert main(["history", "N15428", "Vara"]) == 1  # a name starting with V is a kommun: no events
    assert "history of N15428 1470" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "says"), [
    (["N99999", "1784"], "unknown KPI 'N99999': the event log's KPI metadata has no such id"),
    (["N15482", "1784"], "did you mean N15428"),
    (["N15428", "9999"], "unknown kommun code '9999': no municipality 9999 in the event log"),
    (["N15428", "Arvka"], ("unknown kommun 'Arvka': give its 4-digit code or its name as "
                           "Kolada writes it; did you mean Arvika (1784)?")),
])
def test_an_unknown_key_says_which_part_in_one_line(
        log: EventLog, capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    assert main(["history", *argv]) == 2
    out = capsys.readouterr()
    [line] = out.err.splitlines()
    assert line.startswith("kommunkvalitet: ") and says in line
    assert out.out == ""
