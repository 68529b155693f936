"""The argument parser: the program's options, then each command's (from its module)."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from pipelines.cli.commands import COMMANDS
from pipelines.cli.options import output_options


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kommunkvalitet")
    except PackageNotFoundError:
        return "unknown"


def _epilog(command: Any) -> str:
    """What every command's --help ends with: examples, and the environment variables it reads."""
    text = "examples:\n" + "\n".join(f"  {line}" for line in command.EXAMPLES)
    if command.ENVIRONMENT:
        text += "\n\nenvironment (README: Settings):\n" + textwrap.fill(
            ", ".join(command.ENVIRONMENT), width=78, initial_indent="  ",
            subsequent_indent="  ")
    return text + "\n\nexit codes: 0 ok, 1 failed, 2 usage or settings error, 3 blocked by a check"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kommunkvalitet",
        description="Event-sourced platform for Swedish municipal quality data (Kolada, KKiK).",
        epilog="`kommunkvalitet COMMAND --help` shows each command's examples and settings.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    output_options(parser, False)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        extra = {"description": command.DESCRIPTION} if getattr(
            command, "DESCRIPTION", None) else {}
        sub = subparsers.add_parser(command.NAME, help=command.HELP, epilog=_epilog(command),
                                    formatter_class=argparse.RawDescriptionHelpFormatter,
                                    **extra)
        # SUPPRESS: a flag given before the command is not reset by the command's default
        output_options(sub, argparse.SUPPRESS)
        command.add_arguments(sub)
    return parser
