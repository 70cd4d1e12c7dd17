"""Shared pieces of the care-request modules: references, callers, small checks."""

from __future__ import annotations

import secrets

from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES, REQUEST_LABELS
from respijt.errors import InvalidTransition
from respijt.models import CareRequest
from respijt.people.caller import Caller

# No look-alikes: 0/O/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B.
REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
REFERENCE_PREFIX = "R-"
MAX_SERIES_STAYS = 26
PUBLIC = Caller(key="public", role="public")


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def normalise_reference(raw: str) -> str:
    """Accept 'r-7k3p9a', 'R7K3P9A' or 'R-7K3P9A' as typed on a phone."""
    cleaned = raw.strip().upper().replace(" ", "")
    if not cleaned.startswith(REFERENCE_PREFIX) and cleaned.startswith("R"):
        cleaned = REFERENCE_PREFIX + cleaned[1:]
    return cleaned


def link_caller(reference: str, *, by_sms: bool = False) -> Caller:
    """The requester acting through a signed link: the one of their SMS (`by_sms`, the
    phone) or the form's own token handed back when the request was made."""
    return Caller(key=f"link:{reference}", role="public", by_sms_link=by_sms)


def problem(name: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


def ensure_open(care_request: CareRequest) -> None:
    if care_request.status not in OPEN_REQUEST_STATUSES:
        raise InvalidTransition(
            f"Deze aanvraag is '{REQUEST_LABELS[care_request.status]}'; er wordt niet meer "
            "voor gezocht."
        )
