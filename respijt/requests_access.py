"""The one place where reads and changes of care requests are written to the access log.

NEN 7513 (DESIGN invariant 6): every read or change of client data writes an access-log row in
the same transaction. The access log lives in `privacy.py` (accounts branch); until that is
merged this function records nothing, and is wired to `privacy.log_access` at merge time.
Every call site passes what that log needs, so wiring it is a one-line change.
"""

from __future__ import annotations

from respijt.auth import Caller
from respijt.database import DbSession

ACTIONS = ("read", "search", "create", "change")


def log_request_access(
    session: DbSession,
    *,
    action: str,
    caller: Caller,
    reference: str | None,
    outcome: str,
) -> None:
    """Log one access to a care request: `action` in ACTIONS, `outcome` granted/denied."""
    assert action in ACTIONS, action
