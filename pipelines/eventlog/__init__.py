"""The append-only event log: immutable Parquet files, one per batch per stream, and its ledger.

Layered one way: `layout.py` (folders, the empty typed files, atomic durable writes, the
ledger's rows) under `state.py` (each stream's derived current state), `trust.py` (the cache
of verified files) and `integrity.py` (checksums against the ledger, quarantine), all under
`store.py` (`EventLog`: appends, reads, replay). `schema`, `ledger`, `streams`, `lock`,
`crash` and `checksums` are leaves. What does not belong here: knowledge of any source (a
source declares its streams with `streams.StreamSpec`) or of dbt.
"""
