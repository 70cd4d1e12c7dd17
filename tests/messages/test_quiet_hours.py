"""Quiet hours: non-urgent messages wait until the morning (Europe/Amsterdam), urgent ones go."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from respijt.clock import LOCAL_TZ
from respijt.messages.quiet_hours import next_allowed_send_time, parse_quiet_hours


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 12, 4, 20, 59), local(2026, 12, 4, 20, 59)),  # just before: goes now
        (local(2026, 12, 4, 21, 0), local(2026, 12, 5, 8, 0)),  # evening: next morning
        (local(2026, 12, 5, 3, 30), local(2026, 12, 5, 8, 0)),  # night: this morning
        (local(2026, 12, 5, 8, 0), local(2026, 12, 5, 8, 0)),  # the end is allowed
        (local(2026, 12, 5, 12, 0), local(2026, 12, 5, 12, 0)),
    ],
)
def test_non_urgent_messages_wait_for_the_end_of_quiet_hours(now, expected):
    assert next_allowed_send_time(now, urgent=False) == expected


def test_urgent_messages_go_at_once():
    now = local(2026, 12, 4, 23, 15)
    assert next_allowed_send_time(now, urgent=True) == now


def test_quiet_hours_end_at_local_time_across_daylight_saving_changes():
    # The night of 28 to 29 March 2027 the clocks go forward: 08:00 is 06:00 UTC, not 07:00.
    assert next_allowed_send_time(local(2027, 3, 27, 22, 0), urgent=False) == datetime(
        2027, 3, 28, 6, 0, tzinfo=UTC
    )
    # In autumn 08:00 local is 07:00 UTC again.
    assert next_allowed_send_time(local(2026, 10, 24, 22, 0), urgent=False) == datetime(
        2026, 10, 25, 7, 0, tzinfo=UTC
    )


def test_empty_setting_means_no_quiet_hours_and_a_daytime_window_works_too():
    now = local(2026, 12, 4, 23, 0)
    assert next_allowed_send_time(now, urgent=False, quiet_hours="") == now
    assert next_allowed_send_time(
        local(2026, 12, 4, 12, 30), urgent=False, quiet_hours="12:00-13:30"
    ) == local(2026, 12, 4, 13, 30)


@pytest.mark.parametrize("value", ["21-08", "25:00-08:00", "21:00 tot 08:00"])
def test_malformed_quiet_hours_are_refused(value):
    with pytest.raises(ValueError):
        parse_quiet_hours(value)
