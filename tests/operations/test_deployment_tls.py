"""The deployment an operator runs, tested end to end in Debian's chromium over https.

nginx (Debian's) terminates TLS with a certificate made for this run and proxies to gunicorn
with two workers; a separate `respijt scheduler` sends the SMS through a fake Twilio on
127.0.0.1; everything runs on a fresh PostgreSQL database. In the browser: the meldpunt signs
in with the second factor, a family asks for a bed through the public form, the meldpunt holds
a bed, the family follows the link from the SMS and accepts. Then gunicorn serving TLS itself:
sign in and the public form. Every process is stopped however the test ends; when it fails,
the processes' logs are printed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from respijt import clock, create_app
from respijt.cli import fake_twilio
from respijt.extensions import db as _db
from respijt.models import AccessLog, CareRequest, OutboxMessage, Reservation, Unit
from tests.browser.browser import launch
from tests.browser.live_server import free_port
from tests.conftest import IN_CI, _backends, config_for_tests, make_database
from tests.factories import TEST_PASSWORD, Factory
from tests.operations.deployment import (
    ProcessGroup,
    deployment_missing,
    gunicorn_command,
    make_certificate,
    nginx_command,
    nginx_config,
    scheduler_command,
    session_from,
)

MISSING = deployment_missing()
if MISSING and IN_CI:
    pytest.fail(f"the deployment test must run under CI=true: {MISSING}", pytrace=False)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(MISSING is not None, reason=f"deployment test skipped: {MISSING}"),
]

SECRET_KEY = "deployment-test-key-shared-by-every-process"
FAMILY_MOBILE = "06 12345678"
FAMILY_E164 = "+31612345678"
SMS_WAIT_SECONDS = 15.0
VISITOR = "127.0.0.2"


@dataclass
class Seeded:
    app: Flask
    url: str
    staff: dict[str, tuple[str, str]]  # test → (e-mail, TOTP secret): a code counts once
    municipality: str
    unit_id: int
    location_name: str
    coordinator_token: dict[str, str]  # reads the placed request (the meldpunt may not)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A fresh PostgreSQL database, migrated, with one region whose pool provider is on duty,
    a bed for older people there, and a meldpunt user of that provider with a second factor."""
    if "postgresql" not in _backends():
        pytest.skip("RESPIJT_TEST_BACKENDS leaves out PostgreSQL, which the deployment runs on")
    url, drop = make_database("postgresql", str(tmp_path_factory.mktemp("deploy-db")))
    try:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade()
            make = Factory(_db.session, app.config)
            region = make.region()
            municipality = make.municipality(region=region)
            provider = make.provider(regions=[region], pool=True)
            location = make.location(provider=provider, municipality=municipality)
            unit = make.unit(location=location, capacity=2, target_groups=["ouderen"])
            staff = {}
            for test in ("nginx", "gunicorn"):
                user = make.user("meldpunt", provider=provider)
                assert user.totp_secret and user.totp_confirmed_at is not None
                staff[test] = (user.email, user.totp_secret)
            found = Seeded(
                app=app,
                url=url,
                staff=staff,
                municipality=municipality.code,
                unit_id=unit.id,
                location_name=location.name,
                coordinator_token=make.token("coordinator", regions=[region]),
            )
            _db.session.remove()
        try:
            yield found
        finally:
            with app.app_context():
                _db.engine.dispose()
    finally:
        drop()


def _environment(seeded: Seeded, tmp: Path, public_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPIJT_")}
    env.update(
        DATABASE_URL=seeded.url,
        RESPIJT_SECRET_KEY=SECRET_KEY,
        RESPIJT_PUBLIC_URL=public_url,
        RESPIJT_INSTANCE_PATH=str(tmp),
        RESPIJT_QUIET_HOURS="",  # the test runs at any hour
    )
    env.update(extra)
    return env


@pytest.fixture()
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProcessGroup]:
    """The test's processes; all stopped at the end, their logs printed when the test failed."""
    group = ProcessGroup(tmp_path)
    failed_before = request.session.testsfailed
    try:
        yield group
    finally:
        group.stop()
        if request.session.testsfailed > failed_before:
            print(group.logs())


@pytest.fixture()
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def _https_context(browser: Any) -> Any:
    """A browser profile that accepts the test's self-signed certificate."""
    context = browser.new_context(ignore_https_errors=True, locale="nl-NL")
    context.set_default_timeout(10_000)
    return context


def _stay_dates(seeded: Seeded) -> tuple[str, str]:
    with seeded.app.app_context():
        unit = _db.session.get(Unit, seeded.unit_id)
        assert unit is not None
        arrival = clock.today() + timedelta(days=10)
        while str(arrival.isoweekday()) not in unit.arrival_weekdays:
            arrival += timedelta(days=1)
        departure = arrival + timedelta(days=max(unit.min_nights, 2))
        _db.session.remove()
    return arrival.isoformat(), departure.isoformat()


def _submit_public_form(page: Any, base: str, seeded: Seeded) -> str:
    """Fill /aanvragen as a family member would and return the reference shown."""
    arrival, departure = _stay_dates(seeded)
    query = f"gemeente={seeded.municipality}&doelgroep=ouderen&van={arrival}&tot={departure}"
    response = page.goto(f"{base}/aanvragen?{query}", wait_until="load")
    assert response.status == 200
    page.get_by_label("Voornaam of voorletters").fill("Ans")
    page.get_by_label("Geboortejaar").fill("1938")
    page.get_by_label("Waarom logeren?").select_option("vakantie")
    page.get_by_label("Uw naam").fill("Marja de Vries")
    page.get_by_label("Uw mobiele nummer").fill(FAMILY_MOBILE)
    page.get_by_label(re.compile("Ik geef toestemming")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Aanvraag versturen").click()
    heading = _heading(page)
    assert heading == "We hebben uw aanvraag ontvangen", f"after sending: {heading!r}"
    assert page.url == f"{base}/aanvragen/verstuurd"
    reference = page.get_by_test_id("reference").inner_text()
    assert re.fullmatch(r"R-[0-9A-Z]{4,}", reference)
    return reference


def _heading(page: Any) -> str:
    return str(page.get_by_role("heading", level=1).first.inner_text())


def _sign_in_meldpunt(page: Any, base: str, account: tuple[str, str]) -> None:
    """Password, then the code from the authenticator app; each step must get through."""
    email, totp_secret = account
    page.goto(base + "/login", wait_until="load")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Aanmelden").click()
    assert page.url == f"{base}/login/2fa", f"after the password: {_heading(page)!r} at {page.url}"
    page.locator("input[name=code]").fill(pyotp.TOTP(totp_secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Controleren").click()
    assert page.url == f"{base}/account", f"after the code: {_heading(page)!r} at {page.url}"
    assert _heading(page) == "Mijn account"
    page.goto(base + "/meldpunt", wait_until="load")
    assert "U heeft nu dienst" in page.locator("main").inner_text()


def _wait_for_sms(fake: fake_twilio.FakeTwilio, pattern: str) -> list[str]:
    """The texts Twilio accepted for the family's number that match `pattern`."""
    end = time.monotonic() + SMS_WAIT_SECONDS
    while time.monotonic() < end:
        found = [m.body for m in fake.messages(to=FAMILY_E164) if re.search(pattern, m.body)]
        if found:
            return found
        time.sleep(0.1)
    sent = [m.body for m in fake.messages()]
    raise AssertionError(f"no SMS matching {pattern!r} within {SMS_WAIT_SECONDS} s; sent: {sent}")


def test_behind_nginx_the_whole_journey_works_over_https(
    seeded: Seeded, processes: ProcessGroup, browser: Any, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    app_port, nginx_port = free_port(), free_port()
    base = f"https://127.0.0.1:{nginx_port}"

    def callback_through_nginx(
        url: str, params: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        answer = requests.post(url, data=params, headers=headers, verify=str(cert), timeout=10)
        return answer.status_code, answer.text

    fake = fake_twilio.FakeTwilio(
        app_url=base,
        auto_statuses=("delivered",),
        transport=callback_through_nginx,
    )
    with fake:
        env = _environment(
            seeded,
            tmp_path,
            base,
            RESPIJT_TRUSTED_PROXIES="1",
            RESPIJT_SMS_BACKEND="twilio",
            RESPIJT_TWILIO_BASE_URL=fake.url,
            RESPIJT_TWILIO_ACCOUNT_SID=fake.account_sid,
            RESPIJT_TWILIO_AUTH_TOKEN=fake.auth_token,
            RESPIJT_TWILIO_FROM=fake.number,
            RESPIJT_SCHEDULER_DISPATCH_SECONDS="0.2",
            RESPIJT_SCHEDULER_LEASE_SECONDS="3",
        )
        web = processes.start("gunicorn", gunicorn_command(app_port, tmp_path, workers=2), env)
        processes.wait_until(
            web,
            lambda: requests.get(f"http://127.0.0.1:{app_port}/health", timeout=1).ok,
            "GET /health",
        )
        processes.start("scheduler", scheduler_command(), env)
        conf = nginx_config(tmp_path, port=nginx_port, upstream_port=app_port, cert=cert, key=key)
        proxy = processes.start("nginx", nginx_command(conf, tmp_path), env)
        processes.wait_until(
            proxy,
            lambda: requests.get(f"{base}/health", verify=str(cert), timeout=1).ok,
            "GET https://…/health",
        )

        staff_context = _https_context(browser)
        family_context = _https_context(browser)
        try:
            staff = staff_context.new_page()
            family = family_context.new_page()

            # The meldpunt on duty signs in with password and code.
            _sign_in_meldpunt(staff, base, seeded.staff["nginx"])

            # A family member asks for a bed; the SMS with the link comes from the scheduler.
            reference = _submit_public_form(family, base, seeded)
            received = _wait_for_sms(fake, re.escape(reference) + " ontvangen")
            assert f"Volgen: {base}/a/" in received[0]

            # The meldpunt holds the first fitting bed for the request.
            staff.goto(f"{base}/meldpunt/aanvragen/{reference}", wait_until="load")
            assert staff.get_by_test_id("status").inner_text() in ("Nieuw", "Op de wachtlijst")
            with staff.expect_navigation():
                staff.get_by_role("button", name=re.compile("^Vasthouden")).first.click()
            assert "De plek wordt vastgehouden." in staff.get_by_role("status").inner_text()
            assert staff.get_by_test_id("aanbod").inner_text().count("Vastgehouden") == 1

            # The offer SMS carries a signed link; another worker may well verify it.
            offer = _wait_for_sms(fake, f"logeerbed voor aanvraag {reference} bij ")
            assert seeded.location_name in offer[0]
            links = re.findall(r"https://\S+/a/\S+", offer[0])
            assert links, offer
            family_context.clear_cookies()  # the link alone must be enough
            family.goto(links[0].rstrip("."), wait_until="load")
            assert family.url == f"{base}/mijn-aanvraag"
            assert reference in family.get_by_role("heading", level=1).inner_text()
            assert family.get_by_test_id("status").inner_text() == "Aanbod gedaan"
            assert seeded.location_name in family.locator("article.offer").inner_text()

            with family.expect_navigation():
                family.get_by_role("button", name=re.compile("Ja, dit aanbod")).click()
            assert "U hebt het aanbod aangenomen." in family.get_by_role("status").inner_text()
            assert family.get_by_test_id("status").inner_text() == "Geplaatst"
            assert "Bevestigd" in family.locator("article.offer").inner_text()
        finally:
            staff_context.close()
            family_context.close()

        # nginx logged the visit to the SMS link, without its token.
        token = links[0].rstrip(".").rsplit("/a/", 1)[1]
        access_log = (tmp_path / "nginx-access.log").read_text()
        assert '"GET /a/-" 303' in access_log and '"POST /aanvragen" 303' in access_log
        assert token not in access_log

        with seeded.app.app_context():
            care_request = _db.session.scalar(
                select(CareRequest).where(CareRequest.reference == reference)
            )
            assert care_request is not None
            assert care_request.status == "placed" and care_request.channel == "web"
            assert care_request.contact_mobile == FAMILY_E164
            reservation = _db.session.scalar(
                select(Reservation).where(Reservation.request_id == care_request.id)
            )
            assert reservation is not None and reservation.status == "confirmed"
            assert reservation.unit_id == seeded.unit_id
            messages = _db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == FAMILY_E164)
            ).all()
            assert {m.template for m in messages} >= {"request_received", "request_offer"}
            _db.session.remove()
        # No client data in what went out by SMS.
        assert not [m.body for m in fake.messages() if "Ans" in m.body or "1938" in m.body]
        # Twilio's delivery callbacks came back through nginx and were accepted.
        _wait_for_delivered(seeded, ("request_received", "request_offer"))
        _visitor_address_comes_from_the_proxy(seeded, base, cert, reference)


def _visitor_address_comes_from_the_proxy(
    seeded: Seeded, base: str, cert: Path, reference: str
) -> None:
    """A visitor on 127.0.0.2 reads the request through nginx (which reaches gunicorn from
    127.0.0.1): the NEN 7513 log records the visitor, not the proxy, and not the address the
    visitor wrote into X-Forwarded-For itself. The answer is marked secure (HSTS)."""
    with session_from(VISITOR) as visitor:
        answer = visitor.get(
            f"{base}/api/v1/requests/{reference}",
            headers={**seeded.coordinator_token, "X-Forwarded-For": "203.0.113.9"},
            verify=str(cert),
            timeout=10,
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    with seeded.app.app_context():
        latest = _db.session.scalars(
            select(AccessLog)
            .where(AccessLog.client_reference == reference)
            .order_by(AccessLog.id.desc())
        ).first()
        assert latest is not None and latest.role == "coordinator"
        assert latest.source == VISITOR
        _db.session.remove()


def _wait_for_delivered(seeded: Seeded, templates: tuple[str, ...]) -> None:
    end = time.monotonic() + SMS_WAIT_SECONDS
    statuses: dict[str, str] = {}
    while time.monotonic() < end:
        with seeded.app.app_context():
            statuses = {
                m.template: m.status
                for m in _db.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.template.in_(templates))
                )
            }
            _db.session.remove()
        if all(statuses.get(t) == "delivered" for t in templates):
            return
        time.sleep(0.2)
    raise AssertionError(f"delivery callbacks not recorded: {statuses}")


def test_gunicorn_serving_tls_itself_signs_in_and_takes_the_form(
    seeded: Seeded, processes: ProcessGroup, browser: Any, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    env = _environment(seeded, tmp_path, base)
    web = processes.start(
        "gunicorn-tls", gunicorn_command(port, tmp_path, workers=2, tls=(cert, key)), env
    )
    processes.wait_until(
        web, lambda: requests.get(f"{base}/health", verify=str(cert), timeout=1).ok, "GET /health"
    )
    context = _https_context(browser)
    try:
        page = context.new_page()
        response = page.goto(f"{base}/", wait_until="load")
        assert response.headers.get("strict-transport-security", "").startswith("max-age=")
        _sign_in_meldpunt(page, base, seeded.staff["gunicorn"])
        reference = _submit_public_form(context.new_page(), base, seeded)
    finally:
        context.close()
    with seeded.app.app_context():
        created = _db.session.scalar(select(CareRequest).where(CareRequest.reference == reference))
        assert created is not None and created.channel == "web"
        _db.session.remove()
