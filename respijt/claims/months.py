"""Calendar months as half-open date ranges, the nights of a stay that fall in one, and the
stays with a night in a period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, select

from respijt.codes import DATE_MAX, DATE_MIN
from respijt.errors import InvalidInput
from respijt.models import Reservation

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field: str = "month") -> Month:
        match = _MONTH.match(text or "")
        if (
            match is None
            or not 1 <= int(match.group(2)) <= 12
            # Within the dates the API takes, so the month's end or the next month exists.
            or not DATE_MIN.year <= int(match.group(1)) <= DATE_MAX.year
        ):
            raise InvalidInput(
                "Geef een maand als JJJJ-MM.",
                [
                    {
                        "name": field,
                        "code": "month",
                        "reason": "Gebruik JJJJ-MM, bijvoorbeeld 2027-03, "
                        f"van {DATE_MIN.year} tot en met {DATE_MAX.year}.",
                    }
                ],
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The first day of the next month (exclusive end)."""
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    @property
    def compact(self) -> str:
        return f"{self.year:04d}{self.month:02d}"

    def next(self) -> Month:
        return Month.of(self.end)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def overlap(a_from: date, a_to: date, b_from: date, b_to: date) -> tuple[date, date] | None:
    """The intersection of two half-open ranges, or None."""
    start, end = max(a_from, b_from), min(a_to, b_to)
    return (start, end) if start < end else None


def stays_in(night_from: date, night_to: date) -> tuple[ColumnElement[bool], ...]:
    """WHERE conditions for the reservations with a night in [night_from, night_to).

    The overlap is written twice on purpose, so a report of one month reads that month's stays
    and not the years before it (bench/reports.py): as ids found from the (departure, arrival)
    index alone (SQLite then starts there instead of at every unit's whole history) and as
    plain bounds (PostgreSQL then expects few rows and reads the joined rows by index)."""
    ids = select(Reservation.id).where(
        Reservation.departure > night_from, Reservation.arrival < night_to
    )
    return (
        Reservation.departure > night_from,
        Reservation.arrival < night_to,
        Reservation.id.in_(ids),
    )
