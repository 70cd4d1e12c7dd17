"""Care requests (aanvragen): intake with Dutch validation, access, options and choices,
withdrawal, expiry and series. Plain functions over a session: they flush, never commit.

Status steps go through `request_status.set_status()`; reservations made for a request move it
along through `request_status.follow_reservation()` (called by booking.py).
"""

from respijt.care_requests.access import (
    get_request,
    restrict_to_visible,
    visible_request_query,
)
from respijt.care_requests.access import get_reservation as get_visible_reservation
from respijt.care_requests.choices import (
    active_offer,
    link_stay,
    matches_for,
    offers_of,
    prefer_option,
    preferred_option,
    prepare_reservation,
    record_choice,
    request_reservation,
)
from respijt.care_requests.common import (
    PUBLIC,
    REFERENCE_ALPHABET,
    SYSTEM,
    link_caller,
    new_reference,
    normalise_reference,
)
from respijt.care_requests.intake import (
    create_request,
    flag_for_meldpunt,
    series_dates,
    stay_limits,
    validate_request,
)
from respijt.care_requests.lifecycle import (
    close_without_fit,
    expire_past_requests,
    lead_time_hours,
    withdraw,
)
from respijt.care_requests.series import SeriesResult, hold_series

__all__ = [
    "PUBLIC",
    "REFERENCE_ALPHABET",
    "SYSTEM",
    "SeriesResult",
    "active_offer",
    "close_without_fit",
    "create_request",
    "expire_past_requests",
    "flag_for_meldpunt",
    "get_request",
    "get_visible_reservation",
    "hold_series",
    "lead_time_hours",
    "link_caller",
    "link_stay",
    "matches_for",
    "new_reference",
    "normalise_reference",
    "offers_of",
    "prefer_option",
    "preferred_option",
    "prepare_reservation",
    "record_choice",
    "request_reservation",
    "restrict_to_visible",
    "series_dates",
    "stay_limits",
    "validate_request",
    "visible_request_query",
    "withdraw",
]
