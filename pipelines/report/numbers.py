"""Numbers as a Swedish reader expects them: decimal comma, thin-space thousands, a real minus.

Swedish typography (Språkrådet, TNC) writes 12 345,6: a decimal comma, digits grouped in
threes by a thin space from five digits up (four-digit numbers stay whole: 1234), and the
minus sign U+2212 rather than a hyphen. The space is U+202F NARROW NO-BREAK SPACE, the thin
space that never breaks a number across lines in a table cell. Missing values are an en dash.

Values are rounded to the decimals Kolada publishes for the KPI (`dim_kpi.decimals`), the same
precision as the publication's CSV, so the report and the Excel files show the same digits.
"""

from __future__ import annotations

import math

THIN_SPACE = "\u202f"
MINUS = "\u2212"
MISSING = "\u2013"
DEFAULT_DECIMALS = 1  # a KPI whose precision dim_kpi does not know


def _group(digits: str) -> str:
    if len(digits) < 5:
        return digits
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return THIN_SPACE.join(parts)


def number(value: float | None, decimals: int | None = DEFAULT_DECIMALS,
           *, signed: bool = False) -> str:
    """`value` with `decimals` places in Swedish style; None or NaN is an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    decimals = DEFAULT_DECIMALS if decimals is None else max(int(decimals), 0)
    text = f"{abs(float(value)):.{decimals}f}"
    whole, _, frac = text.partition(".")
    body = _group(whole) + ("," + frac if frac else "")
    zero = not text.strip("0.")
    if float(value) < 0 and not zero:
        return MINUS + body
    return ("+" + body) if signed and not zero else body


def integer(value: int | None) -> str:
    return number(value, 0)


def parse(text: str) -> float | None:
    """The inverse of `number` (tests read the rendered pages back with it)."""
    text = text.strip()
    if text in ("", MISSING):
        return None
    return float(text.replace(THIN_SPACE, "").replace(MINUS, "-").replace(",", ".").lstrip("+"))
