"""One module per `kommunkvalitet` command, named after it (`import` is `import_.py`).

Each module declares NAME, HELP, EXAMPLES and ENVIRONMENT (what its --help shows; DESCRIPTION
when it has one), `add_arguments(parser)` and `run(args, settings) -> exit code`.
`NEEDS_DATA_DIR = False` marks the one command that runs without a data dir. COMMANDS is the
order `kommunkvalitet --help` lists them in.
"""

from pipelines.cli.commands import (
    assessment_template,
    build,
    diff,
    docs,
    history,
    import_,
    ingest,
    publish,
    refresh,
    report,
    rollback,
    status,
    verify,
)

COMMANDS = (ingest, refresh, build, publish, import_, assessment_template, rollback, status,
            verify, history, diff, docs, report)
BY_NAME = {command.NAME: command for command in COMMANDS}
