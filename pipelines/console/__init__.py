"""What a run looks like to the operator: the concise console logger of every Dagster run and
the per-run log file (`logger.py`), and the live display on a terminal (`terminal.py`, fed
through the progress hub `pipelines.progress`). What belongs here: formatting and drawing.
What does not: deciding what to run (cli/, orchestration/) or what a step reports (the library
calls `progress.advance` and logs; it never imports this package).
"""
