"""The edge between a face and the rooms: one transaction per request, one rule for refusals.

Every API view, page and webhook runs its work through `transaction`: the work runs, the session
commits once, a transient conflict (a serialization failure, a lock timeout, a connection lost
before COMMIT) runs the whole work again up to `RESPIJT_TX_RETRIES` times, and anything else rolls
back and is raised. The number of retries is read here and nowhere else.

`transaction_logging_refusal` adds the NEN 7513 rule for a refused access to client data: the
work's changes are rolled back, and one access-log row is written in a transaction of its own.
The row says "denied" when the caller may not see the thing (not found, not theirs, not signed in)
and "failed" when a domain rule refused the action; the error is then raised again for the face
to answer.

The scheduler and the command line keep `database.run_in_transaction`: they have no request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from respijt.database import run_in_transaction, session_in_transaction
from respijt.errors import DomainError, Forbidden, NotFound, Unauthorized
from respijt.extensions import db

T = TypeVar("T")

# A refusal of these kinds means "you may not see this"; any other domain error means "not done".
DENIED = (NotFound, Forbidden, Unauthorized)


def transaction(work: Callable[[], T]) -> T:
    """Run `work` in one transaction on the request's session; commit once, retry on conflict."""
    return run_in_transaction(db.session, work, int(current_app.config["RESPIJT_TX_RETRIES"]))


def refusal_outcome(exc: DomainError) -> str:
    """The access-log outcome of a refused action: "denied" or "failed"."""
    return "denied" if isinstance(exc, DENIED) else "failed"


def transaction_logging_refusal(work: Callable[[], T], log_refusal: Callable[[str], object]) -> T:
    """Run `work` in `transaction`; a domain refusal is logged by `log_refusal(outcome)` and raised.

    `log_refusal` writes the access-log row; it runs in a transaction of its own after the work's
    changes were rolled back, so the refused action leaves nothing behind but that row.
    """
    try:
        return transaction(work)
    except DomainError as exc:
        db.session.rollback()
        outcome = refusal_outcome(exc)
        transaction(lambda: log_refusal(outcome))
        raise


def finish_read() -> None:
    """End a transaction that only read (a lookup before the request's work), keeping nothing.

    A COMMIT, not a ROLLBACK: psycopg forgets its prepared statements on every ROLLBACK, and a
    lookup like the caller's token runs on every request.
    """
    if session_in_transaction(db.session):
        db.session.commit()
