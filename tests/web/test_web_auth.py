"""The account pages through the test client: login, second factor, logout, links, CSRF,
cookies and headers, and rate limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from respijt import clock
from respijt.messages import mail
from tests.accounts_support import csrf_token, totp_now, web_login
from tests.conftest import IN_CI
from tests.conftest import config_for_tests as config_for
from tests.factories import TEST_PASSWORD


def cookie_header(response) -> str:
    names = ("__Host-respijt=", "respijt_session=")  # not the known-device cookie
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(names)]
    return cookie


def test_login_sets_a_host_only_secure_httponly_lax_cookie(client, make):
    user = make.user("verwijzer")
    response = web_login(client, user)
    cookie = cookie_header(response)
    assert cookie.startswith("__Host-respijt=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie
    page = client.get("/account")
    assert page.status_code == 200 and user.email in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_cookie_flags_can_be_relaxed_for_local_http(database_url):
    from respijt import create_app

    app = create_app(config_for(database_url) | {"RESPIJT_COOKIE_SECURE": False})
    assert app.config["SESSION_COOKIE_NAME"] == "respijt_session"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_wrong_password_does_not_sign_in(client, make):
    user = make.user("verwijzer")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "niet het goede!",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 200
    assert "onjuist" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_cookie_captured_before_logout_is_rejected_after(client, make, app):
    user = make.user("verwijzer")
    web_login(client, user)
    captured = client.get_cookie("__Host-respijt").value
    other_device = app.test_client()
    other_device.set_cookie("__Host-respijt", captured)
    assert other_device.get("/account").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie("__Host-respijt", captured)
    response = replay.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert other_device.get("/account").status_code == 302  # every session ended


def test_password_change_ends_every_session(client, make, app):
    user = make.user("verwijzer")
    web_login(client, user)
    other = app.test_client()
    web_login(other, user)
    response = client.post(
        "/account/password",
        data={
            "current": TEST_PASSWORD,
            "password": "een heel nieuw wachtwoord",
            "repeat": "een heel nieuw wachtwoord",
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302
    web_login(app.test_client(), user, password="een heel nieuw wachtwoord")


def test_idle_and_absolute_timeouts_end_the_web_session(client, make, app):
    user = make.user("verwijzer")
    start = clock.now()
    clock.freeze(start)
    web_login(client, user)
    clock.freeze(start + timedelta(minutes=app.config["RESPIJT_SESSION_IDLE_MINUTES"] + 1))
    assert client.get("/account").status_code == 302


# Pages anyone may open without an account (the login and link pages themselves).
OPEN_PAGES = {
    "static",
    "favicon",
    "security_txt",  # RFC 9116: public by design
    "auth.login",
    "auth.logout",
    "auth.password_reset_request",
    "auth.password_reset",
    "auth.invitation",
    "auth.second_factor",
    "rota_feed.ical",  # the calendar feed: its secret token is the credential
}


def test_login_without_second_factor_reaches_no_page_with_client_data(client, make, app):
    user = make.user("coordinator")
    web_login(client, user, second_factor=False)
    checked = 0
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.endpoint in OPEN_PAGES
            or rule.endpoint.startswith("web.")  # the public pages: open to anyone
            or rule.rule.startswith(("/api/", "/health", "/metrics", "/twilio/"))
        ):
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        response = client.get(path)
        assert response.status_code == 302, rule.rule
        assert response.headers["Location"] == "/login/2fa", rule.rule
        checked += 1
    assert checked >= 3  # /account, /account/password, the monthly report, …
    assert client.get("/login/2fa").status_code == 200
    response = client.post(
        "/login/2fa", data={"code": totp_now(user), "csrf_token": csrf_token(client, "/login/2fa")}
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def test_first_login_of_a_provider_enrols_totp_and_shows_recovery_codes(client, make):
    import pyotp

    user = make.user("provider", totp=False)
    response = web_login(client, user)
    assert response.headers["Location"] == "/account/2fa"
    html = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="sleutel">([A-Z2-7]+)</code>', html).group(1)
    response = client.post(
        "/account/2fa",
        data={
            "code": pyotp.TOTP(secret).at(clock.now()),
            "csrf_token": csrf_token(client, "/account/2fa"),
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        len(
            re.findall(
                r"<li><code>[0-9a-f]{6}-[0-9a-f]{6}</code></li>", response.get_data(as_text=True)
            )
        )
        == 10
    )
    assert client.get("/account").status_code == 200


def test_enrolment_page_shows_a_qr_code_of_the_provisioning_uri_and_logs_neither(
    client, make, db, caplog
):
    """The QR code is inline SVG that segno made from exactly the provisioning URI, with a
    Dutch title for screen readers; the key stays on the page as text. Neither the key nor
    the URI appears in the log."""
    import logging
    from html import unescape

    import segno

    from respijt.people import accounts
    from respijt.web.qr_code import QR_TITLE

    user = make.user("provider", totp=False)
    web_login(client, user)
    caplog.set_level(logging.DEBUG)
    html = client.get("/account/2fa").get_data(as_text=True)
    db.session.refresh(user)
    uri = accounts.provisioning_uri(user)
    expected = segno.make(uri, error="m").svg_inline(
        scale=4, light="#fff", title=QR_TITLE, svgclass="qr"
    )
    assert expected.replace("<svg ", '<svg role="img" ', 1) in html
    assert "QR-code" in QR_TITLE and f"<title>{QR_TITLE}</title>" in html
    assert f'<code class="sleutel">{user.totp_secret}</code>' in html
    assert unescape(re.search(r'<code class="uri">([^<]+)</code>', html).group(1)) == uri
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert user.totp_secret not in logged and "otpauth" not in logged


def test_form_post_without_csrf_token_is_refused(client, make):
    user = make.user("verwijzer")
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "Formulier verlopen" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_session_cookie_is_ignored_by_the_token_api(client, make):
    user = make.user("coordinator")
    web_login(client, user)
    assert client.get("/account").status_code == 200
    response = client.get("/api/v1/access-log?client_reference=reservation:1")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    response = client.post("/api/v1/reservations", json={})  # no CSRF needed, still 401
    assert response.status_code == 401


def _mailed_link() -> str:
    body = mail.outbox[-1].get_content()
    return re.search(r"http://127\.0\.0\.1(/\S+)", body).group(1)


def test_invitation_link_sets_the_password_once_and_expires(db, app):
    from respijt.cli.commands import main  # noqa: F401 - the command group

    runner = app.test_cli_runner()
    mail.outbox.clear()
    result = runner.invoke(
        args=["user", "create", "--email", "nieuw@example.nl", "--name", "Nieuw", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    path = _mailed_link()
    client = app.test_client()
    assert client.get(path).status_code == 200
    data = {
        "password": "mijn eigen lange zin",
        "repeat": "mijn eigen lange zin",
        "csrf_token": csrf_token(client, path),
    }
    assert client.post(path, data=data).status_code == 302
    assert client.get(path).status_code == 400  # used
    response = client.post(
        "/login",
        data={
            "email": "nieuw@example.nl",
            "password": "mijn eigen lange zin",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.headers["Location"] == "/account/2fa"  # admin: second factor first
    # A second invitation, opened after its validity:
    runner.invoke(args=["user", "create", "--email", "later@example.nl", "--role", "admin"])
    path = _mailed_link()
    clock.freeze(clock.now() + timedelta(hours=app.config["RESPIJT_INVITATION_HOURS"], seconds=1))
    response = app.test_client().get(path)
    assert response.status_code == 400 and "verlopen" in response.get_data(as_text=True)


def test_password_reset_link_works_once_and_answers_the_same_for_unknown_addresses(
    client, make, app
):
    user = make.user("verwijzer")
    mail.outbox.clear()
    for email in ("onbekend@example.nl", user.email):
        response = client.post(
            "/password/reset",
            data={"email": email, "csrf_token": csrf_token(client, "/password/reset")},
        )
        assert response.status_code == 200 and "Kijk in uw mail" in response.get_data(as_text=True)
    assert [m["To"] for m in mail.outbox] == [user.email]
    path = _mailed_link()
    data = {
        "password": "weer een nieuwe zin",
        "repeat": "weer een nieuwe zin",
        "csrf_token": csrf_token(client, path),
    }
    assert client.post(path, data=data).status_code == 302
    assert client.get(path).status_code == 400
    web_login(app.test_client(), user, password="weer een nieuwe zin")


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain http here
    https = client.get("/login", base_url="https://localhost")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")
    assert client.get("/favicon.ico").status_code == 301
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()


@pytest.fixture()
def limited_client(database_url, db):
    from respijt import create_app

    app = create_app(config_for(database_url) | {"RESPIJT_RATELIMIT": True})
    yield app.test_client()
    with app.app_context():
        from respijt.extensions import db as extension

        extension.engine.dispose()


def test_rate_limit_answers_429_with_dutch_problem_json(limited_client, make, today):
    rng = f"from={today + timedelta(days=1)}&to={today + timedelta(days=2)}"
    statuses = [limited_client.get(f"/api/v1/availability?{rng}").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429
    response = limited_client.get(f"/api/v1/availability?{rng}")
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 429 and body["title"] == "Te veel verzoeken"
    assert "Retry-After" in response.headers


def test_login_attempts_are_rate_limited(limited_client, make, db):
    email = make.user("verwijzer").email
    db.session.commit()  # end the read transaction: the other app's requests write (SQLite)
    token = csrf_token(limited_client, "/login")
    data = {"email": email, "password": "fout fout fout", "csrf_token": token}
    statuses = []
    clock.freeze(clock.now())
    for _ in range(10):
        # Past the growing delay of respijt.people.login_throttle: only the per-address limit counts.
        clock.freeze(clock.now() + timedelta(minutes=10))
        statuses.append(limited_client.post("/login", data=data).status_code)
    assert statuses == [200] * 10
    clock.freeze(clock.now() + timedelta(minutes=10))
    refused = limited_client.post("/login", data=data)
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert "Te veel pogingen" in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    assert limited_client.get("/login").status_code == 200  # the form itself stays reachable


def test_two_workers_share_the_limit_through_redis(database_url, db, today):
    """RESPIJT_RATELIMIT_STORAGE_URI=redis://…: several processes count together."""
    import socket
    import uuid

    pytest.importorskip("redis")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        if IN_CI:
            pytest.fail("Redis must run on 127.0.0.1:6379 under CI=true for this test.")
        pytest.skip("no Redis on 127.0.0.1:6379")
    from respijt import create_app
    from respijt.extensions import db as extension

    config = config_for(database_url) | {
        "RESPIJT_RATELIMIT": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"respijt-test-{uuid.uuid4().hex}",
    }
    workers = [create_app(config), create_app(config)]
    rng = f"from={today + timedelta(days=1)}&to={today + timedelta(days=2)}"
    try:
        statuses = [
            workers[i % 2].test_client().get(f"/api/v1/availability?{rng}").status_code
            for i in range(121)
        ]
    finally:
        for worker in workers:
            with worker.app_context():
                extension.engine.dispose()
    assert statuses.count(200) == 120 and statuses[-1] == 429


def test_public_request_form_is_rate_limited_but_token_callers_are_not(limited_client, make, db):
    headers = make.token("verwijzer")
    db.session.commit()
    anonymous = [limited_client.post("/api/v1/requests", json={}).status_code for _ in range(11)]
    assert anonymous[:10] == [422] * 10 and anonymous[10] == 429
    assert limited_client.post("/api/v1/requests", json={}, headers=headers).status_code == 422
    bogus = {"Authorization": "Bearer rsp_onzin"}
    assert limited_client.post("/api/v1/requests", json={}, headers=bogus).status_code == 401


def test_signed_in_coordinator_sees_the_monthly_report_of_their_own_regions_only(client, make):
    region = make.region()
    own = make.municipality(region=region)
    other = make.municipality()
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/reports/monthly/{own.code}/2027-03")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    elsewhere = client.get(f"/reports/monthly/{other.code}/2027-03")
    assert elsewhere.status_code == 404 and elsewhere.mimetype == "text/html"
    assert "hoort niet bij uw regio" in elsewhere.get_data(as_text=True)


def test_failed_logins_slow_the_account_down_from_any_address(limited_client, make, db):
    email = make.user("verwijzer").email
    db.session.commit()
    clock.freeze(clock.now())
    token = csrf_token(limited_client, "/login")
    data = {"email": email, "password": "fout fout fout", "csrf_token": token}
    statuses = [
        limited_client.post(
            "/login", data=data, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}
        ).status_code
        for i in range(21)
    ]
    # The account as a whole waits after RESPIJT_LOGIN_ACCOUNT_FREE_FAILURES (20): a delay
    # (respijt.people.login_throttle), not a lockout.
    assert statuses == [200] * 20 + [429]
    other = {"email": "ander@example.nl", "password": "x" * 12, "csrf_token": token}
    assert limited_client.post("/login", data=other).status_code == 200  # not that account
