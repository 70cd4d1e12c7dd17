"""Who calls: the caller of a request from its bearer token, and the mark of a view that only
reads. Both faces and /metrics use them, so they live in the frame, not in a face. Reads only
the Authorization header: the session cookie is never accepted here, which is what makes the
token API safe to exempt from CSRF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request

from respijt import clock, database, edge
from respijt.errors import Unauthorized
from respijt.extensions import db
from respijt.people.caller import Caller
from respijt.people.tokens import read_token, resolve_token, touch_token

F = TypeVar("F", bound=Callable[..., Any])


def current_caller() -> Caller:
    # Cached per request, not in `g`: an outer app context (tests, CLI) outlives requests.
    cached = request.environ.get("respijt.caller")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Voor dit verzoek is een token nodig (Authorization: Bearer …).")
    caller = _resolve(secret.strip())
    if caller is None:
        raise Unauthorized("Het token is onbekend, verlopen of ingetrokken.")
    request.environ["respijt.caller"] = caller
    return caller


def _resolve(secret: str) -> Caller | None:
    """The token's caller. For a request that writes, the token's row is read outside any
    transaction (autocommit, one round trip): on SQLite the request's first statement would
    take the write lock (BEGIN IMMEDIATE) and hold it while the body is parsed and validated,
    and the busiest write (a plain hold) runs in a transaction of its own, not the session's.
    What a user's or coordinator's token needs besides runs in a read transaction ended at
    once; the rare `last_used_at` update gets a short write transaction of its own.
    Read-only requests read it in the request's transaction (no extra round trip). No
    session is made for it: a plain hold never uses one."""
    now = clock.now()
    if database.is_read_only() or database.session_in_transaction(db.session):
        return resolve_token(db.session(), secret, now)
    engine = db.engine
    with database.read_only():
        try:
            # The session (made when first used) is needed only by user and coordinator tokens.
            found = read_token(
                db.session,
                secret,
                now,
                lambda statement, params: database.first_row_outside_transaction(
                    engine, statement, params
                ),
            )
        finally:
            # Only read: release the snapshot before the view's own transaction.
            edge.finish_read()
    if found is None:
        return None
    caller, touch_id = found
    if touch_id is not None:
        edge.transaction(lambda: touch_token(db.session, touch_id, now))
    return caller


def read_only(view: F) -> F:
    """Mark a view that never writes: on SQLite its transaction begins deferred."""
    view._respijt_read_only = True  # type: ignore[attr-defined]
    return view
