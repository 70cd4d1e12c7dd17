"""The rule of a series: one weekend a month (first … fourth, or last), every N weeks, and the
API's older every N days; each stay keeps its weekday and length, none overlaps."""

from __future__ import annotations

from datetime import date

from respijt.care_requests.common import MAX_SERIES_STAYS
from respijt.care_requests.recurrence import SeriesRule, stay_dates, stored_rule, weekend_saturday


def test_the_first_weekend_of_every_month_friday_to_sunday():
    stays = stay_dates(
        date(2027, 3, 5), date(2027, 3, 7), SeriesRule("month", 1), date(2027, 6, 30)
    )
    assert stays == [
        (date(2027, 3, 5), date(2027, 3, 7)),
        (date(2027, 4, 2), date(2027, 4, 4)),
        # 1 May 2027 is a Saturday: its weekend starts on Friday 30 April.
        (date(2027, 4, 30), date(2027, 5, 2)),
        (date(2027, 6, 4), date(2027, 6, 6)),
    ]
    assert all(arrival.weekday() == 4 for arrival, _ in stays)


def test_the_last_weekend_and_the_second_weekend():
    last = stay_dates(
        date(2027, 3, 26), date(2027, 3, 28), SeriesRule("month", -1), date(2027, 5, 31)
    )
    assert [a for a, _ in last] == [date(2027, 3, 26), date(2027, 4, 23), date(2027, 5, 28)]
    assert weekend_saturday(2027, 2, 2) == date(2027, 2, 13)
    assert weekend_saturday(2027, 7, -1) == date(2027, 7, 31)


def test_every_n_weeks_and_the_older_every_n_days():
    weeks = stay_dates(
        date(2027, 3, 5), date(2027, 3, 7), SeriesRule("weeks", 3), date(2027, 4, 30)
    )
    assert [a for a, _ in weeks] == [date(2027, 3, 5), date(2027, 3, 26), date(2027, 4, 16)]
    days = stay_dates(date(2027, 3, 5), date(2027, 3, 7), SeriesRule("days", 28), date(2027, 5, 1))
    assert [a for a, _ in days] == [date(2027, 3, 5), date(2027, 4, 2), date(2027, 4, 30)]


def test_a_long_series_is_capped_and_stored_rules_read_back():
    stays = stay_dates(date(2027, 1, 1), date(2027, 1, 3), SeriesRule("month", 1), date(2035, 1, 1))
    assert len(stays) == MAX_SERIES_STAYS
    assert stored_rule("month:-1", 28) == SeriesRule("month", -1)
    assert stored_rule(None, 28) == SeriesRule("days", 28)
    assert stored_rule(None, None) is None


def test_the_stays_of_a_series_in_a_few_words():
    from types import SimpleNamespace

    from respijt.reservations.notices import stays_in_words

    def stay(place: str, day: date, nights: int = 2) -> SimpleNamespace:
        unit = SimpleNamespace(location=SimpleNamespace(name=place))
        return SimpleNamespace(unit=unit, arrival=day, nights=nights)

    months = [stay("De Linde", date(2027, m, 5)) for m in range(3, 10)]
    assert stays_in_words(months) == (
        "De Linde 5 mrt, 5 apr, 5 mei, 5 jun en 3 meer (telkens 2 nachten)"
    )
    mixed = [stay("De Linde", date(2027, 3, 5)), stay("Het Veer", date(2027, 4, 2), 3)]
    assert stays_in_words(mixed) == "De Linde 5 mrt; Het Veer 2 apr"  # type: ignore[arg-type]
