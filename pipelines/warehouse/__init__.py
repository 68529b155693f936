"""Everything around the dbt build of the warehouse (`warehouse.duckdb`): the per-build dbt
vars (`build_vars.py`), the cached dbt project and its manifest (`dbt_project.py`), what dbt
prints and how it becomes progress and summaries (`dbt_output.py`, `dbt_metadata.py`,
`dbt_checks.py`), the mart contract read from the marts' yml (`marts.py`), the fingerprint of
what a build depends on (`fingerprint.py`) and the run-level warehouse reservation
(`reservation.py`). What does not belong here: the SQL (dbt_project/), the Dagster assets that
run dbt (assets/dbt.py), and any reader of the warehouse outside dbt: only dbt opens it.
"""
