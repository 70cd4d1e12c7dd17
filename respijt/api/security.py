"""Token authentication for the API. Reads only the Authorization header: the session cookie
is never accepted here, which is what makes the token API safe to exempt from CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from respijt import clock
from respijt.auth import Caller, resolve_token
from respijt.errors import DomainError, Forbidden
from respijt.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(DomainError):
    status = 401
    title = "Niet aangemeld"
    code = "unauthorized"


def current_caller() -> Caller:
    cached = g.get("caller")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Voor dit verzoek is een token nodig (Authorization: Bearer …).")
    caller = resolve_token(db.session, secret.strip(), clock.now())
    if caller is None:
        raise Unauthorized("Het token is onbekend, verlopen of ingetrokken.")
    g.caller = caller
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
    if roles is not None and current_caller().role not in roles:
        raise Forbidden("Uw rol mag deze handeling niet uitvoeren.")


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
