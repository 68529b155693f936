"""What one synthetic KPI looks like: its value profile, gender split and v3 metadata object.

Kept apart from the day-by-day generator (generator.py) because these are per-KPI facts that
never change between days, and from the world's types (world.py) that the server reads.

Why hashlib seeds: Python's `hash()` is salted per process and the global `random` is shared
state; both would make "day 2" differ between the server process and the test process.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

# The synthetic world's own day on Kolada's release calendar. Its KPIs announce releases
# between February and November 2026 (kpi_object), made up once; measured against the real
# run date they would all be overdue from December on, and a newcomer's first run on the
# sample would warn about 50 stale KPIs. Freshness reads this day for a sample-fed log
# (pipelines.operations.freshness.calendar_today); a live log uses the real date.
SAMPLE_CALENDAR_DAY = date(2026, 2, 1)

SYNTHETIC_NOTE = (
    "Syntetiskt exempeldata för test och demonstration, inte Kolada-data. "
    "Id, titel och gruppering följer Kolada; värden och beskrivning är påhittade."
)


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from text, identical in every process and Python version."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def rng_for(*parts: object) -> np.random.Generator:
    return np.random.default_rng(stable_seed("kommunkvalitet-sample", *parts))


# -- value profiles -----------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How the values of one KPI are distributed: picked from the unit in its title."""

    kind: str
    level: float
    spread: float  # between municipalities (log units when `log`)
    trend: float  # per year (log units when `log`)
    noise: float  # year to year
    lo: float
    hi: float
    decimals: int
    log: bool = False


# Economy KPIs whose "(%)" is not a 0-100 share; (keyword, level, spread, lo, hi, decimals).
_SPECIAL_PERCENT = (
    ("Skattesats", 21.9, 0.7, 18.0, 24.5, 2),
    ("Nettokostnadsavvikelse", 0.0, 5.0, -30.0, 30.0, 1),
    ("Årets resultat", 3.0, 3.0, -20.0, 20.0, 1),
    ("Soliditet", 25.0, 18.0, -40.0, 85.0, 1),
    ("Kassalikviditet", 100.0, 35.0, 10.0, 300.0, 1),
    ("Självfinansieringsgrad", 85.0, 35.0, 0.0, 400.0, 1),
    ("Sjukfrånvaro totalt", 7.5, 1.5, 1.0, 30.0, 1),
    ("Avgångna", 10.0, 3.0, 0.0, 50.0, 1),
)


def profile_for(kpi_id: str, title: str) -> Profile:
    """A plausible distribution for the unit named in the last part of a Kolada KPI title."""
    r = rng_for("profile", kpi_id)
    low = title.lower()
    unit = low.rpartition(", ")[2] if ", " in low else ""
    for keyword, level, spread, lo, hi, dec in _SPECIAL_PERCENT:
        if keyword.lower() in low:
            return Profile("percent", level, spread, r.uniform(-0.1, 0.1) * spread,
                           spread * 0.15, lo, hi, dec)
    if "(%)" in unit or not unit:
        return Profile("percent", r.uniform(35, 90), r.uniform(4, 11), r.uniform(-0.5, 0.9),
                       r.uniform(0.8, 3.0), 0.0, 100.0, 1)
    if "kr/" in unit:
        # "kr/inv" costs are thousands per inhabitant; per child/pupil/80+ they are far higher.
        level = r.uniform(2_500, 12_000) if unit.strip() == "kr/inv" else \
            r.uniform(90_000, 260_000)
        return Profile("cost", level, 0.15, 0.03, 0.03, 0.0, 1e9, 0, log=True)
    if low.startswith("invånare totalt"):
        return Profile("population", 16_000.0, 1.0, 0.004, 0.004, 2_400.0, 1e6, 0, log=True)
    if "dagar" in unit or "väntetid" in low:
        return Profile("days", r.uniform(20, 90), 15.0, -0.5, 6.0, 1.0, 365.0, 0)
    if "index" in unit:
        return Profile("index", r.uniform(60, 82), 5.0, r.uniform(-0.3, 0.6), 2.0,
                       0.0, 100.0, 0)
    if "kg/" in unit:
        return Profile("rate", r.uniform(380, 520), 45.0, -2.0, 12.0, 150.0, 900.0, 0)
    if "antal/1000" in unit:
        return Profile("rate", r.uniform(40, 400), 60.0, 1.0, 20.0, 0.0, 5_000.0, 1)
    if "antal/" in unit:
        return Profile("rate", r.uniform(10, 40), 5.0, 0.1, 2.0, 0.0, 500.0, 1)
    # "antal" or "medelvärde": small counts per unit, e.g. children per staff member.
    return Profile("count", r.uniform(4, 18), 2.0, -0.05, 0.8, 0.0, 200.0, 1)


_GENDER_EXCLUDED = re.compile(
    r"kostnad|skattesats|soliditet|likviditet|resultat|självfinansiering|index|fordon|"
    r"livsmedel|avfall|invånare",
    re.IGNORECASE,
)


def gender_divided(kpis: Sequence[dict[str, str]]) -> frozenset[str]:
    """About a third of the KPIs, picked by stable hash among those about people."""
    candidates = [k["id"] for k in kpis if not _GENDER_EXCLUDED.search(k["title"])]
    candidates.sort(key=lambda kpi_id: stable_seed("gender", kpi_id))
    return frozenset(candidates[: round(len(kpis) / 3)])


def kpi_object(kpi: dict[str, str], divided: bool, profile: Profile) -> dict[str, Any]:
    r = rng_for("kpi-meta", kpi["id"])
    perspective = {"cost": "Resurser", "count": "Volymer", "rate": "Volymer",
                   "population": "Övrigt"}.get(profile.kind, "Kvalitet och resultat")
    month, day = int(r.integers(2, 12)), int(r.integers(1, 28))
    return {
        "id": kpi["id"],
        "title": kpi["title"],
        "description": f"{SYNTHETIC_NOTE} Mått: {kpi['title']}.",
        "is_divided_by_gender": divided,
        "municipality_type": "K",
        "auspice": str(r.choice(["T", "X", "E"])),
        "operating_area": _operating_area(kpi["title"]),
        "perspective": perspective,
        "prel_publication_date": None,
        "publication_date": f"2026-{month:02d}-{day:02d}",
        "publ_period": "2025",
        "has_ou_data": bool("kommunala skolor" in kpi["title"] or r.random() < 0.1),
    }


# Keyword in the title -> a plausible operating area (synthetic: Kolada's own is not seeded).
_AREAS = (
    ("förskol", "Förskola"),
    ("grundskol", "Grundskola"),
    ("åk ", "Grundskola"),
    ("gymnasie", "Gymnasieskola"),
    ("sfi", "Vuxenutbildning"),
    ("äldre", "Äldreomsorg"),
    ("hemtjänst", "Äldreomsorg"),
    ("lss", "Funktionsnedsättning"),
    ("funktionsnedsättning", "Funktionsnedsättning"),
    ("familjeomsorg", "Individ- och familjeomsorg"),
    ("försörjningsstöd", "Individ- och familjeomsorg"),
    ("sjukfrånvaro", "Personal"),
    ("anställd", "Personal"),
    ("medarbetar", "Personal"),
    ("invånare", "Befolkning"),
    ("bibliotek", "Kultur och fritid"),
    ("kultur", "Kultur och fritid"),
    ("idrott", "Kultur och fritid"),
    ("avfall", "Miljö"),
    ("fordon", "Miljö"),
    ("livsmedel", "Miljö"),
    ("bygglov", "Samhällsbyggnad"),
    ("företag", "Näringsliv"),
)


def _operating_area(title: str) -> str:
    low = title.lower()
    for keyword, area in _AREAS:
        if keyword in low:
            return area
    return "Kommunen, övergripande"
