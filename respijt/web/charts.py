"""Small bar charts as inline SVG, made on the server (no script, no other origin).

Every chart carries a <title> and a <desc> (read by screen readers through `aria-labelledby`),
and every bar its label and its value as text beside it: the chart reads without colour. Bars
of different series also differ in pattern (solid, hatched, dotted, open), never in colour
alone. A value that is not shown (a suppressed count, "<5") draws no bar, only its text.
The SVG scales to the width of its box (`viewBox`), so it fits a 375 px phone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from respijt import formatting

WIDTH = 320
LABEL_HEIGHT = 15
BAR_HEIGHT = 12
ROW_GAP = 8
VALUE_ROOM = 64  # room right of the longest bar for its value
PATTERNS = ("solid", "hatch", "dots", "open")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str  # what the bar is, in words
    value: float | None  # None: nothing to draw (unknown or suppressed)
    text: str  # the value as the page writes it ("25%", "12", "<5")
    pattern: str = "solid"


def _defs(prefix: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#1a3d5c" stroke-width="3"/></pattern>'
        f'<pattern id="{prefix}-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="#fff"/>'
        '<circle cx="2.5" cy="2.5" r="1.6" fill="#1a3d5c"/></pattern>'
        "</defs>"
    )


def _fill(prefix: str, pattern: str) -> str:
    if pattern == "hatch":
        return f'fill="url(#{prefix}-hatch)" stroke="#1a3d5c"'
    if pattern == "dots":
        return f'fill="url(#{prefix}-dots)" stroke="#1a3d5c"'
    if pattern == "open":
        return 'fill="#fff" stroke="#1a3d5c" stroke-width="1.5"'
    return 'fill="#1a3d5c"'


def bar_chart(
    title: str, description: str, bars: Sequence[Bar], *, maximum: float | None = None
) -> Markup:
    """Horizontal bars, one row each: the label above, the bar with its value to the right.
    `maximum` is the value of a full bar (default: the largest value, or 1 for shares)."""
    prefix = f"chart{next(_ids)}"
    values = [b.value for b in bars if b.value is not None]
    top = maximum if maximum is not None else max(values, default=0) or 1
    room = WIDTH - VALUE_ROOM
    row = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    height = max(len(bars), 1) * row + 4
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(description)}</desc>',
        _defs(prefix),
    ]
    if not bars:
        parts.append(f'<text x="0" y="14" class="chart__label">{escape("Geen gegevens")}</text>')
    for index, bar in enumerate(bars):
        y = index * row
        label = escape(bar.label)
        parts.append(f'<text x="0" y="{y + LABEL_HEIGHT - 3}" class="chart__label">{label}</text>')
        length = 0.0
        if bar.value is not None and bar.value > 0:
            length = max(room * min(bar.value / top, 1.0), 1.5)
            parts.append(
                f'<rect x="0" y="{y + LABEL_HEIGHT}" width="{length:.1f}" '
                f'height="{BAR_HEIGHT}" {_fill(prefix, bar.pattern)}/>'
            )
        parts.append(
            f'<text x="{length + 4:.1f}" y="{y + LABEL_HEIGHT + BAR_HEIGHT - 2}" '
            f'class="chart__value">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def percent(value: float | None, suppressed: bool = False) -> str:
    """0.25 → '25%'; unknown: '–', suppressed: '<5'."""
    if value is None:
        return "<5" if suppressed else "–"
    return formatting.percent(value)


def number(value: float | None, suppressed: bool = False, decimals: int = 0) -> str:
    """A count or a figure with a decimal comma; unknown: '–', suppressed: '<5'."""
    if value is None:
        return "<5" if suppressed else "–"
    return formatting.number(value, decimals)
