"""Kommunkompassen assessments, typed by analysts into an import file the platform defines.

SKR publishes no machine-readable export (docs/assessment-import.md), so this source reads a
CSV or Excel file a person filled in by hand. The reader is pure (no Dagster, no event log):
it turns one file into source records plus a list of rejected rows and warnings, so that the
landing sensor, the CLI and the tests all validate a file the same way.

Modules, one concern each: `areas` (the 8 areas of each version and label matching), `streams`
(the stream declaration), `problems` (what a rejected row or an unusable file looks like),
`cells` (numbers and text as typed in Swedish Excel), `table` with `csv_table`, `xlsx_table`
and `grid` (bytes -> rows of text cells), `columns` (header folding), `municipalities` (code or
name -> code), `rows` and `row_areas` (one row -> one fact), `assessments` (checks across the
rows of one assessment, and the records), `reader` (the entry point), `report` (the quarantine
report) and `template` (a ready-to-fill file). What does not belong here: the profiles and
scores the marts make of the assessments (dbt_project/).
"""
