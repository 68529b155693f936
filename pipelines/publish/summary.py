"""What a publication keeps of a mart once its files are written: a few numbers, not its rows.

The publisher reads one mart at a time, writes its files and lets its table go (on workload M
the marts together are over 2 GB of Arrow, the largest alone ~0.5 GB). What comes after the
files — the manifest, the sharing keys, the data dictionary — needs only this summary:
the schema, the row count, the content hash and the KPIs the mart's rows name.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.publish.hashing import content_hash


@dataclass(frozen=True)
class MartSummary:
    schema: pa.Schema
    num_rows: int
    content_hash: str
    # the distinct kpi_id values of the rows (None: the mart has no kpi_id column); the
    # Excel files round to these KPIs' decimals (sharing._decimals_used)
    kpi_ids: frozenset[str] | None

    @classmethod
    def of(cls, table: pa.Table) -> MartSummary:
        kpi_ids = None
        if "kpi_id" in table.column_names:
            kpi_ids = frozenset(k for k in pc.unique(table.column("kpi_id")).to_pylist()
                                if k is not None)
        return cls(table.schema, table.num_rows, content_hash(table), kpi_ids)

    @property
    def column_names(self) -> list[str]:
        """As pa.Table's: the manifest, attribution and dictionary read a summary like a table."""
        return self.schema.names
