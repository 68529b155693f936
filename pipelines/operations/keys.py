"""The keys an operator types (`history N15428 Arvika`), checked against the event log.

A KPI id or a kommun that the log has never heard of is a typo far more often than a value
nobody recorded: say which part is unknown and what is close, and accept a kommun's name
where exactly one kommun has it (Kolada's own titles, any case).
"""

from __future__ import annotations

from difflib import get_close_matches

from pipelines.eventlog.store import EventLog, current_payloads
from pipelines.sources.kolada.streams import KPI, MUNICIPALITY


class UnknownKey(ValueError):
    """A KPI or kommun the event log does not know; the message says what is close."""


def resolve_kpi(log: EventLog, text: str) -> str:
    kpis = current_payloads(log, KPI)
    wanted = text.strip().upper()
    if wanted in kpis or not kpis:  # an empty log: nothing to say about it here
        return wanted
    close = get_close_matches(wanted, list(kpis), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownKey(f"unknown KPI {text!r}: the event log's KPI metadata has no such id"
                     f"{hint}")


def resolve_municipality(log: EventLog, text: str) -> str:
    """A 4-digit code the log knows, or the code of the one kommun named `text`."""
    units = current_payloads(log, MUNICIPALITY)
    wanted = text.strip()
    if wanted in units or not units:
        return wanted
    if wanted.isdigit():
        raise UnknownKey(f"unknown kommun code {text!r}: no municipality {wanted} in the "
                         "event log (codes have 4 digits, e.g. 1784 for Arvika)")
    names = {str(p.get("title") or ""): code for code, p in units.items()}
    named = [code for name, code in names.items() if name.casefold() == wanted.casefold()]
    if len(named) == 1:
        return named[0]
    close = get_close_matches(wanted, list(names), n=3, cutoff=0.6)
    hint = ("; did you mean " + ", ".join(f"{n} ({names[n]})" for n in close) + "?"
            if close else "")
    raise UnknownKey(f"unknown kommun {text!r}: give its 4-digit code or its name as Kolada "
                     f"writes it{hint}")
