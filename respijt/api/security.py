"""Token authentication for the API. Reads only the Authorization header: the session cookie
is never accepted here, which is what makes the token API safe to exempt from CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request

from respijt import clock, database
from respijt.care_requests import access_log as requests_access
from respijt.database import run_in_transaction
from respijt.errors import DomainError, Forbidden
from respijt.extensions import db
from respijt.people.caller import Caller
from respijt.people.tokens import read_token, resolve_token, touch_token
from respijt.privacy import access_log as privacy

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(DomainError):
    status = 401
    title = "Niet aangemeld"
    code = "unauthorized"


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
            if database.session_in_transaction(db.session):
                db.session.commit()  # only read: releases the snapshot, nothing else
    if found is None:
        return None
    caller, touch_id = found
    if touch_id is not None:
        run_in_transaction(db.session, lambda: touch_token(db.session, touch_id, now))
    return caller


def client_source() -> str | None:
    """The caller's address for the access log (ProxyFix, when configured, makes it real)."""
    return request.remote_addr


def authorize_endpoint() -> None:
    """before_request: the role check of `requires`, done before the body is parsed, so an
    anonymous or wrong-role caller learns nothing from validation errors."""
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    roles = getattr(view, "_respijt_roles", None)
    anonymous_ok = (
        roles is not None and "public" in roles and "Authorization" not in request.headers
    )
    if roles is not None and not anonymous_ok and current_caller().role not in roles:
        logged_as = getattr(view, "_respijt_logged_as", None)
        if logged_as is not None:
            log_refusal(current_caller(), *logged_as)
        raise Forbidden("Uw rol mag deze handeling niet uitvoeren.")
    if getattr(view, "_respijt_credentials", None) and not any(
        request.headers.get(name)
        for name in view._respijt_credentials  # type: ignore[union-attr]
    ):
        raise Unauthorized("Voor dit verzoek is een token of de link uit uw sms nodig.")


def allow_roles(*roles: str) -> Callable[[F], F]:
    """Declare the roles for the check before parsing, for a view that resolves its caller
    itself; "public" lets a request without an Authorization header through."""

    def decorator(view: F) -> F:
        view._respijt_roles = roles  # type: ignore[attr-defined]
        return view

    return decorator


def refusals_logged(action: str, reference: str) -> Callable[[F], F]:
    """A caller whose role may not use this view is refused before parsing, and that refusal
    is an access to client data to log (NEN 7513): a denied row for `action`, naming the
    client from the path (a reference or a reservation id), the body's `request`, or else
    `reference` ("new" for a creation, "search" for a list)."""

    def decorator(view: F) -> F:
        view._respijt_logged_as = (action, reference)  # type: ignore[attr-defined]
        return view

    return decorator


def log_refusal(caller: Caller, action: str, default_reference: str) -> None:
    """Write the denied row of a refused call in a transaction of its own."""
    args = request.view_args or {}
    reference: str | None = None
    if isinstance(args.get("reference"), str):
        reference = requests_access.reference_as_logged(args["reference"])
    elif isinstance(args.get("reservation_id"), int):
        reference = requests_access.reservation_reference(db.session, args["reservation_id"])
    elif request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("request"), str):
            reference = requests_access.reference_as_logged(body["request"])

    def write() -> None:
        privacy.log_access(
            db.session,
            action=action,
            caller=caller,
            client_reference=reference or default_reference,
            outcome="denied",
            purpose=requests_access.PURPOSE,
            source=client_source(),
        )

    run_in_transaction(db.session, write)


def credentials_required(*headers: str) -> Callable[[F], F]:
    """The view checks who the caller is itself (a token or a signed link, then visibility in
    the query), but a request carrying none of these headers is refused before parsing."""

    def decorator(view: F) -> F:
        view._respijt_credentials = headers or ("Authorization",)  # type: ignore[attr-defined]
        return view

    return decorator


def requires(*roles: str) -> Callable[[F], F]:
    """Role check at the endpoint; ownership is checked in the query by the view."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = current_caller()
            if caller.role not in roles:
                raise Forbidden("Uw rol mag deze handeling niet uitvoeren.")
            return view(*args, **kwargs)

        wrapper._respijt_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def read_only(view: F) -> F:
    """Mark a view that never writes: on SQLite its transaction begins deferred."""
    view._respijt_read_only = True  # type: ignore[attr-defined]
    return view
