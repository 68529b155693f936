"""Which municipality a row means, from a code or a name as an analyst typed it.

Codes are the key: `1784`, or `180` for `0180` when Excel dropped the leading zero (only in
the `kommunkod` column, and only when the padded code is known, since a padded guess that
is not a municipality would be a wrong answer rather than a kind one). Names match in any
case, with or without a trailing " kommun" or " stad" and the genitive -s that goes with it
("Askersunds kommun", "Göteborgs stad"); a name typed without å/ä/ö matches only when exactly
one municipality folds to it, and that is reported as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipelines.sources.kommunkompassen.areas import fold
from pipelines.sources.kommunkompassen.cells import CellError, one_line

_CODE = re.compile(r"^\d{4}$")
_DIGITS = re.compile(r"^\d{1,4}$")
_SUFFIXES = (" kommun", " stad")


class MunicipalityIndex:
    """Codes and names of the known municipalities (code -> name, e.g. "1784" -> "Arvika")."""

    def __init__(self, municipalities: Mapping[str, str]) -> None:
        self.names = dict(municipalities)
        self._exact: dict[str, set[str]] = {}
        self._folded: dict[str, set[str]] = {}
        for code, name in self.names.items():
            self._exact.setdefault(one_line(name).casefold(), set()).add(code)
            self._folded.setdefault(fold(name), set()).add(code)

    def by_code(self, text: str, *, pad: bool) -> str:
        """The code in `text`; `pad` allows a lost leading zero (`180` -> `0180`)."""
        code = one_line(text)
        if pad and _DIGITS.match(code) and code.zfill(4) in self.names:
            return code.zfill(4)
        if not _CODE.match(code):
            raise CellError("kommunkoden ska vara fyra siffror, t.ex. 0180")
        if code not in self.names:
            raise CellError("okänd kommunkod")
        return code

    def by_name(self, text: str) -> tuple[str, str | None]:
        """(code, warning or None) for a name, or a 4-digit code, in the `kommun` column."""
        name = one_line(text)
        if _CODE.match(name):
            return self.by_code(name, pad=False), None
        for forms, index, fuzzy in (
            (_forms(name.casefold()), self._exact, False),
            (_forms(fold(name), folded=True), self._folded, True),
        ):
            for form in forms:
                codes = index.get(form, set())
                if len(codes) > 1:
                    listed = ", ".join(sorted(codes))
                    raise CellError(f"tvetydigt kommunnamn (passar flera kommunkoder: {listed})")
                if codes:
                    code = next(iter(codes))
                    warning = (
                        f"kommunnamnet tolkades som {self.names[code]} ({code})" if fuzzy else None
                    )
                    return code, warning
        raise CellError("okänt kommunnamn")


def _forms(name: str, *, folded: bool = False) -> list[str]:
    """The name as given, then without " kommun"/" stad", then without the genitive -s."""
    forms = [name]
    for suffix in _SUFFIXES:
        suffix = fold(suffix) if folded else suffix
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)].rstrip()
            forms.append(stem)
            if stem.endswith("s"):
                forms.append(stem[:-1])
    return forms
