"""Every route × every role (and anonymous): only the combinations in ROUTES succeed.

A route added without a line in ROUTES fails `test_every_route_has_a_rule`, so nobody ships an
endpoint whose access was never decided. "Succeeds" means: not refused for lack of credentials
or role (401/403, or a redirect to the login page); ids that do not exist may still answer 404.
"""

from __future__ import annotations

import re

import pytest

from respijt.people.caller import ROLES
from tests.accounts_support import csrf_token, web_login

PUBLIC = "public"  # anyone, no account
SIGNED = "twilio-signature"  # nobody without a valid X-Twilio-Signature (403 for every principal)
SIGNED_IN = "signed-in"  # any person with a web session (whatever their role)
HALF_SIGNED_IN = "password-only"  # a web session before its second factor (the 2FA pages)
# 127.0.0.1 (as every test client request is) or an admin token; others: test_metrics.py
LOOPBACK_OR_ADMIN = "loopback-or-admin"

MANAGERS = {"provider", "coordinator", "admin"}
VIEWERS = {"provider", "meldpunt", "verwijzer", "coordinator", "admin"}
HOLDERS = {"meldpunt", "verwijzer"}
REQUEST_VIEWERS = {"verwijzer", "meldpunt", "coordinator", "admin"}


class Scoped(frozenset):
    """Client data by reference: anonymous 401; every role is let through to the query, which
    answers 404 for a request the caller may not see (a provider never sees one). Who sees
    which request is tested in the care-request tests; here the reference does not exist."""


SCOPED = Scoped(REQUEST_VIEWERS)

ROUTES: dict[tuple[str, str], object] = {
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/metrics"): LOOPBACK_OR_ADMIN,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/api/v1/availability"): PUBLIC,
    ("GET", "/api/v1/open-data/free-beds"): PUBLIC,
    ("GET", "/api/v1/locations"): PUBLIC,
    ("GET", "/api/v1/locations/<int:location_id>"): PUBLIC,
    ("GET", "/api/v1/regions"): PUBLIC,
    ("GET", "/api/v1/providers/<int:provider_id>"): PUBLIC,
    ("GET", "/api/v1/units/<int:unit_id>"): PUBLIC,
    ("POST", "/api/v1/providers"): {"coordinator", "admin"},
    ("PATCH", "/api/v1/providers/<int:provider_id>"): MANAGERS,
    ("POST", "/api/v1/locations"): MANAGERS,
    ("PATCH", "/api/v1/locations/<int:location_id>"): MANAGERS,
    ("POST", "/api/v1/locations/<int:location_id>/confirm"): MANAGERS,
    ("POST", "/api/v1/units"): MANAGERS,
    ("PATCH", "/api/v1/units/<int:unit_id>"): MANAGERS,
    ("POST", "/api/v1/units/<int:unit_id>/retire"): MANAGERS,
    ("PUT", "/api/v1/units/<int:unit_id>/capacity"): MANAGERS,
    ("GET", "/api/v1/units/<int:unit_id>/changes"): MANAGERS,
    ("POST", "/api/v1/reservations"): HOLDERS,
    ("GET", "/api/v1/reservations"): VIEWERS,
    ("GET", "/api/v1/reservations/<int:reservation_id>"): VIEWERS,
    ("POST", "/api/v1/reservations/<int:reservation_id>/confirm"): VIEWERS,
    ("POST", "/api/v1/reservations/<int:reservation_id>/decline"): {"provider"},
    ("POST", "/api/v1/reservations/<int:reservation_id>/cancel"): VIEWERS,
    ("POST", "/api/v1/reservations/<int:reservation_id>/check-in"): {"provider"},
    ("POST", "/api/v1/reservations/<int:reservation_id>/check-out"): {"provider"},
    ("POST", "/api/v1/reservations/<int:reservation_id>/no-show"): {"provider"},
    ("PUT", "/api/v1/reservations/<int:reservation_id>/dates"): VIEWERS,
    ("GET", "/api/v1/access-log"): {"coordinator", "admin"},
    ("POST", "/api/v1/requests"): {"anonymous", "verwijzer", "meldpunt"},
    ("GET", "/api/v1/requests"): REQUEST_VIEWERS,
    ("GET", "/api/v1/requests/<reference>"): SCOPED,
    ("GET", "/api/v1/requests/<reference>/matches"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/preference"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/choice"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/stays/<int:reservation_id>/cancel"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/offers/<int:reservation_id>/accept"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/offers/<int:reservation_id>/decline"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/withdraw"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/close"): SCOPED,
    ("POST", "/api/v1/requests/<reference>/series/hold"): SCOPED,
    ("GET", "/api/v1/claims"): {"provider", "coordinator", "admin"},
    ("POST", "/api/v1/claims/exports"): {"provider", "admin"},
    ("GET", "/api/v1/claims/exports/<int:export_id>"): {"provider", "coordinator", "admin"},
    ("GET", "/api/v1/tariffs"): {"provider", "coordinator", "admin"},
    ("POST", "/api/v1/tariffs"): {"coordinator", "admin"},
    ("GET", "/api/v1/reports/leegstand"): {"provider", "coordinator", "admin"},
    ("GET", "/api/v1/reports/kpis/months"): {"coordinator", "admin"},
    ("GET", "/api/v1/reports/kpis"): {"coordinator", "admin"},
    ("GET", "/api/v1/messages"): {"coordinator", "admin"},
    ("GET", "/reports/monthly/<municipality>/<month>"): {"coordinator", "admin"},
    ("GET", "/reports/monthly/<municipality>/<month>.pdf"): {"coordinator", "admin"},
    ("GET", "/api/v1/duty/current"): PUBLIC,
    ("GET", "/api/v1/rota/shifts"): {"provider", "meldpunt", "coordinator", "admin"},
    ("POST", "/api/v1/rota/overrides"): {"coordinator", "admin"},
    ("GET", "/api/v1/rota/history"): {"coordinator", "admin"},
    ("GET", "/api/v1/rota/swaps"): {"provider", "meldpunt", "coordinator", "admin"},
    ("POST", "/api/v1/rota/shifts/<int:shift_id>/swaps"): {"provider", "meldpunt"},
    ("POST", "/api/v1/rota/swaps/<int:swap_id>/take"): {"provider", "meldpunt"},
    ("POST", "/api/v1/rota/swaps/<int:swap_id>/withdraw"): {"provider", "meldpunt"},
    ("POST", "/api/v1/rota/swaps/<int:swap_id>/approve"): {"coordinator", "admin"},
    ("POST", "/api/v1/rota/swaps/<int:swap_id>/refuse"): {"coordinator", "admin"},
    ("GET", "/api/v1/rota/handover-notes"): {"provider", "meldpunt", "coordinator", "admin"},
    ("POST", "/api/v1/rota/handover-notes"): {"provider", "meldpunt"},
    ("POST", "/api/v1/rota/ical-token"): {"provider", "meldpunt"},
    ("GET", "/api/v1/meldpunt/voicemails"): {"meldpunt", "coordinator", "admin"},
    ("POST", "/api/v1/meldpunt/voicemails/<int:voicemail_id>/done"): {
        "meldpunt",
        "coordinator",
        "admin",
    },
    ("GET", "/api/v1/meldpunt/calls"): {"meldpunt", "coordinator", "admin"},
    ("POST", "/api/v1/meldpunt/calls/<int:call_id>/request"): {"meldpunt", "coordinator", "admin"},
    ("GET", "/api/v1/meldpunt/stats"): {"coordinator", "admin"},
    # The calendar feed: the secret token in the address is the credential (404 without it).
    ("GET", "/rota/ical/<token>.ics"): PUBLIC,
    ("POST", "/twilio/voice/incoming"): SIGNED,
    ("POST", "/twilio/voice/whisper"): SIGNED,
    ("POST", "/twilio/voice/accept"): SIGNED,
    ("POST", "/twilio/voice/dial-result"): SIGNED,
    ("POST", "/twilio/voice/voicemail"): SIGNED,
    ("POST", "/twilio/sms/inbound"): SIGNED,
    ("POST", "/twilio/sms/status"): SIGNED,
    # Public web pages (issue 9): anyone, no account; forms carry a CSRF token.
    ("GET", "/"): PUBLIC,
    ("GET", "/a/<token>"): PUBLIC,
    ("GET", "/aanvragen"): PUBLIC,
    ("POST", "/aanvragen"): PUBLIC,
    ("GET", "/aanvragen/verstuurd"): PUBLIC,
    ("GET", "/beschikbaarheid"): PUBLIC,
    ("GET", "/ingebed/vrije-logeerbedden"): PUBLIC,
    ("GET", "/ingebed/thema.css"): PUBLIC,
    ("GET", "/contact"): PUBLIC,
    ("GET", "/klachten"): PUBLIC,
    ("GET", "/.well-known/security.txt"): PUBLIC,
    ("POST", "/klachten"): PUBLIC,
    ("GET", "/link-opnieuw"): PUBLIC,
    ("POST", "/link-opnieuw"): PUBLIC,
    ("GET", "/link-opnieuw/verstuurd"): PUBLIC,
    ("GET", "/locaties/<int:location_id>"): PUBLIC,
    ("GET", "/mijn-aanvraag"): PUBLIC,
    ("POST", "/mijn-aanvraag/aanbod/<int:reservation_id>/aannemen"): PUBLIC,
    ("POST", "/mijn-aanvraag/aanbod/<int:reservation_id>/afslaan"): PUBLIC,
    ("POST", "/mijn-aanvraag/intrekken"): PUBLIC,
    ("POST", "/mijn-aanvraag/kiezen"): PUBLIC,
    ("POST", "/mijn-aanvraag/verblijf/<int:reservation_id>/annuleren"): PUBLIC,
    ("GET", "/privacy"): PUBLIC,
    ("GET", "/toegankelijkheid"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/password/reset"): PUBLIC,
    ("POST", "/password/reset"): PUBLIC,
    ("GET", "/password/reset/<token>"): PUBLIC,
    ("POST", "/password/reset/<token>"): PUBLIC,
    ("GET", "/invitation/<token>"): PUBLIC,
    ("POST", "/invitation/<token>"): PUBLIC,
    ("GET", "/login/2fa"): HALF_SIGNED_IN,
    ("POST", "/login/2fa"): HALF_SIGNED_IN,
    ("GET", "/account/2fa"): HALF_SIGNED_IN,
    ("POST", "/account/2fa"): HALF_SIGNED_IN,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/role"): SIGNED_IN,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    # Provider portal and verwijzer pages (issue 9, round 2).
    ("GET", "/aanbieder"): {"provider"},
    ("GET", "/aanbieder/reserveringen"): {"provider"},
    ("GET", "/aanbieder/eenheden/<int:unit_id>"): {"provider"},
    ("POST", "/aanbieder/eenheden/<int:unit_id>/capaciteit"): {"provider"},
    ("POST", "/aanbieder/eenheden/<int:unit_id>/week"): {"provider"},
    ("POST", "/aanbieder/locaties/<int:location_id>/bevestigen"): {"provider"},
    ("POST", "/aanbieder/reserveringen/<int:reservation_id>/bevestigen"): {"provider"},
    ("POST", "/aanbieder/reserveringen/<int:reservation_id>/afwijzen"): {"provider"},
    ("POST", "/aanbieder/reserveringen/<int:reservation_id>/inchecken"): {"provider"},
    ("POST", "/aanbieder/reserveringen/<int:reservation_id>/uitchecken"): {"provider"},
    ("POST", "/aanbieder/reserveringen/<int:reservation_id>/niet-verschenen"): {"provider"},
    ("POST", "/aanbieder/locaties/bevestigen"): {"provider"},
    ("GET", "/aanbieder/locaties/nieuw"): {"provider"},
    ("POST", "/aanbieder/locaties/nieuw"): {"provider"},
    ("GET", "/aanbieder/locaties/<int:location_id>"): {"provider"},
    ("POST", "/aanbieder/locaties/<int:location_id>"): {"provider"},
    ("POST", "/aanbieder/locaties/<int:location_id>/buiten-gebruik"): {"provider"},
    ("GET", "/aanbieder/locaties/<int:location_id>/eenheden/nieuw"): {"provider"},
    ("POST", "/aanbieder/locaties/<int:location_id>/eenheden/nieuw"): {"provider"},
    ("GET", "/aanbieder/eenheden/<int:unit_id>/gegevens"): {"provider"},
    ("POST", "/aanbieder/eenheden/<int:unit_id>/gegevens"): {"provider"},
    ("POST", "/aanbieder/eenheden/<int:unit_id>/buiten-gebruik"): {"provider"},
    ("GET", "/verwijzer/aanvragen"): {"verwijzer"},
    ("GET", "/verwijzer/aanvragen/nieuw"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/nieuw"): {"verwijzer"},
    # The verwijzer's page of one request and its actions (issue 21).
    ("GET", "/verwijzer/aanvragen/<reference>"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/<reference>/vasthouden"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/<reference>/reeks/vasthouden"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/<reference>/intrekken"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/aannemen"): {
        "verwijzer"
    },
    ("POST", "/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/afslaan"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/data"): {"verwijzer"},
    ("POST", "/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/annuleren"): {
        "verwijzer"
    },
    # The meldpunt console and the coordinator pages (issue 9, second round).
    ("GET", "/meldpunt"): {"meldpunt"},
    ("GET", "/meldpunt/aanvraag"): {"meldpunt"},
    ("POST", "/meldpunt/aanvraag"): {"meldpunt"},
    ("GET", "/meldpunt/aanvragen/<reference>"): {"meldpunt"},
    ("POST", "/meldpunt/aanvragen/<reference>/vasthouden"): {"meldpunt"},
    ("POST", "/meldpunt/aanvragen/<reference>/aanbod/<int:reservation_id>/bevestigen"): {
        "meldpunt"
    },
    ("POST", "/meldpunt/terugbellen/<int:voicemail_id>/afgehandeld"): {"meldpunt"},
    ("GET", "/meldpunt/terugbellen/<int:voicemail_id>/opname"): {"meldpunt"},
    ("POST", "/meldpunt/gesprekken/<int:call_id>/aanvraag"): {"meldpunt"},
    ("POST", "/meldpunt/familie-terugbellen/<int:notice_id>/gebeld"): {"meldpunt"},
    ("POST", "/meldpunt/overdracht"): {"meldpunt"},
    ("GET", "/coordinator/rooster"): {"coordinator"},
    ("GET", "/coordinator/rooster/wijziging"): {"coordinator"},
    ("POST", "/coordinator/rooster/wijziging"): {"coordinator"},
    ("POST", "/coordinator/rooster/ruil/<int:swap_id>/goedkeuren"): {"coordinator"},
    ("POST", "/coordinator/rooster/ruil/<int:swap_id>/afwijzen"): {"coordinator"},
    ("GET", "/coordinator/neutraliteit"): {"coordinator"},
    ("GET", "/coordinator/inzage"): {"coordinator"},
    ("GET", "/coordinator/reacties"): {"coordinator"},
    ("GET", "/coordinator/cijfers"): {"coordinator"},
    ("GET", "/coordinator/cijfers.csv"): {"coordinator"},
    ("GET", "/coordinator/cijfers-per-maand.csv"): {"coordinator"},
    # Claims, leegstand and tariffs on the web (issue 23, coordadmin).
    ("GET", "/coordinator/declaratie"): {"coordinator"},
    ("GET", "/coordinator/declaratie.csv"): {"coordinator"},
    ("GET", "/coordinator/declaratie/export/<int:export_id>.csv"): {"coordinator"},
    ("GET", "/coordinator/leegstand"): {"coordinator"},
    ("GET", "/coordinator/leegstand.csv"): {"coordinator"},
    ("GET", "/coordinator/tarieven"): {"coordinator"},
    ("POST", "/coordinator/tarieven"): {"coordinator"},
    ("GET", "/aanbieder/declaratie"): {"provider"},
    ("GET", "/aanbieder/declaratie.csv"): {"provider"},
    ("GET", "/aanbieder/leegstand.csv"): {"provider"},
    ("GET", "/aanbieder/declaratie/export/<int:export_id>.csv"): {"provider"},
    ("POST", "/aanbieder/declaratie/exporteren"): {"provider"},
    # Admin on the web: users and API tokens (issue 23, coordadmin).
    ("GET", "/beheer/gebruikers"): {"admin"},
    ("GET", "/beheer/gebruikers/nieuw"): {"admin"},
    ("POST", "/beheer/gebruikers/nieuw"): {"admin"},
    ("GET", "/beheer/gebruikers/<int:user_id>"): {"admin"},
    ("POST", "/beheer/gebruikers/<int:user_id>"): {"admin"},
    ("POST", "/beheer/gebruikers/<int:user_id>/uitschakelen"): {"admin"},
    ("POST", "/beheer/gebruikers/<int:user_id>/inschakelen"): {"admin"},
    ("POST", "/beheer/gebruikers/<int:user_id>/tweestap-opnieuw"): {"admin"},
    ("POST", "/beheer/gebruikers/<int:user_id>/uitnodiging"): {"admin"},
    ("GET", "/beheer/tokens"): {"admin"},
    ("POST", "/beheer/tokens"): {"admin"},
    ("POST", "/beheer/tokens/<int:token_id>/intrekken"): {"admin"},
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def app_routes(app) -> list[tuple[str, str, str]]:
    return sorted(
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - IGNORED_METHODS
    )


def test_every_route_has_a_rule(app):
    routes = {(method, path) for method, path, _ in app_routes(app)}
    assert routes - ROUTES.keys() == set(), "new route(s) without an access rule in ROUTES"
    assert ROUTES.keys() - routes == set(), "ROUTES lists route(s) that no longer exist"


def test_api_role_rules_declared_on_views_match_the_table(app):
    for method, path, endpoint in app_routes(app):
        view = app.view_functions[endpoint]
        declared = (
            getattr(view, "_respijt_roles", None)
            or getattr(view, "_respijt_web_roles", None)  # web pages for some roles
            or None
        )
        expected = ROUTES[(method, path)]
        if declared is not None:
            declared = {"anonymous" if r == "public" else r for r in declared}
            assert declared == expected, (method, path)
        elif expected in (PUBLIC, SIGNED_IN, HALF_SIGNED_IN, LOOPBACK_OR_ADMIN):
            continue
        else:  # checked inside the view: the behaviour test below covers it
            assert path.startswith(("/api/v1/requests", "/twilio/", "/reports/")), (method, path)


def concrete(path: str) -> str:
    path = re.sub(r"<int:[a-z_]+>", "999999", path)
    path = re.sub(r"<path:[a-z_]+>", "respijt.css", path)
    return re.sub(r"<[a-z_]+>", "bestaat-niet", path)


def refused(response, principal: str) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and location.startswith(("/login", "/account/2fa"))


def allowed(rule: object, principal: str) -> bool:
    if rule in (PUBLIC, LOOPBACK_OR_ADMIN):
        return True
    if rule == SIGNED:
        return False
    if isinstance(rule, Scoped):
        return principal != "anonymous"
    if isinstance(rule, set):
        return principal in rule
    if principal == "anonymous":
        return False
    if rule in (SIGNED_IN, HALF_SIGNED_IN):
        return True
    raise AssertionError(f"unknown rule {rule!r}")


@pytest.mark.parametrize("principal", ["anonymous", *ROLES])
def test_only_allowed_roles_pass_each_route(app, client, make, principal):
    headers: dict[str, str] = {}
    if principal != "anonymous":
        provider = make.provider(regions=[make.region()], pool=True)
        bound = provider if principal in ("provider", "meldpunt") else None
        headers = make.token(principal, bound)
        user = make.user(principal, provider=bound)
        web_login(client, user)
    failures = []
    for method, path, _ in app_routes(app):
        rule = ROUTES[(method, path)]
        url = concrete(path)
        kwargs: dict[str, object] = {}
        if path.startswith("/api/"):
            kwargs["headers"] = headers
            if method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = {}
        elif method == "POST":
            kwargs["data"] = {"csrf_token": csrf_token(client, "/login")}
        if path == "/logout" and method == "POST":
            continue  # ends the session; covered by the web-auth tests
        response = client.open(url, method=method, **kwargs)
        response.close()
        if refused(response, principal) == allowed(rule, principal):
            failures.append(f"{method} {path}: {response.status_code} for {principal}")
        elif isinstance(rule, Scoped) and principal != "anonymous" and response.status_code < 400:
            failures.append(f"{method} {path}: {response.status_code} for {principal}")
    assert failures == []
