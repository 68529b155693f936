"""Kolada API v3: pure record parsers (`records`) and an HTTP client (`client`).

The parsers are kept free of I/O so that the same code normalises live pages, the local sample
server's pages and the captured reference files. The client, the streams, the ingest into the
event log and the Dagster resource live here too; what does not: the KKiK curation and
scoring (dbt_project/).
"""
