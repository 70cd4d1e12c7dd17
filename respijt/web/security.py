"""Web security in one place: login sessions, CSRF, rate limits, cookie flags, headers.

- Flask-Login keeps only a session secret in the (signed) cookie; the row it names in
  `web_session` decides, so logout, password change and disabling end a session everywhere.
- CSRF (Flask-WTF) is checked on every state-changing request except the token API under
  /api/ (it reads only the Authorization header, never the cookie) and the signed /twilio/
  webhooks; a browser's `Origin` must be this site's, and over https the Referer as well.
- Rate limits (Flask-Limiter) are listed per endpoint in RATE_LIMITS; one limiter per app.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from respijt import clock
from respijt.extensions import db
from respijt.models import User, WebSession
from respijt.people import accounts
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

csrf = CSRFProtect()
login_manager = LoginManager()

CSRF_EXEMPT_PREFIXES = ("/api/", "/twilio/")

# endpoint → (limit per client address, methods, whether token callers are exempt). Token
# callers may be exempt only where the view rejects an unknown token (401) before doing work.
RATE_LIMITS: dict[str, tuple[str, list[str] | None, bool]] = {
    "auth.login": ("10 per minute;100 per hour", ["POST"], False),
    "auth.second_factor": ("10 per minute;50 per hour", ["POST"], False),
    "auth.password_reset_request": ("5 per hour", ["POST"], False),
    "auth.password_reset": ("10 per hour", ["POST"], False),
    "auth.invitation": ("10 per hour", ["POST"], False),
    "registry.get_availability": ("120 per minute", None, False),
    "web.availability": ("120 per minute", None, False),  # the same search as a page
    "registry.free_beds": ("60 per minute", None, False),  # the open feed (docs/open-data.md)
    "web.embed_free_beds": ("120 per minute", None, False),
}
# The public writes (the request form on the web and in the API, "stuur mijn link opnieuw",
# complaints) are limited per address and per target mobile in respijt.serving.public_limits.


def _has_token() -> bool:
    return "Authorization" in request.headers


# Links carry one-time tokens (/a/<token>, invitations, password resets): no other site may
# see them. A same-origin request still carries its Referer, which Flask-WTF's strict check
# needs for every form post over https.
REFERRER_POLICY = "same-origin"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SessionPrincipal(UserMixin):  # type: ignore[misc]
    """What Flask-Login calls the user: a live server-side session of a person."""

    def __init__(self, secret: str, web_session: WebSession) -> None:
        self.secret = secret
        self.web_session = web_session

    def get_id(self) -> str:
        return self.secret

    @property
    def user(self) -> User:
        return self.web_session.user

    @property
    def caller(self) -> Caller:
        return accounts.session_caller(self.web_session)

    @property
    def fully_authenticated(self) -> bool:
        return accounts.fully_authenticated(self.web_session)


def session_limits() -> accounts.SessionLimits:
    config = current_app.config
    return accounts.SessionLimits(
        idle=timedelta(minutes=config["RESPIJT_SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=config["RESPIJT_SESSION_ABSOLUTE_HOURS"]),
    )


@login_manager.user_loader
def _load_principal(secret: str) -> SessionPrincipal | None:
    web_session = accounts.resolve_session(db.session, secret, clock.now(), session_limits())
    return SessionPrincipal(secret, web_session) if web_session is not None else None


def current_principal() -> SessionPrincipal | None:
    principal = current_user._get_current_object()
    return principal if isinstance(principal, SessionPrincipal) else None


def login_required(*roles: str, second_factor: bool = True) -> Callable[[F], F]:
    """Web pages: a live session, past the second factor where required, in one of `roles`
    (any role when none is given). The role list is kept on the view for the route-table test.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                return redirect(url_for("auth.login", next=request.path))
            if second_factor and not principal.fully_authenticated:
                if principal.user.totp_confirmed_at is None:
                    return redirect(url_for("auth.totp_setup"))
                return redirect(url_for("auth.second_factor"))
            if roles and principal.web_session.role not in roles:
                return render_template("message.html", title="Geen toegang", status=403), 403
            return view(*args, **kwargs)

        wrapper._respijt_web_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _cookie_settings(app: Flask) -> None:
    secure = bool(app.config["RESPIJT_COOKIE_SECURE"])
    app.config.update(
        # __Host- binds the cookie to this host and path / and requires Secure.
        SESSION_COOKIE_NAME="__Host-respijt" if secure else "respijt_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["RESPIJT_SESSION_ABSOLUTE_HOURS"]),
        REMEMBER_COOKIE_DURATION=timedelta(0),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, with the API and webhooks exempt
        WTF_CSRF_SSL_STRICT=secure,
    )


def _init_limiter(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RESPIJT_RATELIMIT"])
    # Retry-After is set on the 429 itself (below): Flask-Limiter's own headers would
    # overwrite the exact wait of a login delay or a public form with its window's end.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter = Limiter(get_remote_address, app=app)
    for endpoint, (limit, methods, tokens_exempt) in RATE_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            exempt_when = _has_token if tokens_exempt else None
            limited = limiter.limit(limit, methods=methods, exempt_when=exempt_when)(view)
            app.view_functions[endpoint] = limited  # type: ignore[assignment]
    app.extensions["respijt_limiter"] = limiter
    return limiter


def init_security(app: Flask) -> None:
    """Call after every blueprint is registered (the rate limits wrap existing views)."""
    _cookie_settings(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session row is the authority
    login_manager.login_view = "auth.login"
    _init_limiter(app)

    @app.before_request
    def remember_source() -> None:
        request.environ["respijt.source_token"] = privacy.request_source.set(request.remote_addr)

    @app.teardown_request
    def forget_source(exc: BaseException | None) -> None:
        token = request.environ.pop("respijt.source_token", None)
        if token is not None:
            privacy.request_source.reset(token)

    @app.before_request
    def protect_forms() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return
        _check_origin()
        csrf.protect()

    # Both answer problem+json; on a website path error_pages turns that into a Dutch page.
    @app.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError) -> Response:
        from respijt.serving.problems import problem
        from respijt.web.error_pages import CSRF_REFUSED

        # Flask-WTF's reason ("The referrer header is missing.") tells an operator why.
        log.info("form refused on %s: %s", request.endpoint or "-", exc.description)
        return problem(
            400,
            "Het formulier is verlopen of niet via deze site verstuurd. Probeer het opnieuw.",
            title="Formulier verlopen",
            code=CSRF_REFUSED,
        )

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded) -> Response:
        from respijt.serving.problems import problem

        log.info("rate limit reached on %s: %s", request.endpoint or "-", exc.description)
        response = problem(429)
        response.headers["Retry-After"] = str(_seconds_until_reset(app))
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if not _embeddable():
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _may_hold_personal_data():
            headers["Cache-Control"] = "no-store"
        return response


def _check_origin() -> None:
    """A browser names the page a form was posted from in `Origin`: refuse another site's,
    an opaque one ("null") and a downgrade from https. Flask-WTF then checks the Referer too
    over https."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    if origin == "null" or parts.netloc.lower() != request.host.lower():
        raise CSRFError("The form was posted from another origin.")
    if request.is_secure and parts.scheme != "https":
        raise CSRFError("The form was posted from a page without https.")


def _seconds_until_reset(app: Flask) -> int:
    """When the limit this request broke lets the next one through."""
    limiter = app.extensions.get("respijt_limiter")
    current = limiter.current_limit if isinstance(limiter, Limiter) else None
    if current is None:
        return 60
    # reset_at is a whole second, so the rounded wait can exceed the window by one.
    return max(1, min(math.ceil(current.reset_at - time.time()), current.limit.get_expiry()))


def _embeddable() -> bool:
    """The one page other sites may frame (web/embed.py sets its own CSP)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "_respijt_embeddable", False))


def _may_hold_personal_data() -> bool:
    """Everything except static files and the anonymous public reads."""
    if request.endpoint == "static":
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    public_read = bool(getattr(view, "_respijt_read_only", False))
    return not public_read or "Authorization" in request.headers or "_user_id" in session
