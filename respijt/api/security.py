"""Token authentication for the API. Reads only the Authorization header: the session cookie
is never accepted here, which is what makes the token API safe to exempt from CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request

from respijt import edge
from respijt.care_requests import access_log as requests_access
from respijt.errors import Forbidden, Unauthorized
from respijt.extensions import db
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from respijt.serving.callers import current_caller

F = TypeVar("F", bound=Callable[..., Any])


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
        refusal = Forbidden("Uw rol mag deze handeling niet uitvoeren.")
        logged_as = getattr(view, "_respijt_logged_as", None)
        if logged_as is not None:
            log_refusal(current_caller(), *logged_as, outcome=edge.refusal_outcome(refusal))
        raise refusal
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


def log_refusal(caller: Caller, action: str, default_reference: str, *, outcome: str) -> None:
    """Write the access-log row of a refused call in a transaction of its own (the edge's)."""
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
            outcome=outcome,
            purpose=requests_access.PURPOSE,
            source=client_source(),
        )

    edge.transaction(write)


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
