"""Numbers, shares, money and durations in Dutch (Babel's nl_NL: '12.345,7', '€ 145,00').

CSV cells have their own functions (`csv_number`, `csv_money`): no thousands separator and no
currency sign, so an importer and a spreadsheet read them as numbers (docs/exports.md).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from babel.units import format_unit

LOCALE = "nl_NL"
DASH = "–"  # what a page shows where there is no figure


def _digits_pattern(digits: int, grouping: bool) -> str:
    head = "#,##0" if grouping else "0"
    return head + ("." + "0" * digits if digits > 0 else "")


def number(value: float | int | None, digits: int = 0, unknown: str = DASH) -> str:
    """12345.67 → '12.345,7' with `digits=1`: a point between thousands, a decimal comma."""
    if value is None:
        return unknown
    return format_decimal(value, format=_digits_pattern(digits, True), locale=LOCALE)


def percent(share: float | None, digits: int = 0, unknown: str = DASH) -> str:
    """A share 0–1 as a percentage: 0.125 → '13%', with `digits=1` '12,5%'."""
    if share is None:
        return unknown
    text = format_decimal(
        Decimal(repr(share)) * 100, format=_digits_pattern(digits, True), locale=LOCALE
    )
    return f"{text}%"


def money(cents: int | None, unknown: str = DASH) -> str:
    """Euro from cents: 14500 → '€ 145,00' (a no-break space after the sign, as Babel writes it;
    a negative amount '€ -12,50')."""
    if cents is None:
        return unknown
    return format_currency(Decimal(cents) / 100, "EUR", locale=LOCALE)


def duration(value: timedelta | float | None, unknown: str = DASH) -> str:
    """Hours or a timedelta in words: '1 uur', '2 uur', '1,5 uur'; from 48 hours on in days:
    '3 dagen' (whole days). A float is a number of hours."""
    if value is None:
        return unknown
    hours = value.total_seconds() / 3600 if isinstance(value, timedelta) else float(value)
    if abs(hours) >= 48:
        return format_unit(round(hours / 24), "duration-day", length="long", locale=LOCALE)
    return format_unit(_whole(round(hours, 1)), "duration-hour", length="long", locale=LOCALE)


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def nights(count: int) -> str:
    """1 → '1 nacht', 3 → '3 nachten'."""
    return format_unit(count, "duration-night", length="long", locale=LOCALE)


def counted(count: int, singular: str, plural: str) -> str:
    """A number with its noun in the right form: (1, 'regel', 'regels') → '1 regel',
    (3, …) → '3 regels', (0, …) → '0 regels', 1234 → '1.234 regels'. Never a plural in brackets."""
    return f"{number(count)} {singular if count == 1 else plural}"


def csv_number(value: float | int | None, digits: int | None = None, *, comma: bool = True) -> str:
    """A number for a CSV cell: no thousands separator; a decimal comma (or a point with
    `comma=False`, the API's CSV default). `digits=None` keeps every digit the value has, and
    a float at least one decimal (8.0 → '8,0', as Python writes it).
    None → '' (an empty cell)."""
    if value is None:
        return ""
    if digits is None:
        pattern = "0.0###############" if isinstance(value, float) else "0"
    else:
        pattern = _digits_pattern(digits, False)
    return format_decimal(value, format=pattern, locale=LOCALE if comma else "en")


def csv_money(cents: int | None, *, comma: bool = True) -> str:
    """Euro from cents for a CSV cell, no sign: 14500 → '145,00', -1250 → '-12,50'."""
    if cents is None:
        return ""
    return csv_number(Decimal(cents) / 100, 2, comma=comma)  # type: ignore[arg-type]
