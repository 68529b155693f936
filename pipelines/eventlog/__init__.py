"""The append-only event log: immutable Parquet files, one per batch per stream."""
