"""The rule of a series request, and the stays it gives: "one weekend a month" (the first,
second, third, fourth or last weekend), "every N weeks", or (the API's older field) "every N
days", each until a last arrival date.

A weekend is named by its Saturday: the k-th Saturday of the month (the last: the month's last
Saturday). The first stay is the one asked (its arrival and number of nights); every later stay
keeps its place around the weekend's Saturday (a Friday arrival stays a Friday arrival) and its
length. The rule is stored as `care_request.series_rule` ("month:1", "month:-1", "weeks:2";
None for the older every-N-days series), beside `series_every_days`, the shortest gap between
two stays (28 for a monthly rule), which the overlap check and `is_series` read.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from respijt.care_requests.common import MAX_SERIES_STAYS

SATURDAY = 5
WEEKEND_WORDS = {1: "eerste", 2: "tweede", 3: "derde", 4: "vierde", -1: "laatste"}
# The shortest gap between two monthly weekends (the 1st Saturday of a 28-day February to the
# 1st of March, say): a stay must be shorter than this.
MONTH_GAP_DAYS = 28


@dataclass(frozen=True)
class SeriesRule:
    kind: str  # "days", "weeks" or "month"
    n: int  # days, weeks, or the weekend of the month (1–4, -1 for the last)

    @property
    def every_days(self) -> int:
        """The shortest gap between two arrivals."""
        return {"days": self.n, "weeks": 7 * self.n, "month": MONTH_GAP_DAYS}[self.kind]

    @property
    def code(self) -> str | None:
        return None if self.kind == "days" else f"{self.kind}:{self.n}"


def rule_from_input(series: dict[str, Any]) -> SeriesRule:
    """The rule a request's `series` asks: `weekend_of_month`, `every_weeks` or `every_days`."""
    if series.get("weekend_of_month") is not None:
        return SeriesRule("month", int(series["weekend_of_month"]))
    if series.get("every_weeks") is not None:
        return SeriesRule("weeks", int(series["every_weeks"]))
    return SeriesRule("days", int(series["every_days"]))


def stored_rule(code: str | None, every_days: int | None) -> SeriesRule | None:
    """The rule of a stored request (`series_rule`, `series_every_days`); None: no series."""
    if every_days is None:
        return None
    if code:
        kind, _, n = code.partition(":")
        if kind in ("weeks", "month"):
            return SeriesRule(kind, int(n))
    return SeriesRule("days", every_days)


def weekend_saturday(year: int, month: int, which: int) -> date:
    """The Saturday of the `which`-th weekend of a month (-1: the last)."""
    if which == -1:
        last = date(year, month, monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - SATURDAY) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(SATURDAY - first.weekday()) % 7 + 7 * (which - 1))


def _weekend_of(day: date) -> date:
    """The Saturday of the weekend a stay starting on `day` belongs to: a Sunday belongs to
    the day before, any other day to the Saturday that follows."""
    if day.weekday() == 6:
        return day - timedelta(days=1)
    return day + timedelta(days=(SATURDAY - day.weekday()) % 7)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def stay_dates(
    arrival: date, departure: date, rule: SeriesRule, until: date
) -> list[tuple[date, date]]:
    """The stays of a series: the first as asked, then by the rule, while the arrival is on or
    before `until` (at most MAX_SERIES_STAYS); a stay never overlaps the one before."""
    nights = departure - arrival
    out: list[tuple[date, date]] = [(arrival, departure)] if arrival <= until else []
    if rule.kind != "month":
        start = arrival + timedelta(days=rule.every_days)
        while start <= until and len(out) < MAX_SERIES_STAYS:
            out.append((start, start + nights))
            start += timedelta(days=rule.every_days)
        return out
    anchor = _weekend_of(arrival)
    offset = arrival - anchor
    year, month = anchor.year, anchor.month
    while len(out) < MAX_SERIES_STAYS:
        year, month = _next_month(year, month)
        start = weekend_saturday(year, month, rule.n) + offset
        if start > until:
            break
        if out and start < out[-1][1]:
            continue
        out.append((start, start + nights))
    return out
