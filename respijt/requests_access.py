"""The one place where reads and changes of care requests are written to the access log.

NEN 7513 (DESIGN invariant 6): every read or change of client data writes an access-log row in
the same transaction, through `privacy.log_access` (the row carries the request's region, so a
coordinator sees the log of their own regions).
"""

from __future__ import annotations

from sqlalchemy import select

from respijt import privacy
from respijt.auth import Caller
from respijt.database import DbSession
from respijt.models import CareRequest

ACTIONS = ("read", "search", "create", "change")
PURPOSE = "zorgbemiddeling"
_OUTCOMES = {"granted": "success", "denied": "denied", "failed": "failed"}


def log_request_access(
    session: DbSession,
    *,
    action: str,
    caller: Caller,
    reference: str | None,
    outcome: str,
) -> None:
    """Log one access to a care request: `action` in ACTIONS, `outcome` granted, denied or
    failed (refused by a rule).
    A search (no single reference) is logged once, with client reference "search"."""
    assert action in ACTIONS, action
    region_id = None
    if reference is not None:
        region_id = session.scalar(
            select(CareRequest.region_id).where(CareRequest.reference == reference)
        )
    privacy.log_access(
        session,
        action=f"care_request.{action}",
        event=action,
        caller=caller,
        client_reference=reference or "search",
        outcome=_OUTCOMES[outcome],
        purpose=PURPOSE,
        source=None,
        region_id=region_id,
    )
