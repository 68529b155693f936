"""Leave the process as soon as a command is done.

With Dagster, dbt and Great Expectations loaded, Python's own shutdown (clearing every
module and collecting what they hold) takes 1-1.5 s after the summary's last line: a
command that took 20 s then seems to hang. The console script ends like Python does, minus
that teardown: it waits for the threads a normal exit waits for, runs the atexit handlers
(log handlers flushed, temporary folders removed, SQLite and DuckDB handles closed by their
owners), flushes stdout and stderr, and exits with the command's code. Only the console
script and `python -m pipelines.cli` end this way; `main()` called in-process (the tests)
returns as always.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable


def run_and_exit(main: Callable[[], int]) -> None:
    code = main()
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # what sys.exit would run, in the same order
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing left to say
            pass
    os._exit(code if isinstance(code, int) else 1)
