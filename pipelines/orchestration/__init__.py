"""The Dagster wiring: jobs and schedules (`jobs.py`), resources (`resources.py`), the
composition roots (`definitions.py` for the workspace, the daemon and the UI;
`ingest_definitions.py`, the same ingest jobs without dbt and GX, for the CLI's ingest-only
runs) and the shared persistent instance (`instance/`). What belongs here: how the library's
work is composed into Dagster objects and run. What does not: the work itself (the asset
bodies in `assets/` call the library) and anything the library needs; no module of the
library imports this package.
"""
