"""axe-core on every page of the site, logged out and in every role, on Debian's chromium.

The pages are the GET rules of the web blueprints in the app's URL map (`web`, `auth`,
`report_pages`; CSV and PDF downloads are not pages). Who may open each comes from
`tests/api/test_route_access.ROUTES`. Every page is opened by every principal that may see it —
anonymous, the mantelzorger through the signed link from the SMS, and a signed-in verwijzer,
provider, meldpunt on duty, coordinator and admin (the last four with their second factor) —
and a page added later is walked too; one whose address needs a value this test cannot give
fails it (`address`). The 2FA pages, the set-up of a second factor with its recovery codes, and
forms showing their errors are visited on the way. On each: no WCAG 2.1 A/AA violation, under
200 KB on the wire, no request to another origin.

SQLite only, as the other browser tests: the URL map, the templates and so the set of pages are
the same on PostgreSQL, and the data the pages show is tested on both databases elsewhere; one
backend keeps this walk to one browser and one server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
from flask import Flask
from sqlalchemy import select

from respijt import clock
from respijt.care_requests import links as request_links
from respijt.models import Location, Unit, User
from respijt.people import accounts
from respijt.people.accounts import SECOND_FACTOR_ROLES
from respijt.people.caller import ROLES
from respijt.web.qr_code import QR_TITLE
from tests.api.test_route_access import HALF_SIGNED_IN, ROUTES, allowed
from tests.browser import test_web_browser as web_browser
from tests.browser.browser import PAGE_BUDGET_BYTES, Traffic, axe_violations
from tests.browser.web_helpers import request_with_offer
from tests.factories import TEST_PASSWORD

# The server (`respijt serve` on the demo data), chromium and the skip without chromium, shared.
server, browser, demo = web_browser.server, web_browser.browser, web_browser.demo
pytestmark = web_browser.pytestmark
SECRET_KEY = "browser-test"  # the live server's, to sign the links

WEB_BLUEPRINTS = ("web", "auth", "report_pages")
# CSV and PDF files and a stylesheet, not HTML pages (the PDF is tested in
# tests/web/test_report_pdf.py, the embed page's theme in tests/web/test_web_embed.py).
DOWNLOADS = {
    "web.embed_theme",
    "web.coordinator_kpis_csv",
    "web.coordinator_kpi_months_csv",
    "report_pages.monthly_pdf",
    "web.meldpunt_voicemail_recording",  # audio, streamed from Twilio (tests/api/test_voicemail_…)
    "web.coordinator_claims_csv",
    "web.coordinator_export_csv",
    "web.coordinator_leegstand_csv",
    "web.provider_claims_csv",
    "web.provider_leegstand_csv",
    "web.provider_export_csv",
}
PRINCIPALS = ("anonymous", *ROLES)
# The pages between password and second factor, and who must have seen each.
HALF_WAY = {"/login/2fa": SECOND_FACTOR_ROLES, "/account/2fa": {"provider"}}


def web_pages(app: Flask) -> list[str]:
    """The address rule of every HTML page a browser can GET."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint.partition(".")[0] in WEB_BLUEPRINTS
        and rule.endpoint not in DOWNLOADS
    )


@dataclass
class Walk:
    """One browser context per principal; every page checked is recorded by the rule asked."""

    app: Flask
    base: str
    checked: set[tuple[str, str]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def rule_of(self, url: str) -> str:
        parts = urlsplit(url)
        adapter = self.app.url_map.bind("localhost")
        rule, _ = adapter.match(parts.path, method="GET", return_rule=True)
        return str(rule.rule)

    def check(self, principal: str, page: Any, traffic: Traffic, what: str) -> None:
        found = axe_violations(page)
        if found:
            self.failures.append(f"{principal} {what}: axe {found}")
        if traffic.total() >= PAGE_BUDGET_BYTES:
            self.failures.append(f"{principal} {what}: {traffic.total()} bytes")
        if traffic.foreign:
            self.failures.append(f"{principal} {what}: other origins {traffic.foreign}")

    def visit(
        self, principal: str, page: Any, traffic: Traffic, path: str, status: int = 200
    ) -> Any:
        """Open the page (following redirects), expecting `status`, and check it."""
        traffic.reset()
        response = page.goto(self.base + path, wait_until="load")
        if response is None or response.status != status:
            self.failures.append(f"{principal} {path}: {response and response.status}")
        self.check(principal, page, traffic, f"{path} -> {urlsplit(page.url).path}")
        self.checked.add((principal, self.rule_of(path)))
        return response

    def submit(self, principal: str, page: Any, traffic: Traffic, button: str) -> None:
        """Send the form (to see its errors or what follows), then check that page."""
        traffic.reset()
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()
        self.check(principal, page, traffic, f"{button} -> {urlsplit(page.url).path}")
        self.checked.add((principal, self.rule_of(page.url)))


def _sign_in(walk: Walk, principal: str, page: Any, traffic: Traffic, user: dict[str, Any]) -> None:
    walk.visit(principal, page, traffic, "/login")
    page.get_by_label("E-mailadres").fill(user["email"])
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    walk.submit(principal, page, traffic, "Aanmelden")
    if user["secret"] is None:
        return
    assert urlsplit(page.url).path == "/login/2fa", page.url
    page.locator("input[name=code]").fill("000000")  # wrong: the error beside the field
    walk.submit(principal, page, traffic, "Controleren")
    page.locator("input[name=code]").fill(pyotp.TOTP(user["secret"]).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Controleren").click()
    assert urlsplit(page.url).path == "/account", page.url


@dataclass
class Data:
    """Everything the walk needs, read from the database before the server takes over."""

    users: dict[str, dict[str, Any]]
    values: dict[str, Any]  # address argument -> value; "tokens": rule -> signed token
    enrolling: dict[str, Any]


def _data(db: Any, make: Any) -> Data:
    care_request, reservation = request_with_offer(db.session)
    unit = db.session.get(Unit, reservation.unit_id)
    location = db.session.get(Location, unit.location_id)
    municipality = location.municipality
    region = municipality.region
    # The meldpunt is on duty in the request's region; the provider runs the offered unit.
    duty = make.provider(name="Meldpunt Oost", regions=[region], pool=True)
    people = {
        "verwijzer": make.user("verwijzer", name="Vera Verwijzer"),
        "provider": make.user("provider", provider=location.provider, name="Piet Aanbieder"),
        "meldpunt": make.user("meldpunt", provider=duty, name="Mila Meldpunt"),
        "coordinator": make.user("coordinator", regions=[region], name="Cor Coördinator"),
        "admin": make.user("admin", name="Ada Beheer"),
    }
    # The verwijzer made the request (only then is its page theirs to open).
    care_request.caller = f"user:{people['verwijzer'].id}"
    db.session.flush()
    enrolling = make.user("provider", provider=location.provider, totp=False, name="Nina Nieuw")
    invited = make.user("verwijzer", name="Ivo Uitgenodigd")
    reset = make.user("verwijzer", name="Rob Vergeten")
    reference = care_request.reference
    values: dict[str, Any] = {
        "location_id": str(location.id),
        "municipality": municipality.code,
        "month": clock.today().strftime("%Y-%m"),
        "reference": reference,
        "unit_id": str(unit.id),
        "user_id": str(enrolling.id),
    }
    values["tokens"] = {
        "/a/<token>": request_links.make_link_token(SECRET_KEY, reference),
        "/invitation/<token>": accounts.make_link_token(SECRET_KEY, invited, accounts.INVITATION),
        "/password/reset/<token>": accounts.make_link_token(
            SECRET_KEY, reset, accounts.PASSWORD_RESET
        ),
    }
    data = Data(
        users={
            role: {
                "email": user.email,
                "secret": user.totp_secret if user.totp_confirmed_at else None,
            }
            for role, user in people.items()
        },
        values=values,
        enrolling={"email": enrolling.email, "id": enrolling.id},
    )
    db.session.commit()
    db.session.rollback()  # release SQLite: the server writes from here on
    return data


def address(rule: str, values: dict[str, Any]) -> str:
    """The rule with this test's values filled in; a new kind of argument fails here."""
    if "<token>" in rule:
        return rule.replace("<token>", values["tokens"][rule])

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{rule}: no value for <{name}> in this test"
        return str(values[name])

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", fill, rule)


def _anonymous_extras(walk: Walk, who: str, page: Any, traffic: Traffic, v: Any) -> None:
    """A search with a wrong date, a missing place, forms sent with errors, a request sent."""
    walk.visit(who, page, traffic, f"/beschikbaarheid?regio=H5&van={clock.today()}&tot=x")
    walk.visit(who, page, traffic, "/locaties/999999", 404)
    walk.visit(who, page, traffic, "/ingebed/vrije-logeerbedden?gemeente=GM0503")
    walk.visit(who, page, traffic, "/ingebed/vrije-logeerbedden?gemeente=GM0001", 404)
    for path, button in (
        ("/aanvragen", "Aanvraag versturen"),
        ("/klachten", "Reactie versturen"),
        ("/link-opnieuw", "Stuur de link"),
    ):
        walk.visit(who, page, traffic, path)
        walk.submit(who, page, traffic, button)
    arrival = clock.today() + timedelta(days=20)
    dates = f"van={arrival}&tot={arrival + timedelta(days=3)}"
    walk.visit(who, page, traffic, f"/aanvragen?gemeente={v['municipality']}&{dates}")
    page.get_by_label("Voornaam of voorletters").fill("Ans")
    page.get_by_label("Geboortejaar").fill("1938")
    page.get_by_label("Wat past het best?").select_option("ouderen")
    page.get_by_label("Waarom logeren?").select_option("vakantie")
    page.get_by_label("Uw naam").fill("Marja de Vries")
    page.get_by_label("Uw mobiele nummer").fill("06 12345678")
    page.get_by_label(re.compile("Ik geef toestemming")).check()
    walk.submit(who, page, traffic, "Aanvraag versturen")
    assert urlsplit(page.url).path == "/aanvragen/verstuurd", page.locator("main").inner_text()
    walk.visit(who, page, traffic, "/login")
    page.get_by_label("E-mailadres").fill("niemand@example.nl")
    page.get_by_label("Wachtwoord").fill("niet-het-wachtwoord")
    walk.submit(who, page, traffic, "Aanmelden")
    walk.visit(who, page, traffic, "/password/reset")
    walk.submit(who, page, traffic, "Link versturen")
    walk.visit(who, page, traffic, "/password/reset/ongeldig", 400)
    walk.visit(who, page, traffic, address("/invitation/<token>", v))
    page.locator("input[type=password]").first.fill("kort")
    walk.submit(who, page, traffic, "Opslaan")


def _signed_in_extras(walk: Walk, who: str, page: Any, traffic: Traffic, v: Any) -> None:
    walk.visit(who, page, traffic, "/account/password")
    walk.submit(who, page, traffic, "Wijzigen")


@web_browser.SQLITE_ONLY
def test_every_page_passes_axe_within_budget_for_every_role(server, browser, db, make, app):
    data = _data(db, make)
    walk = Walk(app, server)
    pages = web_pages(app)
    for principal in PRINCIPALS:
        context = browser.new_context(locale="nl-NL")
        page = context.new_page()
        traffic = Traffic(server)
        traffic.watch(page)
        values = data.values
        if principal != "anonymous":
            _sign_in(walk, principal, page, traffic, data.users[principal])
        for rule in pages:
            if ROUTES[("GET", rule)] == HALF_SIGNED_IN or not allowed(
                ROUTES[("GET", rule)], principal
            ):
                continue
            walk.visit(principal, page, traffic, address(rule, values))
        if principal == "anonymous":
            _anonymous_extras(walk, principal, page, traffic, values)
        else:
            _signed_in_extras(walk, principal, page, traffic, values)
        context.close()

    # A provider without a second factor yet: the set-up page, then the recovery codes.
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    traffic = Traffic(server)
    traffic.watch(page)
    _sign_in(walk, "provider", page, traffic, {"email": data.enrolling["email"], "secret": None})
    assert urlsplit(page.url).path == "/account/2fa", page.url
    walk.checked.add(("provider", "/account/2fa"))
    # The QR code to scan (checked by axe with the page above), the key as text beside it.
    qr = page.get_by_role("img", name=QR_TITLE)
    assert qr.is_visible() and qr.bounding_box()["width"] >= 150
    assert page.locator("code.sleutel").is_visible()
    secret = db.session.scalar(select(User.totp_secret).where(User.id == data.enrolling["id"]))
    db.session.rollback()
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    walk.submit("provider", page, traffic, "Bevestigen")
    assert "herstelcode" in page.content().lower()
    context.close()

    assert walk.failures == []
    missing = [
        (principal, rule)
        for rule in pages
        for principal in PRINCIPALS
        if allowed(ROUTES[("GET", rule)], principal)
        and (ROUTES[("GET", rule)] != HALF_SIGNED_IN or principal in HALF_WAY[rule])
        and (principal, rule) not in walk.checked
    ]
    assert missing == [], "pages never checked"
