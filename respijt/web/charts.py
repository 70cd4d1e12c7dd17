"""Small bar charts as inline SVG, made on the server (no script, no other origin).

Every chart carries a <title> and a <desc> (read by screen readers through `aria-labelledby`),
and every bar its label and its value as text beside it: the chart reads without colour. Bars
of different series also differ in pattern (solid, hatched, dotted, open), never in colour
alone. A value that is not shown (a suppressed count, "<5") draws no bar, only its text.

The chart is laid out in `em` and percentages, without a `viewBox`: its text is the size of the
text around it on every screen (a scaled `viewBox` made it twice the body text at 1280 px), and
its bars take a share of the width, so it fits a 375 px phone. A long label wraps at a space.
Only like with like goes on one chart: one unit (a count, hours, a share) per chart.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from respijt import formatting

LINE = 1.25  # em: one line of a label
BAR_HEIGHT = 0.9  # em
BAR_GAP = 0.2  # em: between a label and its bar
ROW_GAP = 0.6  # em: between one bar and the next label
BAR_ROOM = 72.0  # percent of the width for the longest bar; the rest holds its value
LABEL_CHARS = 32  # a label wraps after this many characters: it fits a 375 px phone
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


def label_lines(label: str) -> list[str]:
    """A bar's label in lines of at most `LABEL_CHARS` characters, broken at spaces only."""
    return textwrap.wrap(label, LABEL_CHARS, break_long_words=False, break_on_hyphens=False) or [""]


def _em(value: float) -> str:
    return f"{value:.2f}em"


def _label(lines: list[str], top: float) -> str:
    spans = "".join(
        f'<tspan x="0" y="{_em(top + (index + 1) * LINE - 0.3)}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text class="chart__label">{spans}</text>'


def bar_chart(
    title: str, description: str, bars: Sequence[Bar], *, maximum: float | None = None
) -> Markup:
    """Horizontal bars, one row each: the label above, the bar with its value to the right.
    `maximum` is the value of a full bar (default: the largest value, or 1 for shares)."""
    prefix = f"chart{next(_ids)}"
    values = [b.value for b in bars if b.value is not None]
    top = maximum if maximum is not None else max(values, default=0) or 1
    body: list[str] = []
    y = 0.0
    if not bars:
        body.append(_label(["Geen gegevens"], 0.0))
        y = LINE + ROW_GAP
    for bar in bars:
        lines = label_lines(bar.label)
        body.append(_label(lines, y))
        y += len(lines) * LINE + BAR_GAP
        length = 0.0
        if bar.value is not None and bar.value > 0:
            length = max(BAR_ROOM * min(bar.value / top, 1.0), 0.5)
            body.append(
                f'<rect x="0" y="{_em(y)}" width="{length:.1f}%" height="{_em(BAR_HEIGHT)}" '
                f"{_fill(prefix, bar.pattern)}/>"
            )
        body.append(
            f'<text x="{length:.1f}%" dx="{"0.3em" if length else "0"}" '
            f'y="{_em(y + BAR_HEIGHT - 0.12)}" class="chart__value">{escape(bar.text)}</text>'
        )
        y += BAR_HEIGHT + ROW_GAP
    parts = [
        f'<svg class="chart" role="img" width="100%" height="{_em(y)}" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(description)}</desc>',
        _defs(prefix),
        *body,
        "</svg>",
    ]
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
