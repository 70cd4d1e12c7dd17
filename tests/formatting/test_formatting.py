"""The one formatting layer (respijt.formatting): exact Dutch strings, and no hand formatting
elsewhere in the source tree."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from respijt import formatting as fmt
from respijt.claims.formats import money as json_money
from respijt.errors import CapacityBelowReserved, NoBedFree
from respijt.messages.texts import render
from respijt.web import charts, kpi_sections
from respijt.web import format as web_format

NBSP = "\xa0"
ROOT = Path(__file__).resolve().parents[2]


# --- dates and times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "short", "sms", "long"),
    [
        ("2026-12-05", "za 5 dec", "5 dec", "zaterdag 5 december 2026"),
        (date(2026, 1, 1), "do 1 jan", "1 jan", "donderdag 1 januari 2026"),
        (date(2027, 3, 1), "ma 1 mrt", "1 mrt", "maandag 1 maart 2027"),
        (datetime(2026, 6, 14, 23, 0, tzinfo=UTC), "zo 14 jun", "14 jun", "zondag 14 juni 2026"),
    ],
)
def test_dates(value: str | date, short: str, sms: str, long: str) -> None:
    assert fmt.date_short(value) == short
    assert fmt.day_month(value) == sms
    assert fmt.date_long(value) == long


def test_months() -> None:
    assert fmt.month_long(date(2026, 12, 5)) == "december 2026"
    assert fmt.month_short(date(2026, 3, 31)) == "mrt 2026"
    assert kpi_sections.month_label("2026-05") == "mei 2026"


def test_times_on_amsterdams_clock_across_daylight_saving() -> None:
    # Winter: UTC+1; summer: UTC+2.
    assert fmt.time_short(datetime(2026, 12, 5, 13, 30, tzinfo=UTC)) == "14:30"
    assert fmt.time_short(datetime(2026, 7, 1, 13, 30, tzinfo=UTC)) == "15:30"
    # Spring forward on 29 March 2026 at 02:00 local: 01:00 UTC is 03:00 local.
    assert fmt.time_short(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "01:59"
    assert fmt.time_short(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "03:00"
    # Fall back on 25 October 2026: 02:30 local happens twice, an hour apart in UTC.
    assert fmt.datetime_short("2026-10-25T00:30:00+00:00") == "zo 25 okt 02:30"
    assert fmt.datetime_short("2026-10-25T01:30:00Z") == "zo 25 okt 02:30"
    assert fmt.time_short(datetime(2026, 10, 25, 2, 0, tzinfo=UTC)) == "03:00"
    # Late in the evening UTC is already the next day in Amsterdam.
    assert fmt.datetime_short(datetime(2026, 12, 31, 23, 15, tzinfo=UTC)) == "vr 1 jan 00:15"
    assert fmt.sms_datetime(datetime(2026, 12, 4, 13, 30, tzinfo=UTC)) == "4 dec 14:30"


def test_datetime_long_and_unknown() -> None:
    moment = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)
    assert fmt.datetime_long(moment) == "zaterdag 5 december 2026 om 14:30"
    assert fmt.datetime_long(None) == "onbekend"
    assert fmt.datetime_long(None, unknown="nooit") == "nooit"


def test_a_period_names_its_date_once_when_it_starts_and_ends_the_same_day() -> None:
    nine, five = datetime(2026, 12, 8, 8, 0, tzinfo=UTC), datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert fmt.period_long(nine, five) == "dinsdag 8 december 2026, 09:00 tot 17:00"
    two_days = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    assert fmt.period_long(five, two_days) == (
        "dinsdag 8 december 2026 om 17:00 tot donderdag 10 december 2026 om 09:00"
    )
    # The day is Amsterdam's: 23:30 UTC on the 8th is already the 9th there.
    late = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    assert fmt.period_long(five, late) == (
        "dinsdag 8 december 2026 om 17:00 tot woensdag 9 december 2026 om 00:30"
    )
    # Different days in UTC, one day on the wall clock: the date once.
    assert fmt.period_long("2026-12-08T23:15:00Z", "2026-12-09T08:00:00Z") == (
        "woensdag 9 december 2026, 00:15 tot 09:00"
    )


# --- numbers, shares, money -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (12345.67, 1, "12.345,7"),
        (12345.7, 1, "12.345,7"),
        (12345, 0, "12.345"),
        (1234567.891, 2, "1.234.567,89"),
        (0, 0, "0"),
        (0, 1, "0,0"),
        (-3.5, 1, "-3,5"),
        (-1234.5, 0, "-1.234"),  # Babel rounds half to even
        (8.0, 1, "8,0"),
        (999, 0, "999"),
    ],
)
def test_number(value: float, digits: int, expected: str) -> None:
    assert fmt.number(value, digits) == expected


def test_missing_figures_are_a_dash() -> None:
    assert fmt.DASH == "–"
    for function in (fmt.number, fmt.percent, fmt.money, fmt.duration):
        assert function(None) == "–"  # type: ignore[operator]
    assert fmt.number(None, unknown="") == ""


@pytest.mark.parametrize(
    ("share", "digits", "expected"),
    [
        (0.25, 0, "25%"),
        (0.125, 1, "12,5%"),
        (0.0, 0, "0%"),
        (1.0, 0, "100%"),
        (1.0, 1, "100,0%"),
        (-0.253, 1, "-25,3%"),
        (12.3456, 1, "1.234,6%"),
        (0.07, 0, "7%"),  # 0.07 * 100 is 7.000000000000001 as a float: no stray digits
    ],
)
def test_percent(share: float, digits: int, expected: str) -> None:
    assert fmt.percent(share, digits) == expected


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (14500, f"€{NBSP}145,00"),
        (5, f"€{NBSP}0,05"),
        (0, f"€{NBSP}0,00"),
        (-1250, f"€{NBSP}-12,50"),
        (123456789, f"€{NBSP}1.234.567,89"),
    ],
)
def test_money(cents: int, expected: str) -> None:
    assert fmt.money(cents) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "1 uur"),
        (2, "2 uur"),
        (1.5, "1,5 uur"),
        (0, "0 uur"),
        (47, "47 uur"),
        (48, "2 dagen"),
        (72, "3 dagen"),
        (timedelta(hours=2), "2 uur"),
        (timedelta(days=3), "3 dagen"),
        (timedelta(days=10, hours=13), "11 dagen"),
    ],
)
def test_duration(value: float | timedelta, expected: str) -> None:
    assert fmt.duration(value) == expected


def test_nights() -> None:
    assert fmt.nights(1) == "1 nacht"
    assert fmt.nights(3) == "3 nachten"
    assert fmt.nights(0) == "0 nachten"
    assert fmt.nights(1234) == "1.234 nachten"


def test_counted_nouns_take_the_form_for_their_number() -> None:
    assert fmt.counted(1, "regel", "regels") == "1 regel"
    assert fmt.counted(3, "regel", "regels") == "3 regels"
    assert fmt.counted(0, "gat", "gaten") == "0 gaten"
    assert fmt.counted(1234, "regel", "regels") == "1.234 regels"


def test_the_rota_reminder_counts_its_handover_notes_in_words() -> None:
    context = {"region": "LEI", "ends_at": "2027-12-27T08:00:00+00:00"}
    one = render("rota_reminder_start", {**context, "handover_count": 1})
    two = render("rota_reminder_start", {**context, "handover_count": 2})
    none = render("rota_reminder_start", {**context, "handover_count": 0})
    assert "Lees eerst de overdrachtsnotitie." in one
    assert "Lees eerst de 2 overdrachtsnotities." in two
    assert "overdracht" not in none


# --- CSV cells: machine-friendly -------------------------------------------------------------


def test_csv_number_has_no_grouping_and_keeps_digits() -> None:
    assert fmt.csv_number(12345.7) == "12345,7"
    assert fmt.csv_number(12345.7, comma=False) == "12345.7"
    assert fmt.csv_number(1 / 3) == "0,3333333333333333"
    assert fmt.csv_number(1234567) == "1234567"
    assert fmt.csv_number(8.0) == "8,0"
    assert fmt.csv_number(-0.25) == "-0,25"
    assert fmt.csv_number(0.5, 4) == "0,5000"
    assert fmt.csv_number(0.5, 4, comma=False) == "0.5000"
    assert fmt.csv_number(-2.25, 1) == "-2,2"
    assert fmt.csv_number(None) == ""


def test_csv_money() -> None:
    assert fmt.csv_money(14500) == "145,00"
    assert fmt.csv_money(123456789) == "1234567,89"
    assert fmt.csv_money(-1250) == "-12,50"
    assert fmt.csv_money(-1250, comma=False) == "-12.50"
    assert fmt.csv_money(0) == "0,00"
    assert fmt.csv_money(None) == ""
    # The API's JSON keeps its decimal point.
    assert json_money(-1250) == "-12.50"


# --- the callers use the layer ---------------------------------------------------------------


def test_page_filters_sms_and_charts_write_the_layers_text() -> None:
    assert web_format.short_date("2026-12-04") == "vr 4 dec"
    assert web_format.long_date(date(2026, 12, 4)) == "vrijdag 4 december 2026"
    moment = datetime(2026, 7, 1, 6, 5, tzinfo=UTC)
    assert web_format.local_datetime(moment) == "woensdag 1 juli 2026 om 08:05"
    assert charts.number(12345.0) == "12.345"
    assert charts.number(2.25, decimals=1) == "2,2"
    assert charts.percent(0.5) == "50%"
    assert charts.percent(None, suppressed=True) == "<5"
    assert kpi_sections.value_text("x.median", 4.25, set()) == "4,25"
    assert kpi_sections.value_text("x.median", 8.0, set()) == "8,0"
    assert kpi_sections.value_text("x.median", 1234.5, set()) == "1.234,5"
    assert kpi_sections.value_text("x.share", 0.333, set()) == "33%"
    text = render(
        "reservation_confirm_request",
        {
            "code": "R-ABC",
            "location": "De Linde",
            "arrival": "2026-12-21",
            "departure": "2027-01-04",
            "nights": 14,
            "deadline": "2026-12-05T13:30:00+00:00",
        },
    )
    assert "21 dec tot 4 jan (14 nachten)" in text
    assert "voor 5 dec 14:30" in text


def test_error_details_name_nights_in_words_and_keep_iso_for_machines() -> None:
    nights = [date(2026, 12, 31), date(2027, 1, 1)]
    full = NoBedFree(nights)
    assert full.detail == "Er is niet voor elke nacht een bed vrij. Vol: do 31 dec, vr 1 jan."
    assert full.extra["nights"] == ["2026-12-31", "2027-01-01"]
    assert "voor 2 nachten: do 31 dec, vr 1 jan." in CapacityBelowReserved(nights).detail
    assert "voor 1 nacht: do 31 dec." in CapacityBelowReserved(nights[:1]).detail


# --- no hand formatting outside the layer ----------------------------------------------------

HAND_FORMATTING = re.compile(
    r"strftime\("  # a date written by hand
    r"|\.replace\(\s*['\"]\.['\"]\s*,\s*['\"],['\"]\s*\)"  # a decimal comma by hand
    r"|\.replace\(\s*['\"],['\"]\s*,\s*['\"] ['\"]\s*\)"  # a thousands space by hand
    r"|:%[dmHYy]"  # a date format inside an f-string
    r"|:,[.}]"  # thousands grouping by hand ("{x:,}", "{x:,.1f}")
)
# ISO 8601 / API / machine uses that stay, by file and by the text on the line.
ALLOWED = {
    ("respijt/meldpunt/ical.py", 'strftime("%Y%m%dT%H%M%SZ")'),  # iCalendar UTC stamp
    ("respijt/web/__init__.py", "Expires: {expires.strftime("),  # security.txt, RFC 9116
    ("respijt/claims/formats.py", 'strftime("%Y-%m-%dT%H:%M:%SZ")'),  # iso_utc for the API
    ("respijt/beds/availability.py", '# Same text as strftime("'),  # a comment
    ("respijt/api/access_log.py", 'strftime("%Y-%m-%dT%H:%M:%SZ")'),
    ("respijt/api/request_schemas.py", "strftime(ISO)"),
    ("respijt/api/messages.py", "strftime(ISO)"),
    ("respijt/api/meldpunt.py", "strftime(ISO)"),
    ("respijt/api/schemas.py", "strftime(_API_TIME)"),
    ("respijt/web/provider.py", ":%Y-%m}"),  # the ?maand=JJJJ-MM query value
    ("respijt/care_requests/notices.py", "{now:%Y%m%d%H}"),  # a dedupe key
    ("respijt/scheduler/jobs.py", "{self.at:%H:%M}"),  # the scheduler's log, English
    # Operators' command line and log timestamps: ISO-like, sortable.
    ("respijt/scheduler/runner.py", 'strftime("%Y-%m-%d %H:%M:%S")'),
    ("respijt/scheduler/status.py", 'strftime("%Y-%m-%d %H:%M:%S")'),
    ("respijt/cli/accounts.py", 'strftime("%Y-%m-%d %H:%M")'),
    ("respijt/cli/commands.py", ":%Y-%m-%d}"),
    # SQL for SQLite: a stored timestamp's whole seconds, for the time between two of them.
    ("respijt/models/base.py", "strftime('%s', substr("),
}


def _hand_formatting() -> list[str]:
    found = []
    paths = [*ROOT.joinpath("respijt").rglob("*.py"), *ROOT.joinpath("templates").rglob("*")]
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        if not path.is_file() or relative.startswith("respijt/formatting/"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not HAND_FORMATTING.search(line):
                continue
            if any(relative == file and text in line for file, text in ALLOWED):
                continue
            found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_hand_formatting_outside_the_layer() -> None:
    """Dates and numbers for people go through respijt.formatting; ISO 8601 for machines is on
    the allow-list above, by file and text."""
    assert _hand_formatting() == []


def test_the_hand_formatting_check_finds_what_it_looks_for() -> None:
    for line in (
        'day.strftime("%d-%m-%Y")',
        'f"{value:.1f}".replace(".", ",")',
        "text.replace(',', ' ')",
        'f"{reservation.arrival:%d-%m}"',
        'f"{abs(cents) // 100:,}".replace(",", ".")',
    ):
        assert HAND_FORMATTING.search(line), line
    assert not HAND_FORMATTING.search("formatting.number(value, 1)")


def test_the_pages_filters_are_the_layer(app) -> None:
    moment = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)
    template = app.jinja_env.from_string(
        "{{ day|kort }} | {{ day|lang }} | {{ moment|lokaal }} | {{ moment|tijd }} | "
        "{{ day|maand }} | {{ 12345.67|getal(1) }} | {{ 0.125|procent(1) }} | {{ 14500|euro }} | "
        "{{ 72|duur }} | {{ 3|nachten }} | {{ none|getal }} | {{ 1|aantal('regel', 'regels') }}"
    )
    assert template.render(day=date(2026, 12, 5), moment=moment) == (
        "za 5 dec | zaterdag 5 december 2026 | zaterdag 5 december 2026 om 14:30 | 14:30 | "
        f"december 2026 | 12.345,7 | 12,5% | €{NBSP}145,00 | 3 dagen | 3 nachten | – | 1 regel"
    )


# --- no plural in brackets: "regel(s)", "nacht(en)" -----------------------------------------

BRACKETED_PLURAL = re.compile(r"[a-zà-ÿ]\((?:s|en)\)(?=\W|$)")
JINJA_CODE = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)


def _texts_of(path: Path) -> list[tuple[int, str]]:
    """The text a person may read: a template without its Jinja code, or a module's string
    literals (f-string parts included)."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return [
            (1 + source.count("\n", 0, m.start()), m.group())
            for m in re.finditer(r"[^\n]+", JINJA_CODE.sub(lambda c: " " * len(c.group()), source))
        ]
    tree = ast.parse(source)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _bracketed_plurals() -> list[str]:
    found = []
    paths = [*ROOT.joinpath("respijt").rglob("*.py"), *ROOT.joinpath("templates").rglob("*")]
    for path in paths:
        if not path.is_file():
            continue
        for line, text in _texts_of(path):
            if BRACKETED_PLURAL.search(text):
                found.append(f"{path.relative_to(ROOT).as_posix()}:{line}: {text.strip()[:80]}")
    return found


def test_no_plural_in_brackets_on_pages_sms_or_messages() -> None:
    """'1 regel', '3 regels' (formatting.counted, the filter `aantal`), never 'regel(s)'."""
    assert _bracketed_plurals() == []


def test_the_bracketed_plural_check_finds_what_it_looks_for() -> None:
    for text in ("3 regel(s), als CSV", "de nacht(en): vr 1 jan", "rij(en)"):
        assert BRACKETED_PLURAL.search(text), text
    assert not BRACKETED_PLURAL.search("Wmo (gemeente)")
