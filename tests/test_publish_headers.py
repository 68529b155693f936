"""Swedish headers come from the contract and cover it, so no published CSV falls back to English."""

from __future__ import annotations

import pyarrow as pa

from pipelines.publish.dictionary import header_row
from pipelines.warehouse.marts import mart_contracts


def test_every_contract_column_has_a_swedish_header() -> None:
    for mart, contract in mart_contracts().items():
        for column in contract.columns:
            assert column.header_sv.strip() and column.header_sv != column.name, (mart, column)


def test_headers_are_unique_within_each_mart() -> None:
    for mart, contract in mart_contracts().items():
        headers = [c.header_sv for c in contract.columns]
        assert len(headers) == len(set(headers)), mart


def test_header_row_follows_the_table_order_not_the_contract_order() -> None:
    table = pa.table({"value": [1.0], "municipality_id": ["0180"], "kpi_id": ["N1"]})
    assert header_row("fct_kpi_values", table) == ["Värde", "Kommunkod", "Nyckeltal id"]


def test_header_row_keeps_unmapped_column_names() -> None:
    table = pa.table({"kpi_id": ["N1"], "brand_new": [1]})
    assert header_row("dim_kpi", table) == ["Nyckeltal id", "brand_new"]
    assert header_row("not_a_mart", table) == ["kpi_id", "brand_new"]
