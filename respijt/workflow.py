"""State machines as data: which status may follow which, and who may make that step.

`check_transition()` is the one place that enforces them; history rows are appended by the
domain module that performs the step.
"""

from __future__ import annotations

from respijt.errors import InvalidTransition

# --- reservations ---------------------------------------------------------------------------

HELD = "held"
AWAITING_PROVIDER = "awaiting_provider"
CONFIRMED = "confirmed"
CHECKED_IN = "checked_in"
COMPLETED = "completed"
DECLINED = "declined"
EXPIRED = "expired"
CANCELLED = "cancelled"
NO_SHOW = "no_show"

# Statuses whose nights count in night_inventory.reserved (DESIGN invariant 2).
ACTIVE_RESERVATION_STATUSES = (HELD, AWAITING_PROVIDER, CONFIRMED, CHECKED_IN)
# Statuses that stop counting when expires_at passes (invariant 3).
EXPIRING_RESERVATION_STATUSES = (HELD, AWAITING_PROVIDER)

RESERVATION_LABELS = {
    HELD: "Vastgehouden",
    AWAITING_PROVIDER: "Wacht op aanbieder",
    CONFIRMED: "Bevestigd",
    CHECKED_IN: "Aangekomen",
    COMPLETED: "Afgerond",
    DECLINED: "Afgewezen door aanbieder",
    EXPIRED: "Verlopen",
    CANCELLED: "Geannuleerd",
    NO_SHOW: "Niet verschenen",
}

# (from, to) -> the parties that may take that step. "system" is the expiry sweep.
RESERVATION_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (HELD, CONFIRMED): frozenset({"requester"}),
    (HELD, AWAITING_PROVIDER): frozenset({"requester"}),
    (HELD, CANCELLED): frozenset({"requester", "provider"}),
    (HELD, EXPIRED): frozenset({"system"}),
    (AWAITING_PROVIDER, CONFIRMED): frozenset({"provider"}),
    (AWAITING_PROVIDER, DECLINED): frozenset({"provider"}),
    (AWAITING_PROVIDER, CANCELLED): frozenset({"requester", "provider"}),
    (AWAITING_PROVIDER, EXPIRED): frozenset({"system"}),
    (CONFIRMED, CHECKED_IN): frozenset({"provider"}),
    (CONFIRMED, NO_SHOW): frozenset({"provider"}),
    (CONFIRMED, CANCELLED): frozenset({"requester", "provider"}),
    (CHECKED_IN, COMPLETED): frozenset({"provider"}),
}


def check_transition(current: str, target: str, party: str) -> None:
    """Raise InvalidTransition unless `party` may move a reservation from current to target."""
    allowed = RESERVATION_TRANSITIONS.get((current, target))
    if allowed is None:
        raise InvalidTransition(
            f"Een reservering met status '{RESERVATION_LABELS.get(current, current)}' kan niet "
            f"naar '{RESERVATION_LABELS.get(target, target)}'."
        )
    if party not in allowed:
        raise InvalidTransition(
            f"Deze stap ({RESERVATION_LABELS.get(target, target)}) is niet aan u."
        )
