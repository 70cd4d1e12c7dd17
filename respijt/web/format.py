"""Dutch wording of dates, nights and ages of figures for the pages (no Flask); dates and
numbers come from the one formatting layer, `respijt.formatting`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from respijt import formatting


@lru_cache(maxsize=1024)
def short_date(value: str | date) -> str:
    """'2026-12-04' → 'vr 4 dec' (formatting.date_short). Cached: a search page writes the same
    nights for every unit."""
    return formatting.date_short(value)


def calendar(unit: Mapping[str, Any]) -> Markup:
    """Free beds per night as a list: a number and a word for every night (never colour alone).

    Written here rather than as a Jinja loop: a search page holds a few hundred of these cells,
    and per cell the template's attribute lookups and escaping cost more than the search.
    """
    nights: Sequence[Mapping[str, Any]] = unit["nights"]
    cells = []
    for night in nights:
        free = int(night["free"])
        day = short_date(night["date"])  # Dutch day and month abbreviations: nothing to escape
        if free > 0:
            cells.append(f'<li class="cal"><span>{day}</span> <strong>{free}</strong> vrij</li>')
        else:
            cells.append(f'<li class="cal cal--full"><span>{day}</span> vol</li>')
    label = escape(f"Vrije bedden per nacht, {unit['name']}")
    return Markup(f'<ol class="calendar" aria-label="{label}">{"".join(cells)}</ol>')


def long_date(value: str | date) -> str:
    """'2026-12-04' → 'vrijdag 4 december 2026'."""
    return formatting.date_long(value)


def local_datetime(value: datetime | None) -> str:
    """'vrijdag 4 december 2026 om 14:30' on Amsterdam's clock; None → 'onbekend'."""
    return formatting.datetime_long(value)


def beds(count: int) -> str:
    """Free beds in words next to the number: never colour alone."""
    if count <= 0:
        return "vol"
    return f"{count} {'bed' if count == 1 else 'bedden'} vrij"


def ago(value: str | datetime | None, now: datetime) -> str:
    """'bijgewerkt … geleden' wording: 'net', '3 uur geleden', '2 dagen geleden'."""
    if value is None:
        return "nog nooit bevestigd"
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return "zojuist bijgewerkt"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minuten geleden bijgewerkt"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} uur geleden bijgewerkt"
    days = hours // 24
    return f"{days} dagen geleden bijgewerkt"
