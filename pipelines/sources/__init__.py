"""The platform's sources, one folder each: its client or file reader, its record parsing and
the declaration of its streams (`streams.py`), collected by `registry.py`; `landing.py` moves
imported files. What does not belong here: how events are stored (eventlog/) or modelled
(dbt_project/ staging), and Dagster assets (assets/); a source's `resource.py` is the one
Dagster-facing piece, configured by orchestration/."""
