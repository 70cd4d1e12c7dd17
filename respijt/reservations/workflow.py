"""The reservation's states as data (which status may follow which, and who may make that
step), and who may do what on reservations and care requests (`WHO_MAY`).

`check_transition()` is the one place that enforces the states; history rows are appended by the
domain module that performs the step.
"""

from __future__ import annotations

from respijt.errors import Forbidden, InvalidTransition

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


def check_step(
    transitions: dict[tuple[str, str], frozenset[str]],
    labels: dict[str, str],
    noun: str,
    step: tuple[str, str],
    party: str,
) -> None:
    """Raise InvalidTransition unless `party` may make `step` (current, target) in the state
    table `transitions`; `noun` and `labels` word the refusal ("Een reservering", …)."""
    current, target = step
    allowed = transitions.get(step)
    if allowed is None:
        raise InvalidTransition(
            f"{noun} met status '{labels.get(current, current)}' kan niet "
            f"naar '{labels.get(target, target)}'."
        )
    if party not in allowed:
        raise InvalidTransition(f"Deze stap ({labels.get(target, target)}) is niet aan u.")


def check_transition(current: str, target: str, party: str) -> None:
    """Raise InvalidTransition unless `party` may move a reservation from current to target."""
    check_step(
        RESERVATION_TRANSITIONS, RESERVATION_LABELS, "Een reservering", (current, target), party
    )


# --- who may do what (DESIGN §2) ------------------------------------------------------------
#
# One row per action, one column per role: on which objects that role may do it. The scope is
# enforced by the visibility queries (respijt/care_requests/access.py): someone else's client
# data answers 404 there; a role without an entry here is refused with 403 (`ensure_may`).
# docs/security.md shows this table; tests/reservations/test_who_may.py keeps the two equal.

PUBLIC_ROLE = "public"  # anyone; with the signed link of their SMS, for their own request
WHO_MAY_ROLES = (PUBLIC_ROLE, "verwijzer", "provider", "meldpunt", "coordinator", "admin")

ANYONE = "anyone"
OWN = "own"  # a verwijzer: made by them, or serving a request they made; public: via the link
OWN_LOCATIONS = "own locations"  # a provider: at a location of their provider
NEED_TO_KNOW = "need to know"  # the meldpunt: see care_requests/access.py
OWN_REGIONS = "own regions"  # a coordinator
ALL = "all"  # an admin
SCOPES = (ANYONE, OWN, OWN_LOCATIONS, NEED_TO_KNOW, OWN_REGIONS, ALL)

REQUEST_READ = "request.read"
REQUEST_LIST = "request.list"
REQUEST_CREATE = "request.create"
REQUEST_MATCHES = "request.matches"
REQUEST_PREFER = "request.prefer"
REQUEST_WITHDRAW = "request.withdraw"
REQUEST_CLOSE = "request.close"
RESERVATION_READ = "reservation.read"
RESERVATION_HOLD = "reservation.hold"
RESERVATION_CONFIRM_HOLD = "reservation.confirm_hold"
RESERVATION_CANCEL_HOLD = "reservation.cancel_hold"
RESERVATION_CHANGE_HOLD = "reservation.change_hold"
RESERVATION_ANSWER = "reservation.answer"
RESERVATION_CANCEL_STAY = "reservation.cancel_stay"
RESERVATION_CHANGE_STAY = "reservation.change_stay"
RESERVATION_ATTENDANCE = "reservation.attendance"

_REQUESTER = {PUBLIC_ROLE: OWN, "verwijzer": OWN}

WHO_MAY: dict[str, dict[str, str]] = {
    REQUEST_READ: {
        **_REQUESTER,
        "meldpunt": NEED_TO_KNOW,
        "coordinator": OWN_REGIONS,
        "admin": ALL,
    },
    REQUEST_LIST: {
        "verwijzer": OWN,
        "meldpunt": NEED_TO_KNOW,
        "coordinator": OWN_REGIONS,
        "admin": ALL,
    },
    REQUEST_CREATE: {PUBLIC_ROLE: ANYONE, "verwijzer": ANYONE, "meldpunt": ANYONE},
    REQUEST_MATCHES: {**_REQUESTER, "meldpunt": NEED_TO_KNOW},
    REQUEST_PREFER: {**_REQUESTER},
    # The meldpunt withdraws on behalf of a requester who phones.
    REQUEST_WITHDRAW: {**_REQUESTER, "meldpunt": NEED_TO_KNOW},
    REQUEST_CLOSE: {"meldpunt": NEED_TO_KNOW},
    RESERVATION_READ: {
        **_REQUESTER,
        "provider": OWN_LOCATIONS,
        "meldpunt": NEED_TO_KNOW,
        "coordinator": OWN_REGIONS,
        "admin": ALL,
    },
    # Place a hold or an offer (one stay, or every open stay of a series).
    # The public: the family's own choice through the signed SMS link (care_requests/choices.py).
    RESERVATION_HOLD: {PUBLIC_ROLE: OWN, "verwijzer": OWN, "meldpunt": NEED_TO_KNOW},
    # A hold or offer (held): accept it, or cancel or move it while it is held or awaits the
    # provider's yes.
    RESERVATION_CONFIRM_HOLD: {**_REQUESTER, "meldpunt": NEED_TO_KNOW},
    RESERVATION_CANCEL_HOLD: {**_REQUESTER, "provider": OWN_LOCATIONS, "meldpunt": NEED_TO_KNOW},
    RESERVATION_CHANGE_HOLD: {
        "verwijzer": OWN,
        "provider": OWN_LOCATIONS,
        "meldpunt": NEED_TO_KNOW,
    },
    # The provider's yes or no to a stay that awaits it.
    RESERVATION_ANSWER: {"provider": OWN_LOCATIONS},
    # A confirmed stay belongs to the requester and the provider: the meldpunt's part ends at
    # the placement, and a cancellation sends the family an SMS they did not ask for.
    RESERVATION_CANCEL_STAY: {**_REQUESTER, "provider": OWN_LOCATIONS},
    RESERVATION_CHANGE_STAY: {"verwijzer": OWN, "provider": OWN_LOCATIONS},
    # Check in, check out, no-show.
    RESERVATION_ATTENDANCE: {"provider": OWN_LOCATIONS},
}

WHO_MAY_LABELS = {
    REQUEST_READ: "read a request",
    REQUEST_LIST: "list requests",
    REQUEST_CREATE: "submit a request",
    REQUEST_MATCHES: "see the matching beds",
    REQUEST_PREFER: "state a preference",
    REQUEST_WITHDRAW: "withdraw a request",
    REQUEST_CLOSE: "close a request without a fit",
    RESERVATION_READ: "read a reservation",
    RESERVATION_HOLD: "place a hold or offer",
    RESERVATION_CONFIRM_HOLD: "accept a hold or offer",
    RESERVATION_CANCEL_HOLD: "cancel a hold or offer",
    RESERVATION_CHANGE_HOLD: "change the dates of a hold or offer",
    RESERVATION_ANSWER: "confirm or decline for the provider",
    RESERVATION_CANCEL_STAY: "cancel a confirmed stay",
    RESERVATION_CHANGE_STAY: "change the dates of a confirmed stay",
    RESERVATION_ATTENDANCE: "check in, check out, no-show",
}


def may(role: str, action: str) -> bool:
    """Whether `role` may take `action` at all (on which objects: WHO_MAY's scope)."""
    return role in WHO_MAY[action]


def roles_that_may(action: str) -> tuple[str, ...]:
    """The roles with an entry for `action`, in WHO_MAY_ROLES order."""
    return tuple(role for role in WHO_MAY_ROLES if role in WHO_MAY[action])


def account_roles_that_may(action: str) -> tuple[str, ...]:
    """`roles_that_may` without the public: the roles a token or a web account can hold."""
    return tuple(role for role in roles_that_may(action) if role != PUBLIC_ROLE)


def ensure_may(role: str, action: str) -> None:
    """Raise Forbidden (403) unless `role` may take `action`."""
    if not may(role, action):
        raise Forbidden(f"Uw rol mag dit niet: {WHO_MAY_LABELS_NL[action]}.")


def reservation_action(step: str, status: str) -> str:
    """The WHO_MAY action of a step ("cancel", "dates") on a reservation with `status`: a hold
    (held, awaiting the provider) or a stay (confirmed, checked in)."""
    is_hold = status in EXPIRING_RESERVATION_STATUSES
    if step == "cancel":
        return RESERVATION_CANCEL_HOLD if is_hold else RESERVATION_CANCEL_STAY
    if step == "dates":
        return RESERVATION_CHANGE_HOLD if is_hold else RESERVATION_CHANGE_STAY
    raise ValueError(step)


WHO_MAY_LABELS_NL = {
    REQUEST_READ: "een aanvraag inzien",
    REQUEST_LIST: "aanvragen opvragen",
    REQUEST_CREATE: "een aanvraag indienen",
    REQUEST_MATCHES: "passende bedden zoeken",
    REQUEST_PREFER: "een voorkeur opgeven",
    REQUEST_WITHDRAW: "een aanvraag intrekken",
    REQUEST_CLOSE: "een aanvraag sluiten",
    RESERVATION_READ: "een reservering inzien",
    RESERVATION_HOLD: "een bed vasthouden",
    RESERVATION_CONFIRM_HOLD: "een aanbod aannemen",
    RESERVATION_CANCEL_HOLD: "een aanbod annuleren",
    RESERVATION_CHANGE_HOLD: "de data van een aanbod wijzigen",
    RESERVATION_ANSWER: "bevestigen of afwijzen namens de aanbieder",
    RESERVATION_CANCEL_STAY: "een bevestigd verblijf annuleren",
    RESERVATION_CHANGE_STAY: "de data van een bevestigd verblijf wijzigen",
    RESERVATION_ATTENDANCE: "aankomst, vertrek of niet verschenen melden",
}
