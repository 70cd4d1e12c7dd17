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


# --- care requests --------------------------------------------------------------------------

REQUEST_NEW = "new"
REQUEST_OFFERED = "offered"
REQUEST_PLACED = "placed"
REQUEST_WAITLISTED = "waitlisted"
REQUEST_WITHDRAWN = "withdrawn"
REQUEST_EXPIRED = "expired"
REQUEST_NO_FIT = "no_fit"

REQUEST_STATUSES = (
    REQUEST_NEW,
    REQUEST_OFFERED,
    REQUEST_PLACED,
    REQUEST_WAITLISTED,
    REQUEST_WITHDRAWN,
    REQUEST_EXPIRED,
    REQUEST_NO_FIT,
)
# Open requests are the meldpunt's work list; only they get matches and offers.
OPEN_REQUEST_STATUSES = (REQUEST_NEW, REQUEST_OFFERED, REQUEST_WAITLISTED)

REQUEST_LABELS = {
    REQUEST_NEW: "Nieuw",
    REQUEST_OFFERED: "Aanbod gedaan",
    REQUEST_PLACED: "Geplaatst",
    REQUEST_WAITLISTED: "Op de wachtlijst",
    REQUEST_WITHDRAWN: "Ingetrokken",
    REQUEST_EXPIRED: "Verlopen",
    REQUEST_NO_FIT: "Geen passend aanbod",
}

# (from, to) -> parties. "system" follows reservations, the waitlist job and the expiry sweep.
REQUEST_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (REQUEST_NEW, REQUEST_OFFERED): frozenset({"system"}),
    (REQUEST_NEW, REQUEST_WAITLISTED): frozenset({"system", "meldpunt"}),
    (REQUEST_NEW, REQUEST_PLACED): frozenset({"system"}),
    (REQUEST_NEW, REQUEST_WITHDRAWN): frozenset({"requester"}),
    (REQUEST_NEW, REQUEST_EXPIRED): frozenset({"system"}),
    (REQUEST_NEW, REQUEST_NO_FIT): frozenset({"meldpunt"}),
    (REQUEST_OFFERED, REQUEST_PLACED): frozenset({"system"}),
    (REQUEST_OFFERED, REQUEST_NEW): frozenset({"system"}),
    (REQUEST_OFFERED, REQUEST_WAITLISTED): frozenset({"system"}),
    (REQUEST_OFFERED, REQUEST_WITHDRAWN): frozenset({"requester"}),
    (REQUEST_OFFERED, REQUEST_EXPIRED): frozenset({"system"}),
    (REQUEST_WAITLISTED, REQUEST_OFFERED): frozenset({"system"}),
    (REQUEST_WAITLISTED, REQUEST_PLACED): frozenset({"system"}),
    (REQUEST_WAITLISTED, REQUEST_WITHDRAWN): frozenset({"requester"}),
    (REQUEST_WAITLISTED, REQUEST_EXPIRED): frozenset({"system"}),
    (REQUEST_WAITLISTED, REQUEST_NO_FIT): frozenset({"meldpunt"}),
    # A confirmed stay that is cancelled sends the request back to matching.
    (REQUEST_PLACED, REQUEST_NEW): frozenset({"system"}),
}


def check_request_transition(current: str, target: str, party: str) -> None:
    """Raise InvalidTransition unless `party` may move a care request from current to target."""
    allowed = REQUEST_TRANSITIONS.get((current, target))
    if allowed is None:
        raise InvalidTransition(
            f"Een aanvraag met status '{REQUEST_LABELS.get(current, current)}' kan niet "
            f"naar '{REQUEST_LABELS.get(target, target)}'."
        )
    if party not in allowed:
        raise InvalidTransition(f"Deze stap ({REQUEST_LABELS.get(target, target)}) is niet aan u.")
