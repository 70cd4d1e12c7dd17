"""Server-rendered pages (Dutch). Thin views: parse → act through the domain → render.

The account pages (login, second factor, password) live in `auth.py`, with their forms in
`account_forms.py`; `security.py` sets up CSRF, login sessions, rate limits and headers.

The public pages live in `public.py` (home, availability, locations, info pages) and
`requester.py` (the request form, the signed status link, "stuur mijn link opnieuw").
Pages for logged-in roles come later and fill the navigation slots of `ROLE_NAVIGATION`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from respijt import clock, formatting
from respijt.people.accounts import ROLE_LABELS
from respijt.web import format as fmt

blp = Blueprint("web", __name__)

# Navigation per role: (endpoint, label). Filled when the pages for that role land.
ROLE_NAVIGATION: dict[str, list[tuple[str, str]]] = {role: [] for role in ROLE_LABELS}
ROLE_NAVIGATION["provider"] = [
    ("web.provider_home", "Aanbiedersportaal"),
    ("web.provider_reservations", "Reserveringen"),
    ("web.provider_figures", "Declaratie en leegstand"),
]
ROLE_NAVIGATION["verwijzer"] = [
    ("web.verwijzer_requests", "Mijn aanvragen"),
    ("web.verwijzer_new_request", "Nieuwe aanvraag"),
]
ROLE_NAVIGATION["meldpunt"] = [
    ("web.meldpunt_console", "Meldpunt"),
    ("web.meldpunt_intake", "Nieuwe aanvraag"),
]
ROLE_NAVIGATION["coordinator"] = [
    ("web.coordinator_rota", "Rooster"),
    ("web.coordinator_kpis", "Cijfers"),
    ("web.coordinator_access_log", "Inzage aanvragen"),
    ("web.coordinator_complaints", "Reacties"),
    ("web.coordinator_claims", "Declaratie"),
    ("web.coordinator_leegstand", "Leegstand"),
    ("web.coordinator_tariffs", "Tarieven"),
]
ROLE_NAVIGATION["admin"] = [
    ("web.admin_users", "Gebruikers"),
    ("web.admin_tokens", "API-tokens"),
]

# RFC 9116 advises an expiry less than a year ahead; computed per request, so it never lapses.
SECURITY_TXT_VALID = timedelta(days=180)

PUBLIC_NAVIGATION = [
    ("web.home", "Logeren"),
    ("web.availability", "Vrije bedden"),
    ("web.new_request", "Aanvragen"),
    ("web.contact", "Contact"),
]


def current_user() -> Any:
    """The logged-in user, or None (Flask-Login may not be installed or set up)."""
    try:
        from flask_login import current_user as user
    except ImportError:
        return None
    try:
        return user if getattr(user, "is_authenticated", False) else None
    except Exception:  # no LoginManager on this app
        return None


def user_roles(user: Any) -> list[str]:
    if user is None:
        return []
    web_session = getattr(user, "web_session", None)
    if web_session is not None:  # a logged-in person: the role they act in now
        return [web_session.role]
    roles = getattr(user, "roles", None)
    if roles is None:
        role = getattr(user, "role", None)
        roles = [role] if role else []
    return [getattr(r, "name", r) for r in roles]


def _display_name(user: Any) -> str | None:
    if user is None:
        return None
    person = getattr(getattr(user, "web_session", None), "user", None) or user
    return getattr(person, "name", None) or getattr(person, "email", None) or "u"


def _context() -> dict[str, Any]:
    user = current_user()
    roles = user_roles(user)
    navigation = [item for role in roles for item in ROLE_NAVIGATION.get(role, [])]
    return {
        "current_user_or_none": user,
        "user_display_name": _display_name(user),
        "user_role_labels": [ROLE_LABELS.get(r, r) for r in roles],
        "role_navigation": navigation,
        "public_navigation": PUBLIC_NAVIGATION,
        "has_login": "/login" in {rule.rule for rule in current_app.url_map.iter_rules()},
    }


def register_web(app: Flask) -> None:
    """Blueprints, then security (CSRF, login, rate limits, headers), which wraps them all."""
    from respijt.web import (  # noqa: F401 - routes register on import
        admin,
        admin_tokens,
        auth,
        coordinator,
        coordinator_claims,
        coordinator_kpis,
        coordinator_rota,
        embed,
        family_actions,
        meldpunt,
        meldpunt_console,
        meldpunt_family,
        provider,
        provider_figures,
        provider_locations,
        provider_reservations,
        provider_stays,
        public,
        requester,
        verwijzer,
    )
    from respijt.web.error_pages import init_error_pages
    from respijt.web.security import init_security

    app.register_blueprint(blp)
    app.register_blueprint(auth.bp)
    app.context_processor(_context)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["kort"] = fmt.short_date
    app.jinja_env.filters["lang"] = fmt.long_date
    app.jinja_env.filters["bedden"] = fmt.beds
    app.jinja_env.filters["lokaal"] = fmt.local_datetime
    app.jinja_env.filters["van_tot"] = formatting.period_long  # {{ start|van_tot(end) }}
    app.jinja_env.filters["telefoon"] = public.phone_display  # +31701234567 → 070 123 4567
    # The rest of the one formatting layer (respijt.formatting), for pages to come.
    app.jinja_env.filters["tijd"] = formatting.time_short
    app.jinja_env.filters["maand"] = formatting.month_long
    app.jinja_env.filters["getal"] = formatting.number
    app.jinja_env.filters["procent"] = formatting.percent
    app.jinja_env.filters["euro"] = formatting.money
    app.jinja_env.filters["duur"] = formatting.duration
    app.jinja_env.filters["nachten"] = formatting.nights
    app.jinja_env.filters["aantal"] = formatting.counted  # {{ n|aantal("regel", "regels") }}
    app.jinja_env.globals["calendar"] = fmt.calendar  # free beds per night of a unit
    app.jinja_env.globals["geleden"] = lambda value: fmt.ago(value, clock.now())

    @app.route("/favicon.ico")
    def favicon() -> ResponseReturnValue:
        return redirect(url_for("static", filename="favicon.svg"), code=301)

    favicon._respijt_read_only = True  # type: ignore[attr-defined]

    @app.route("/.well-known/security.txt")
    def security_txt() -> ResponseReturnValue:
        """Where to report a vulnerability (RFC 9116), from RESPIJT_SECURITY_CONTACT."""
        public_url = str(current_app.config["RESPIJT_PUBLIC_URL"])
        contact = current_app.config.get("RESPIJT_SECURITY_CONTACT") or (
            f"mailto:security@{urlsplit(public_url).hostname or 'localhost'}"
        )
        expires = (clock.now() + SECURITY_TXT_VALID).replace(microsecond=0)
        body = (
            f"Contact: {contact}\n"
            f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
            "Preferred-Languages: nl, en\n"
            f"Canonical: {public_url}/.well-known/security.txt\n"
        )
        return body, 200, {"Content-Type": "text/plain; charset=utf-8"}

    security_txt._respijt_read_only = True  # type: ignore[attr-defined]

    @app.after_request
    def vary_on_htmx(response: Response) -> Response:
        if request.blueprint == "web":
            response.vary.add("HX-Request")
        return response

    init_security(app)
    init_error_pages(app)
