"""dictionary_sv.csv is Swedish: every published column described in Swedish, no English text.

The English descriptions stay in dictionary_en.csv (for engineers)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.publish.descriptions_sv import MissingSwedish, swedish_descriptions
from pipelines.publish.dictionary import dictionary_records, write_dictionary
from pipelines.warehouse.marts import mart_contracts

# words that are everyday English and never Swedish: one of them in a Swedish text means an
# English description slipped in
ENGLISH = re.compile(r"\b(the|when|which|with|without|from|value|values|year|rank|of|is|"
                     r"not|and|or|null|per cent|whether|latest|mean)\b")
# words the Swedish texts may use as they are: column names, codes and proper names
ALLOWED = {"value", "count", "status", "title", "name"}


def _empty_tables() -> dict[str, pa.Table]:
    """Every published mart as an empty table with its contract's columns (plus a year
    column of mart_kpi_wide's configurable range, to exercise its pattern)."""
    tables = {}
    for mart, contract in mart_contracts().items():
        names = list(contract.column_names)
        if mart == "mart_kpi_wide":
            names.append("y2031")
        tables[mart] = pa.table({n: pa.array([], pa.string()) for n in names})
    return tables


def _english_words(text: str) -> list[str]:
    # column names in backticks or snake_case are names, not prose
    prose = re.sub(r"\b\w+_\w+\b", "", text)
    return [w for w in ENGLISH.findall(prose.lower()) if w not in ALLOWED]


def test_every_published_column_has_a_swedish_description() -> None:
    records = dictionary_records(_empty_tables())
    assert len(records) == sum(len(c.columns) for c in mart_contracts().values()) + 1
    for record in records:
        where = f"{record['mart']}.{record['column']}"
        swedish, english = record["description_sv"], record["description"]
        assert swedish, f"{where}: no Swedish description"
        assert "(engelska)" not in swedish, where
        assert swedish != english, f"{where}: the English text in the Swedish dictionary"
        assert not _english_words(swedish), (where, _english_words(swedish), swedish)


def test_the_swedish_file_carries_the_swedish_text_and_the_english_file_the_english(
    tmp_path: Path,
) -> None:
    write_dictionary(dictionary_records(_empty_tables()), tmp_path)
    with open(tmp_path / "dictionary_sv.csv", encoding="utf-8-sig", newline="") as fh:
        swedish = list(csv.DictReader(fh, delimiter=";"))
    with open(tmp_path / "dictionary_en.csv", encoding="utf-8-sig", newline="") as fh:
        english = list(csv.DictReader(fh, delimiter=";"))
    assert len(swedish) == len(english) > 400
    assert not [r for r in swedish if "(engelska)" in r["Beskrivning"] or not r["Beskrivning"]]
    row = next(r for r in swedish
               if r["Tabell"] == "mart_kkik_board" and r["Kolumn"] == "direction")
    assert row["Beskrivning"].startswith("Vilket håll som är bättre")
    assert "higher_better = Högre är bättre" in row["Kod i Parquet/DuckDB = text i CSV/xlsx"]
    wide = next(r for r in swedish if r["Kolumn"] == "y2031")
    assert wide["Beskrivning"] == "Värde år 2031 (kön totalt); tomt utan värde."
    en_row = next(r for r in english
                  if r["Table"] == "mart_kkik_board" and r["Column"] == "direction")
    assert en_row["Description"].startswith("higher_better, lower_better")


def test_a_contract_column_without_swedish_text_is_refused() -> None:
    with pytest.raises(MissingSwedish, match="descriptions_sv.yaml"):
        swedish_descriptions().require("mart_kkik_board", "a_column_nobody_described")


def test_every_mart_has_a_swedish_grain() -> None:
    for mart in mart_contracts():
        assert swedish_descriptions().grain(mart), mart
