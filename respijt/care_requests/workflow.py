"""The care request's states as data: which status may follow which, and who may make that step.

`check_request_transition()` is the one place that enforces them; history rows are appended by
the domain module that performs the step.
"""

from __future__ import annotations

from respijt.reservations.workflow import check_step

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
    check_step(REQUEST_TRANSITIONS, REQUEST_LABELS, "Een aanvraag", (current, target), party)
