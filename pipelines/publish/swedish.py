"""Swedish conventions a reader expects, shared by the files and the report.

- Times in Stockholm time with the zone named (CET in winter, CEST in summer), never bare UTC:
  an analyst reads "03:43 CET", not "02:43:04 UTC".
- Names in Swedish alphabetical order: Å, Ä, Ö come after Z, in that order (Språkrådet; the
  order of Nationalencyklopedin and every Swedish list), whereas Unicode code points put Ä
  before Å and a naive sort puts "Ånge" before "Älmhult". Ü sorts as Y and É as E, as in
  Swedish dictionaries. Python's `locale.strxfrm` would need the sv_SE locale installed on
  every machine, so the key is written out here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ZONE_WORDS = {"CET": "svensk normaltid", "CEST": "svensk sommartid"}

# a letter -> the letters it sorts as; Å Ä Ö get code points after z (and after each other)
_FOLD = str.maketrans({
    "å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}", "ü": "y", "é": "e", "è": "e", "á": "a",
    "à": "a", "ô": "o", "ç": "c",
})


def sv_key(name: str | None) -> tuple[str, str]:
    """Sort key for Swedish alphabetical order (case-insensitive; ties by the name itself)."""
    text = (name or "").casefold()
    return text.translate(_FOLD), name or ""


def sv_sorted(names, key=None):
    """`sorted` in Swedish order; `key` picks the name from an item."""
    pick = key or (lambda x: x)
    return sorted(names, key=lambda item: sv_key(pick(item)))


def stockholm(value: str | datetime) -> datetime:
    """An ISO-8601 time (with offset) or an aware datetime, in Stockholm time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; cannot show it in Stockholm time")
    return value.astimezone(STOCKHOLM)


def stockholm_text(value: str | datetime, *, seconds: bool = False) -> str:
    """`2026-12-07 03:43 CET (svensk normaltid)`: Stockholm time, the zone named."""
    try:
        local = stockholm(value)
    except (ValueError, TypeError):
        return str(value)
    zone = local.tzname() or ""
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    words = ZONE_WORDS.get(zone)
    return f"{shown} {zone}" + (f" ({words})" if words else "")
