"""`kommunkvalitet history KPI MUNICIPALITY`: every event of one key and what each kept
publication showed."""

from __future__ import annotations

import argparse
import json

from pipelines.settings import Settings, SettingsError

NAME = "history"
HELP = "every recorded value of one key and what each publication showed"
DESCRIPTION = ("Every event of the key (when recorded, which batch, which source URL or "
               "file) and the value each kept publication showed: why did this number change?")
EXAMPLES = ("kommunkvalitet history N15428 1784 --year 2023",
            "kommunkvalitet history N15428 Arvika",
            "kommunkvalitet history --assessment 1784 2022 --json")
ENVIRONMENT = ("KK_DATA_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kpi", nargs="?", help="Kolada KPI id, e.g. N15428")
    parser.add_argument("municipality", nargs="?",
                        help="4-digit municipality code, e.g. 1784, or its name (Arvika)")
    parser.add_argument("--year", type=int, help="one period only")
    parser.add_argument("--gender", choices=("T", "K", "M"), help="one gender only")
    parser.add_argument("--assessment", nargs=2, metavar=("MUNICIPALITY", "YEAR"),
                        help="a Kommunkompassen assessment instead of a KPI value")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.eventlog.store import EventLog
    from pipelines.operations.history import assessment_history, render, value_history
    from pipelines.operations.keys import UnknownKey, resolve_kpi, resolve_municipality

    log, published = EventLog(settings.layout.events_dir), settings.layout.published_dir
    try:
        if args.assessment:
            municipality, year = args.assessment
            if not year.isdigit():
                raise SettingsError(f"--assessment YEAR must be a year, got {year!r}")
            found = assessment_history(log, published, resolve_municipality(log, municipality),
                                       int(year))
            field_name = "score"
        else:
            if not args.kpi or not args.municipality:
                raise SettingsError("history needs KPI and MUNICIPALITY (or --assessment "
                                    "MUNICIPALITY YEAR)")
            found = value_history(log, published, resolve_kpi(log, args.kpi),
                                  resolve_municipality(log, args.municipality),
                                  year=args.year, gender=args.gender)
            field_name = "value"
    except UnknownKey as exc:
        raise SettingsError(str(exc)) from exc
    print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2, default=str) if args.json
          else render(found, value_field=field_name))
    return 0 if found.events else 1
