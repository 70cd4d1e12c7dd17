"""The one formatting layer: Dutch dates, times, numbers, money and durations (Babel, nl_NL).

Pages, SMS texts, CSV files and the PDF all write dates and figures through these functions, so
a figure reads the same everywhere. No Flask: rooms (SMS texts in `*/notices.py`, CSV in
`claims/`) and faces alike use it. Times are shown on the wall clock of Europe/Amsterdam
(`clock.LOCAL_TZ`). The API keeps ISO 8601 and decimal points: it does not come here.

Where a page shows a dash for "no figure", these functions give `DASH` for None.
"""

from __future__ import annotations

from respijt.formatting.dates import (
    date_long,
    date_short,
    datetime_long,
    datetime_short,
    day_month,
    month_long,
    month_short,
    period_long,
    sms_datetime,
    time_short,
)
from respijt.formatting.numbers import (
    DASH,
    counted,
    csv_money,
    csv_number,
    duration,
    money,
    nights,
    number,
    percent,
)

LOCALE = "nl_NL"

__all__ = [
    "DASH",
    "LOCALE",
    "counted",
    "csv_money",
    "csv_number",
    "date_long",
    "date_short",
    "datetime_long",
    "datetime_short",
    "day_month",
    "duration",
    "money",
    "month_long",
    "month_short",
    "nights",
    "number",
    "percent",
    "period_long",
    "sms_datetime",
    "time_short",
]
