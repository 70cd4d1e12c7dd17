"""Where the browser goes after signing in: only a path on this site, whatever `next` says."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.accounts_support import csrf_token, totp_now
from tests.factories import TEST_PASSWORD

# `next` values as they arrive in the query string (decoded once by the server).
HOSTILE = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " //evil.example",
    "/\u2028/evil.example",
    "evil.example",
    "http:/evil.example",
]


def _login(client, user, target: str):
    return client.post(
        "/login?next=" + quote(target, safe=""),
        data={
            "email": user.email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )


@pytest.mark.parametrize("target", HOSTILE)
def test_login_sends_a_hostile_next_to_the_account_page(client, make, target):
    user = make.user("verwijzer")
    response = _login(client, user, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", HOSTILE)
def test_second_factor_sends_a_hostile_next_to_the_account_page(client, make, target):
    user = make.user("provider")
    response = _login(client, user, target)
    assert response.status_code == 302 and response.headers["Location"] == "/login/2fa"
    response = client.post(
        "/login/2fa",
        data={"code": totp_now(user), "csrf_token": csrf_token(client, "/login/2fa")},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_a_nul_byte_in_next_is_refused_before_anything_happens(client, make):
    """respijt.serving.input_limits refuses a NUL byte anywhere in a request, `next` included."""
    user = make.user("verwijzer")
    response = _login(client, user, "\x00/evil.example")
    assert response.status_code == 422 and "Location" not in response.headers


@pytest.mark.parametrize(
    "target", ["/aanbieder", "/account?tab=tokens", "/meldpunt/aanvragen#open"]
)
def test_a_path_on_this_site_is_kept(client, make, target):
    user = make.user("provider")
    _login(client, user, target)
    response = client.post(
        "/login/2fa",
        data={"code": totp_now(user), "csrf_token": csrf_token(client, "/login/2fa")},
    )
    assert response.status_code == 302 and response.headers["Location"] == target
