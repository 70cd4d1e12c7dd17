"""RESPIJT_TRUSTED_PROXIES: X-Forwarded-* decides the client's address and the scheme only
when proxies are trusted; with the default 0 any client could send it, so it is ignored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from respijt import create_app
from respijt.extensions import db as extension
from respijt.models import AccessLog
from tests.accounts_support import csrf_token, web_login
from tests.conftest import config_for_tests


@pytest.fixture(params=[0, 1], ids=["untrusted", "trusted"])
def proxied(request, database_url, db):
    app = create_app(
        config_for_tests(database_url)
        | {"RESPIJT_RATELIMIT": True, "RESPIJT_TRUSTED_PROXIES": request.param}
    )
    yield request.param, app.test_client()
    with app.app_context():
        extension.engine.dispose()


def _committed_user(db, make, role: str) -> SimpleNamespace:
    """The other app's requests write: the test's session must hold no SQLite transaction."""
    user = make.user(role)
    fields = ("email", "totp_secret", "totp_confirmed_at")
    copy = SimpleNamespace(**{name: getattr(user, name) for name in fields})
    db.session.commit()
    return copy


def _from(address: str, **more: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **more}


def test_rate_limit_buckets_follow_the_forwarded_address_only_when_trusted(proxied, db):
    trusted, client = proxied
    db.session.commit()
    token = csrf_token(client, "/password/reset")

    def reset(address: str) -> int:
        return client.post(
            "/password/reset",
            data={"email": "niemand@example.nl", "csrf_token": token},
            headers=_from(address),
        ).status_code

    assert [reset("203.0.113.1") for _ in range(5)] == [200] * 5
    assert reset("203.0.113.1") == 429
    assert reset("203.0.113.2") == (200 if trusted else 429)


def test_the_access_log_records_the_forwarded_address_only_when_trusted(proxied, db, make):
    trusted, client = proxied
    web_login(client, _committed_user(db, make, "verwijzer"))
    client.get("/verwijzer/aanvragen", headers=_from("198.51.100.7"))
    db.session.commit()
    row = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "care_request.search")
    ).one()
    assert row.source == ("198.51.100.7" if trusted else "127.0.0.1")


def test_https_from_the_proxy_counts_only_when_trusted(proxied, db, make):
    trusted, client = proxied
    headers = _from("198.51.100.7", **{"X-Forwarded-Proto": "https"})
    page = client.get("/login", headers=headers)
    assert ("Strict-Transport-Security" in page.headers) is bool(trusted)
    # Over https (as the proxy says) Flask-WTF wants a same-origin https Referer.
    user = _committed_user(db, make, "verwijzer")
    data = {"email": user.email, "password": "x" * 12, "csrf_token": csrf_token(client, "/login")}
    plain_referer = client.post(
        "/login", data=data, headers=headers | {"Referer": "http://localhost/login"}
    )
    assert plain_referer.status_code == (400 if trusted else 200)


def test_forwarded_host_builds_external_urls_only_when_trusted(proxied, db):
    trusted, client = proxied
    headers = _from(
        "198.51.100.7",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "logeren.example.nl"},
    )
    # The origin check compares Origin with the host the request names.
    data = {"email": "a@example.nl", "password": "x" * 12}
    data["csrf_token"] = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data=data,
        headers=headers
        | {"Origin": "https://logeren.example.nl", "Referer": "https://logeren.example.nl/login"},
    )
    assert response.status_code == (200 if trusted else 400)
