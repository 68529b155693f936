"""The kommunkvalitet library, in layers whose imports run one way (docs/architecture.md).

Top: `cli/` (the `kommunkvalitet` command) and `orchestration/` (the Dagster wiring: jobs,
resources, definitions, the instance), with `console/` (how a run looks to the operator) just
below them; nothing else imports these. Middle, the library: `sources/`, `eventlog/`,
`warehouse/` (everything around the dbt build), `checks/`, `publish/`, `report/`,
`operations/`, `sample/`. Bottom, the core every layer may use and that imports nothing above
it: `settings.py` (every environment variable and path), `scope.py` (KK_CONFIG), `durable.py`
(fsync'd renames), `progress.py` (the progress hub) and `base_url.py`. tests/test_imports.py
fails when an import circle appears or an arrow points up.
"""
