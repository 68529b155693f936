"""Charts as small, hand-written SVG, made at build time.

Why not a library: the report has about 12,000 small charts (40 KPIs x 290 kommuner), which
must render in seconds, come out byte-identical for the same publication and need no script
or request in the browser. A few polylines and rectangles written from Python do that with no
dependency; matplotlib would take ~50 ms a chart (10 minutes a night) and Vega-Lite through
vl-convert ships a JavaScript engine for what is, here, string formatting. See docs/report.md.

Every chart is drawn for people who cannot tell the colours apart: each series has its own
marker shape and dash pattern as well as a colour (Okabe-Ito palette), and each chart sits next
to a table with its numbers (the template's job). All text is escaped here, because these
strings reach the templates as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from pipelines.report import numbers

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
KKIK_COLOURS = {"green": "#009E73", "yellow": "#F0E442", "red": "#D55E00", "grey": "#BBBBBB"}
# Patterns for the colour-count bars (defined once per page, see PATTERN_DEFS).
KKIK_FILLS = {"green": "url(#p-green)", "yellow": "url(#p-yellow)", "red": "url(#p-red)",
              "grey": "url(#p-grey)"}


@dataclass(frozen=True)
class Series:
    key: str  # a key of SERIES_STYLE: its colour, dash and marker
    label: str
    values: Sequence[float | None]  # one per year, None when missing


# series -> (colour, marker, dash). Each page defines the markers once (PATTERN_DEFS) and
# report.css gives each series' path its colour, dash and markers, so a chart is a few short
# paths: ~1 KB instead of ~4 KB, for 12,000 charts.
SERIES_STYLE = {
    "kommun": ("#0072B2", "circle", ""),
    "riket": ("#000000", "square", "4 2"),
    "kommungrupp": ("#E69F00", "triangle", "1 2"),
    "liknande": ("#CC79A7", "diamond", "6 2 1 2"),
}


def _f(x: float) -> str:
    """Coordinates with one decimal: small files, and the same bytes every time."""
    text = f"{x:.1f}"
    return text.removesuffix(".0")


def _shape(kind: str, colour: str) -> str:
    if kind == "square":
        return f'<rect x="-2.5" y="-2.5" width="5" height="5" fill="{colour}"/>'
    if kind == "triangle":
        return f'<polygon points="0,-3.5 -3.2,2.5 3.2,2.5" fill="{colour}"/>'
    if kind == "diamond":
        return (f'<polygon points="0,-3.2 3.2,0 0,3.2 -3.2,0" fill="#FFFFFF" stroke="{colour}" '
                'stroke-width="1.5"/>')
    return f'<circle r="3" fill="{colour}"/>'


SERIES_DEFS = "".join(
    f'<marker id="mk-{key}" viewBox="-4 -4 8 8" markerWidth="8" markerHeight="8" '
    f'markerUnits="userSpaceOnUse">{_shape(marker, colour)}</marker>'
    for key, (colour, marker, _dash) in SERIES_STYLE.items()
)

PATTERN_DEFS = Markup(
    '<svg width="0" height="0" aria-hidden="true" focusable="false" class="defs">'
    "<defs>" + SERIES_DEFS +
    '<pattern id="p-green" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#009E73"/></pattern>'
    '<pattern id="p-yellow" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#F0E442"/>'
    '<rect width="2" height="6" fill="#B8A800"/></pattern>'
    '<pattern id="p-red" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#D55E00"/><circle cx="3" cy="3" r="1.2" fill="#FFFFFF"/>'
    "</pattern>"
    '<pattern id="p-grey" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#DDDDDD"/><path d="M0 6L6 0" stroke="#888888"/>'
    "</pattern></defs></svg>"
)


def legend_marker(key: str) -> Markup:
    """A tiny SVG of a series' line and marker, for legends in HTML."""
    return Markup(f'<svg class="lg" width="24" height="10" viewBox="0 0 24 10" '
                  f'aria-hidden="true"><path class="s-{key}" d="M0 5H12H24"/></svg>')


def trend_chart(title: str, years: Sequence[int], series: Sequence[Series], *,
                decimals: int | None, table_id: str, width: int = 230, height: int = 120
                ) -> Markup:
    """One small multiple: each series over `years`; a lone year is drawn as points."""
    left, right, top, bottom = 50, 14, 8, 18
    values = [v for s in series for v in s.values if v is not None]
    head = (f'<svg class="trend" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-describedby="{table_id}">'
            f"<title>{escape(title)}</title>")
    if not values or not years:
        return Markup(head + f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" '
                      'class="none">Inga värden</text></svg>')
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - (abs(lo) * 0.1 or 1), hi + (abs(hi) * 0.1 or 1)
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    w, h = width - left - right, height - top - bottom

    def px(i: int) -> float:
        return left + (w / 2 if len(years) == 1 else w * i / (len(years) - 1))

    def py(v: float) -> float:
        return top + h * (hi - v) / (hi - lo)

    out = [head, f'<path class="ax" d="M{left} {top}V{top + h}H{left + w}"/>']
    for v in (lo + pad, hi - pad):
        out.append(f'<text x="{left - 3}" y="{_f(py(v) + 3)}" text-anchor="end">'
                   f"{escape(numbers.number(v, decimals))}</text>")
    ticks = {0, len(years) - 1} | ({len(years) // 2} if len(years) > 4 else set())
    for i in sorted(ticks):
        out.append(f'<text x="{_f(px(i))}" y="{height - 5}" text-anchor="middle">{years[i]}'
                   "</text>")
    for s in series:
        # One path per series with a marker at every vertex; a gap in the data starts a new
        # subpath, and a lone point is a zero-length one ("h0") so that its marker shows.
        d: list[str] = []
        down = False
        for i, v in enumerate(s.values):
            if v is None:
                down = False
                continue
            point = f"{_f(px(i))} {_f(py(v))}"
            alone = not (i + 1 < len(s.values) and s.values[i + 1] is not None)
            d.append(f"L{point}" if down else f"M{point}" + ("h0" if alone else ""))
            down = True
        if d:
            out.append(f'<path class="s-{s.key}" d="{"".join(d)}"/>')
    out.append("</svg>")
    return Markup("".join(out))


COUNT_ORDER = ("green", "yellow", "red", "grey")


def colour_count_chart(title: str, rows: Sequence[dict], *, table_id: str,
                       width: int = 300, height: int = 140) -> Markup:
    """Stacked bars of green/yellow/red/grey KPIs per year, each segment labelled."""
    left, right, top, bottom = 8, 8, 6, 18
    label = escape(title)
    head = (f'<svg class="counts" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-describedby="{table_id}">'
            f"<title>{label}</title>")
    if not rows:
        return Markup(head + "</svg>")
    total = max(sum(r[c] for c in COUNT_ORDER) for r in rows) or 1
    w, h = width - left - right, height - top - bottom
    slot = w / len(rows)
    bar = min(slot * 0.7, 40)
    out = [head]
    for i, row in enumerate(rows):
        x = left + slot * i + (slot - bar) / 2
        y = top + h
        for colour in COUNT_ORDER:
            n = row[colour]
            if not n:
                continue
            seg = h * n / total
            y -= seg
            out.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar)}" height="{_f(seg)}" '
                       f'fill="{KKIK_FILLS[colour]}" stroke="#FFFFFF" stroke-width="0.5"/>')
            if seg >= 9:
                out.append(f'<text x="{_f(x + bar / 2)}" y="{_f(y + seg / 2 + 3)}" '
                           f'text-anchor="middle" class="seg">{n}</text>')
        out.append(f'<text x="{_f(x + bar / 2)}" y="{height - 5}" text-anchor="middle">'
                   f"{row['year']}</text>")
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(title: str, bars: Sequence[tuple[str, float | None, float | None]], *,
              maximum: float, table_id: str, reference_label: str = "",
              width: int = 460, row: int = 20) -> Markup:
    """Horizontal bars (label, value, reference) on 0..maximum; a reference is a tick mark."""
    left, right = 190, 50
    height = row * len(bars) + 8
    label = escape(title)
    head = (f'<svg class="bars" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-describedby="{table_id}">'
            f"<title>{label}</title>")
    out = [head]
    w = width - left - right
    for i, (name, value, ref) in enumerate(bars):
        y = 4 + i * row
        short = name if len(name) <= 32 else name[:31] + "…"
        out.append(f'<text x="{left - 4}" y="{y + 13}" text-anchor="end">{escape(short)}</text>')
        if value is not None:
            bw = w * max(min(value / maximum, 1), 0)
            out.append(f'<rect x="{left}" y="{y + 3}" width="{_f(bw)}" height="{row - 8}" '
                       'fill="#0072B2"/>')
            out.append(f'<text x="{_f(left + bw + 3)}" y="{y + 13}">'
                       f"{escape(numbers.number(value, 1))}</text>")
        if ref is not None:
            rx = left + w * max(min(ref / maximum, 1), 0)
            out.append(f'<path d="M{_f(rx)} {y + 1}v{row - 4}" stroke="#000000" '
                       'stroke-width="2" stroke-dasharray="3 1"><title>'
                       f"{escape(reference_label)} {escape(numbers.number(ref, 1))}"
                       "</title></path>")
    out.append("</svg>")
    return Markup("".join(out))
