"""The CLI's exit codes (README: Exit codes) and how a finished Dagster run maps to one."""

from __future__ import annotations

from typing import Any

# Exit codes: 0 ok, 1 failed, 2 usage or settings error, 3 blocked by a check (a failing
# blocking check in a build, or the publishing gate refusing).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BLOCKED = 0, 1, 2, 3


def is_data_error(exc: BaseException) -> bool:
    """Damaged data on disk (named by the exception) or an OS error such as a full disk: one
    line naming the file, not a traceback. The exception classes are imported here, when one
    is raised, not at start: their modules pull in the publisher and pyarrow, which `status`
    or `--help` do not need."""
    from pipelines.eventlog.integrity import CorruptEventLog
    from pipelines.publish.versions import InvalidManifest

    return isinstance(exc, InvalidManifest | CorruptEventLog | OSError)


def exit_code(result: Any) -> int:
    """The CLI's exit code of a finished run (see EXIT_*)."""
    from dagster import DagsterEventType

    from pipelines.operations.alerts import root_cause

    if result.success:
        return EXIT_OK
    blocked = any(
        e.event_specific_data.severity.value == "ERROR" and not e.event_specific_data.passed
        for e in result.all_events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ) or any(
        root_cause(e.step_failure_data.error).startswith("PublishBlocked")
        for e in result.all_events if e.is_step_failure
    )
    return EXIT_BLOCKED if blocked else EXIT_FAILED
