"""Operating the platform: alerts, freshness, and the commands that answer "is it healthy, is
this number current, why did it change" (`status`, `history`, `diff`). Everything here reads
the event log, the ledger, the Dagster instance and `published/`; never the warehouse, whose
one writer (dbt) a reader would block. What does not belong here: the commands' argument
parsing and printing of results beyond `render` (cli/)."""
