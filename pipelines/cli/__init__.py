"""The `kommunkvalitet` command line: the top of the house.

`app.main` parses the arguments and hands each command to its module in `commands/` (one
module per command, named after it: `commands/refresh.py`, `commands/history.py`, ...). The
commands that change data run the platform's Dagster jobs in-process on the shared instance
(`jobs.run_job`, the same definitions the schedule and the UI use) and print a readable
summary (`summary`); the readers (`status`, `history`, `diff`, `verify`, `report`) call the
library directly and never open the warehouse. What belongs here: argument parsing, turning
flags into run config, exit codes and what the operator reads. What does not: any work a
schedule or a sensor would also need; that lives in the library below, so nothing in
`pipelines` outside this package imports it.
"""

from pipelines.cli.app import main
from pipelines.cli.exit import run_and_exit


def entry() -> None:
    """The console script: main(), then a prompt exit (pipelines.cli.exit)."""
    run_and_exit(main)


__all__ = ["entry", "main"]
