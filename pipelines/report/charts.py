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

import math
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


def nice_ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], int]:
    """Round values for gridlines between lo and hi (steps of 1, 2, 2.5 or 5 x 10^k), and the
    decimals their labels need."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo], 0
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    # the largest round step that still gives count-1 intervals: three or more gridlines
    step = max(m * power for m in (1, 2, 2.5, 5) if m * power <= raw)
    while True:
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        if last - first <= count + 1:
            break
        step *= 2
    ticks = [0.0 if k == 0 else k * step for k in range(first, last + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10 ** decimals % 1:  # 2.5, 0.25: one more place
        decimals += 1
    return ticks, decimals


def year_labels(years: Sequence[int], room: float) -> list[int]:
    """Which year indexes get a label: all when they fit `room` pixels, else every other one
    counted back from the latest year (which is always labelled). Every year gets a tick."""
    n = len(years)
    if n * 24 <= room:
        return list(range(n))
    return sorted(range(n - 1, -1, -2))


LEFT, RIGHT, TOP, BOTTOM = 40, 10, 16, 18  # a trend chart's margins


def year_axis(years: Sequence[int], width: int, height: int) -> str:
    """The x axis of a trend chart over `years`: the frame, a tick per year and the year
    labels (as room allows). The same for every chart over the same years, so a page defines
    it once (`axis_defs`) and each chart refers to it."""
    w, h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def px(i: int) -> float:
        return LEFT + (w / 2 if len(years) == 1 else w * i / (len(years) - 1))

    marks = "".join(f"M{round(px(i))} {TOP + h}v3" for i in range(len(years)))
    # presentation attributes as well as the classes: a `<use>` clone is not matched by the
    # page's `svg .ax` / `svg .xl text` rules, so the shared axis carries its own look (the
    # same as report.css gives an inline one)
    return (f'<path class="ax" fill="none" stroke="#999" d="M{LEFT} {TOP}V{TOP + h}H{LEFT + w}'
            f'{marks}"/><g class="xl" fill="#333" font-size="8.5" text-anchor="middle">'
            + "".join(
                f'<text x="{round(px(i))}" y="{height - 5}">{years[i]}</text>'
                for i in year_labels(years, w)) + "</g>")


def axis_id(years: Sequence[int], width: int, height: int) -> str:
    """The id of the shared axis of charts over `years` (consecutive years: first and count)."""
    years = list(years)
    if years == list(range(years[0], years[0] + len(years))):
        key = f"{years[0]}-{len(years)}"
    else:
        key = "-".join(str(y) for y in years)
    return f"ax-{key}" + ("" if (width, height) == (230, 132) else f"-{width}x{height}")


def axis_defs(axes: dict[str, str]) -> Markup:
    """The page's shared chart axes (id -> markup, collected by trend_chart) as one hidden
    SVG of definitions; empty when no chart shared one."""
    if not axes:
        return Markup("")
    return Markup('<svg width="0" height="0" aria-hidden="true" focusable="false" class="defs">'
                  "<defs>" + "".join(f'<g id="{i}">{m}</g>' for i, m in sorted(axes.items()))
                  + "</defs></svg>")


def trend_chart(title: str, years: Sequence[int], series: Sequence[Series], *,
                decimals: int | None, table_id: str, unit: str = "", width: int = 230,
                height: int = 132, axes: dict[str, str] | None = None,
                label_id: str | None = None) -> Markup:
    """One small multiple: each series over `years`; a lone year is drawn as points.

    A tick on the x axis for every year (labelled as room allows), gridlines at round values
    with their labels, and the unit above the y axis. `axes`: the page's shared axes; given,
    the x axis is added there once and the chart refers to it (`<use>`): a kommun page has
    ~40 charts over the same years, and the axis was a fifth of each. `label_id`: the id of
    the element that names the chart (its figcaption), instead of repeating the title in it."""
    left, right, top, bottom = LEFT, RIGHT, TOP, BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    if label_id:
        name = f' aria-labelledby="{label_id}" aria-describedby="{table_id}">'
    else:
        name = f' aria-describedby="{table_id}"><title>{escape(title)}</title>'
    head = (f'<svg class="trend" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img"{name}')
    if not values or not years:
        return Markup(head + f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" '
                      'class="none">Inga värden</text></svg>')
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - (abs(lo) * 0.1 or 1), hi + (abs(hi) * 0.1 or 1)
    ticks, tick_decimals = nice_ticks(lo, hi)
    pad = (hi - lo) * 0.08
    lo, hi = min(lo - pad, ticks[0]), max(hi + pad, ticks[-1])
    w, h = width - left - right, height - top - bottom

    def px(i: int) -> float:
        return left + (w / 2 if len(years) == 1 else w * i / (len(years) - 1))

    def py(v: float) -> float:
        return top + h * (hi - v) / (hi - lo)

    out = [head]
    if unit:
        out.append(f'<text x="2" y="9" class="unit">{escape(unit)}</text>')
    grid = "".join(f"M{left} {round(py(v))}H{left + w}" for v in ticks)
    out.append(f'<path class="gr" d="{grid}"/>')
    # labels grouped under one class (anchor and size in report.css): ~12,000 charts a night
    # the labels' common x on the group: ~12,000 charts a night
    out.append(f'<g class="yl" transform="translate({left - 3})">' + "".join(
        f'<text y="{round(py(v) + 3)}">{escape(numbers.number(v, tick_decimals))}'
        "</text>" for v in ticks) + "</g>")
    if axes is None:
        out.append(year_axis(years, width, height))
    else:
        ref = axis_id(years, width, height)
        axes.setdefault(ref, year_axis(years, width, height))
        out.append(f'<use href="#{ref}"/>')
    for s in series:
        # One path per series with a marker at every vertex; a gap in the data starts a new
        # subpath, and a lone point is a zero-length one ("h0") so that its marker shows.
        d: list[str] = []
        down = False
        for i, v in enumerate(s.values):
            if v is None:
                down = False
                continue
            point = f"{round(px(i))} {round(py(v))}"  # whole pixels: 12,000 charts a night
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
    # One path per colour (a subpath per segment) and the labels grouped under one class:
    # 870 of these charts a night, and a <rect> and a classed <text> per segment were most
    # of their bytes. Fill and stroke from report.css (class k-<colour>).
    segments: dict[str, list[str]] = {c: [] for c in COUNT_ORDER}
    counts, years = [], []
    for i, row in enumerate(rows):
        x = left + slot * i + (slot - bar) / 2
        y = top + h
        for colour in COUNT_ORDER:
            n = row[colour]
            if not n:
                continue
            seg = h * n / total
            y -= seg
            segments[colour].append(f"M{_f(x)} {_f(y)}h{_f(bar)}v{_f(seg)}h-{_f(bar)}z")
            if seg >= 9:
                counts.append(f'<text x="{_f(x + bar / 2)}" y="{_f(y + seg / 2 + 3)}">{n}</text>')
        years.append(f'<text x="{_f(x + bar / 2)}" y="{height - 5}">{row["year"]}</text>')
    out = [head]
    out += [f'<path class="k-{c}" d="{"".join(d)}"/>' for c, d in segments.items() if d]
    out.append('<g class="seg">' + "".join(counts) + "</g>")
    out.append('<g class="mid">' + "".join(years) + "</g>")
    out.append("</svg>")
    return Markup("".join(out))


def wrap_label(text: str, width: int = 30) -> list[str]:
    """A label in at most two lines of about `width` characters, broken at spaces; a longer
    one is shortened only after its second line (never mid-word on the first)."""
    if len(text) <= width:
        return [text]
    cut = text.rfind(" ", 0, width + 1)
    if cut <= 0:
        cut = width
    first, rest = text[:cut], text[cut:].strip()
    if len(rest) > width + 4:
        rest = rest[: width + 3].rstrip() + "…"
    return [first, rest]


def bar_chart(title: str, bars: Sequence[tuple[str, float | None, float | None]], *,
              maximum: float, table_id: str, reference_label: str = "",
              width: int = 480, row: int = 20) -> Markup:
    """Horizontal bars (label, value, reference) on 0..maximum; a reference is a tick mark.

    Labels longer than a line wrap onto a second one (the row grows), so none is cut."""
    left, right = 200, 40
    lines = [wrap_label(name) for name, _v, _r in bars]
    rows = [row + 11 * (len(parts) - 1) for parts in lines]
    height = sum(rows) + 8
    label = escape(title)
    head = (f'<svg class="bars" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-describedby="{table_id}">'
            f"<title>{label}</title>")
    out = [head]
    w = width - left - right
    y = 4
    for (_name, value, ref), parts, r in zip(bars, lines, rows):
        mid = y + r / 2
        first = mid + 4 - 5.5 * (len(parts) - 1)
        out.append(f'<text x="{left - 4}" y="{_f(first)}" text-anchor="end">'
                   + "".join(f'<tspan x="{left - 4}" dy="{0 if k == 0 else 11}">'
                             f"{escape(part)}</tspan>" for k, part in enumerate(parts))
                   + "</text>")
        if value is not None:
            bw = w * max(min(value / maximum, 1), 0)
            out.append(f'<rect x="{left}" y="{_f(mid - (row - 8) / 2)}" width="{_f(bw)}" '
                       f'height="{row - 8}" fill="#0072B2"/>')
            out.append(f'<text x="{_f(left + bw + 3)}" y="{_f(mid + 4)}">'
                       f"{escape(numbers.number(value, 1))}</text>")
        if ref is not None:
            rx = left + w * max(min(ref / maximum, 1), 0)
            out.append(f'<path d="M{_f(rx)} {_f(mid - (row - 4) / 2)}v{row - 4}" '
                       'stroke="#000000" stroke-width="2" stroke-dasharray="3 1"><title>'
                       f"{escape(reference_label)} {escape(numbers.number(ref, 1))}"
                       "</title></path>")
        y += r
    out.append("</svg>")
    return Markup("".join(out))
