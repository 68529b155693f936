"""Swedish headers cover the contract, so no published CSV falls back to English names."""

from __future__ import annotations

import pyarrow as pa

from pipelines.checks.contract import load_contract
from pipelines.publish.dictionary import header_row, headers_sv


def test_headers_cover_every_contract_column_and_nothing_else() -> None:
    contract = load_contract()
    mapped = {mart: list(cols) for mart, cols in headers_sv().items()}
    assert mapped == {mart: c.columns for mart, c in contract.items()}


def test_headers_are_unique_within_each_mart() -> None:
    for mart, cols in headers_sv().items():
        headers = [spec["header"] for spec in cols.values()]
        assert len(headers) == len(set(headers)), mart


def test_header_row_keeps_unmapped_column_names() -> None:
    table = pa.table({"kpi_id": ["N1"], "brand_new": [1]})
    assert header_row("dim_kpi", table) == ["Nyckeltal id", "brand_new"]
