"""The 8 areas of each Kommunkompassen version, and matching a label as an analyst typed it.

An area is identified by (version, number); the label is kept as published because
municipalities reuse old labels (docs/domain.md). Labels arrive hand-typed, so they are
compared after `fold()` (case, å/ä/ö, spaces and punctuation do not matter), and a small
misspelling is tolerated by a conservative fuzzy match that the reader reports as a warning.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

VERSIONS: tuple[int, ...] = (2010, 2020)
AREA_NUMBERS: tuple[int, ...] = tuple(range(1, 9))
FUZZY_RATIO = 0.85

_LABELS: dict[int, tuple[str, ...]] = {
    2010: (
        "Offentlighet och demokrati",
        "Tillgänglighet och brukarorientering",
        "Politisk styrning och kontroll",
        "Ledarskap, ansvar och delegation",
        "Resultat och effektivitet",
        "Kommunen som arbetsgivare",
        "Verksamhetsutveckling",
        "Kommunen som samhällsbyggare",
    ),
    2020: (
        "Samspel mellan förtroendevalda och medborgare",
        "Samhällsutveckling",
        "Styrning och kontroll",
        "Effektivitet",
        "Brukarens fokus",
        "Kvalitetsutveckling",
        "Arbetsliv",
        "Chefs- och ledarskap samt medarbetarskap",
    ),
}

_FOLD_MAP = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e"})
_FOLD_DROP = re.compile(r"[\s\-\u2010-\u2015_.,]+")


@dataclass(frozen=True)
class Area:
    version: int
    number: int
    label: str


@dataclass(frozen=True)
class LabelMatch:
    """An area found for a typed label; `exact` is False for a fuzzy (misspelt) match."""

    area: Area
    exact: bool


AREAS: dict[int, tuple[Area, ...]] = {
    version: tuple(Area(version, n, label) for n, label in enumerate(labels, 1))
    for version, labels in _LABELS.items()
}


def fold(text: str) -> str:
    """The form headers and labels are compared in: `Område nr`, `omrade_nr` -> `omradenr`.

    Casefolded, å/ä -> a, ö -> o, é -> e; whitespace, hyphens and dashes, underscores, dots and
    commas removed (a comma left out of "Ledarskap, ansvar och delegation" is no misspelling).
    """
    text = unicodedata.normalize("NFC", text).casefold().translate(_FOLD_MAP)
    return _FOLD_DROP.sub("", text)


def version_for_year(year: int) -> int:
    """The version in use in `year`: the 2010 version until 2019, the 2020 version after."""
    return 2020 if year >= 2020 else 2010


def area(version: int, number: int) -> Area:
    """The published area (version, number); KeyError/IndexError are programming errors."""
    return AREAS[version][number - 1]


def match_label(version: int, text: str) -> LabelMatch | None:
    """The area of `version` whose label `text` is, exactly after folding or by a unique
    fuzzy match (difflib ratio >= FUZZY_RATIO on the folded text); None when neither."""
    folded = fold(text)
    if not folded:
        return None
    areas = AREAS[version]
    for candidate in areas:
        if fold(candidate.label) == folded:
            return LabelMatch(candidate, exact=True)
    close = [
        candidate for candidate in areas
        if difflib.SequenceMatcher(None, folded, fold(candidate.label)).ratio() >= FUZZY_RATIO
    ]
    # Conservative: a misspelling close to two labels is not guessed at.
    return LabelMatch(close[0], exact=False) if len(close) == 1 else None


def other_version(version: int) -> int:
    return VERSIONS[1] if version == VERSIONS[0] else VERSIONS[0]
