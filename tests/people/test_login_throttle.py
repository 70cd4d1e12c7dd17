"""Failed sign-ins slow an attacker down without locking out the person who knows the password
and holds the second factor (respijt.people.login_throttle); failures are logged without secrets."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from respijt import clock, create_app
from tests.accounts_support import csrf_token, totp_now
from tests.conftest import config_for_tests
from tests.factories import TEST_PASSWORD

FREE, BASE, CAP, MAX_CODES = 3, 2, 60, 3
WRONG = "geen goed wachtwoord"


@pytest.fixture()
def limited(database_url, db):
    clock.freeze(clock.now())
    app = create_app(
        config_for_tests(database_url)
        | {
            "RESPIJT_RATELIMIT": True,
            "RESPIJT_LOGIN_FREE_FAILURES": FREE,
            "RESPIJT_LOGIN_DELAY_BASE_SECONDS": BASE,
            "RESPIJT_LOGIN_DELAY_MAX_SECONDS": CAP,
            # The attacks below come from a new address each time: only the account-wide
            # key slows them, here with the same numbers as the pair and address keys.
            "RESPIJT_LOGIN_ACCOUNT_FREE_FAILURES": FREE,
            "RESPIJT_LOGIN_ACCOUNT_DELAY_MAX_SECONDS": CAP,
            "RESPIJT_SECOND_FACTOR_MAX_FAILURES": MAX_CODES,
        }
    )
    yield app
    with app.app_context():
        from respijt.extensions import db as extension

        extension.engine.dispose()


def _plain(user: Any, db: Any) -> SimpleNamespace:
    """What the tests need of a user, read before ending the session's transaction (SQLite:
    the other app's requests need the write lock)."""
    plain = SimpleNamespace(id=user.id, email=user.email, totp_secret=user.totp_secret)
    db.session.rollback()
    return plain


def _later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def _login(client, email: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")},
        environ_base={"REMOTE_ADDR": address},
    )


def _code(client, code: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        "/login/2fa",
        data={"code": code, "csrf_token": csrf_token(client, "/login/2fa")},
        environ_base={"REMOTE_ADDR": address},
    )


def _attack(app, email: str, failures: int) -> list[int]:
    """Wrong passwords from a new address each time, waiting out every delay; returns the
    waits asked for."""
    attacker = app.test_client()
    waits: list[int] = []
    done = 0
    while done < failures:
        response = _login(attacker, email, WRONG, address=f"10.66.{done // 250}.{done % 250}")
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            _later(waits[-1])
            continue
        assert response.status_code == 200
        done += 1
    return waits


def test_wrong_passwords_delay_the_meldpunt_but_the_right_person_gets_in(limited, make, db):
    user = _plain(make.user("meldpunt"), db)
    waits = _attack(limited, user.email, 12)
    assert waits == sorted(waits) and waits[0] == BASE and max(waits) == CAP
    # The right password right after the attack also waits (not longer than the cap) ...
    person = limited.test_client()
    refused = _login(person, user.email, TEST_PASSWORD, address="192.0.2.7")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= CAP
    assert "Probeer het over" in refused.get_data(as_text=True)
    assert person.get("/account").status_code == 302  # not signed in
    # ... and after the wait gets in, with the second factor.
    _later(int(refused.headers["Retry-After"]))
    response = _login(person, user.email, TEST_PASSWORD, address="192.0.2.7")
    assert response.status_code == 302 and response.headers["Location"] == "/login/2fa"
    assert _code(person, totp_now(user), address="192.0.2.7").status_code == 302
    assert person.get("/account").status_code == 200
    # A full sign-in forgets the account's failures: one mistake costs no wait.
    _later(1)
    assert _login(limited.test_client(), user.email, WRONG, address="192.0.2.8").status_code == 200


def test_a_browser_that_signed_in_before_is_not_slowed_by_an_attack(limited, make, db):
    user = _plain(make.user("verwijzer"), db)
    own = limited.test_client()
    assert _login(own, user.email, TEST_PASSWORD).status_code == 302
    own.post("/logout", data={"csrf_token": csrf_token(own, "/logout")})
    _attack(limited, user.email, 8)
    stranger = _login(limited.test_client(), user.email, TEST_PASSWORD, address="192.0.2.9")
    assert stranger.status_code == 429
    response = _login(own, user.email, TEST_PASSWORD)
    assert response.status_code == 302 and own.get("/account").status_code == 200


def test_wrong_codes_end_the_half_signed_in_session_and_count_toward_the_delay(limited, make, db):
    user = _plain(make.user("provider"), db)
    client = limited.test_client()
    assert _login(client, user.email, TEST_PASSWORD).status_code == 302
    for _ in range(MAX_CODES - 1):
        wrong = _code(client, "000000")
        assert wrong.status_code == 200 and "klopt niet" in wrong.get_data(as_text=True)
        _later(BASE * 8)  # past any delay: only the count of codes ends the session
    ended = _code(client, "000000")
    assert ended.status_code == 302 and ended.headers["Location"] == "/login"
    assert client.get("/login/2fa").status_code == 302  # the session is gone
    # The wrong codes counted for the account: the next attempt from elsewhere waits.
    waiting = _login(limited.test_client(), user.email, TEST_PASSWORD, address="192.0.2.10")
    assert waiting.status_code == 429
    _later(int(waiting.headers["Retry-After"]))
    again = limited.test_client()
    assert _login(again, user.email, TEST_PASSWORD, address="192.0.2.10").status_code == 302
    assert _code(again, totp_now(user), address="192.0.2.10").status_code == 302
    assert again.get("/account").status_code == 200


def test_parallel_guesses_cannot_all_slip_in_before_the_first_failure_counts(limited, make, db):
    user = _plain(make.user("verwijzer"), db)
    racers = 8
    barrier = threading.Barrier(racers)
    clients = [limited.test_client() for _ in range(racers)]
    tokens = [csrf_token(c, "/login") for c in clients]

    def guess(n: int) -> int:
        barrier.wait(timeout=10)
        return (
            clients[n]
            .post(
                "/login",
                data={"email": user.email, "password": WRONG, "csrf_token": tokens[n]},
                environ_base={"REMOTE_ADDR": f"10.77.0.{n}"},
            )
            .status_code
        )

    with ThreadPoolExecutor(max_workers=racers) as pool:
        statuses = list(pool.map(guess, range(racers)))
    assert statuses.count(200) <= FREE + 1, statuses
    assert statuses.count(429) >= racers - FREE - 1


def test_failed_sign_ins_are_logged_without_the_password_or_the_code(limited, make, db, caplog):
    user = _plain(make.user("coordinator"), db)
    client = limited.test_client()
    with caplog.at_level(logging.WARNING, logger="respijt.security"):
        _login(client, user.email, "mijn geheime gok 123", address="198.51.100.4")
        _login(client, "niemand@example.nl", "nog een gok 456", address="198.51.100.4")
        assert _login(client, user.email, TEST_PASSWORD, address="198.51.100.4").status_code == 302
        _code(client, "987654", address="198.51.100.4")
    lines = [r.getMessage() for r in caplog.records if r.name == "respijt.security"]
    assert f"login failed: user={user.id} source=198.51.100.4" in lines
    assert "login failed: user=unknown source=198.51.100.4" in lines
    assert any(
        line.startswith(f"second factor failed: user={user.id} source=198.51.100.4")
        for line in lines
    )
    text = "\n".join(lines)
    for secret in ("mijn geheime gok", "nog een gok", "987654", "niemand@example.nl", user.email):
        assert secret not in text


ACCOUNT_FREE, ACCOUNT_CAP, PAIR_CAP = 5, 10, 300


@pytest.fixture()
def account_capped(database_url, db):
    clock.freeze(clock.now())
    app = create_app(
        config_for_tests(database_url)
        | {
            "RESPIJT_RATELIMIT": True,
            "RESPIJT_LOGIN_FREE_FAILURES": FREE,
            "RESPIJT_LOGIN_DELAY_BASE_SECONDS": BASE,
            "RESPIJT_LOGIN_DELAY_MAX_SECONDS": PAIR_CAP,
            "RESPIJT_LOGIN_ACCOUNT_FREE_FAILURES": ACCOUNT_FREE,
            "RESPIJT_LOGIN_ACCOUNT_DELAY_MAX_SECONDS": ACCOUNT_CAP,
        }
    )
    yield app
    with app.app_context():
        from respijt.extensions import db as extension

        extension.engine.dispose()


def test_a_sustained_attack_from_one_address_does_not_keep_the_owner_out(account_capped, make, db):
    user = _plain(make.user("meldpunt"), db)
    attacker = account_capped.test_client()
    owner = account_capped.test_client()
    attacker_address, owner_address = "10.66.0.1", "192.0.2.44"

    limiter = account_capped.extensions["respijt_limiter"]

    def attack_for(seconds: int) -> list[int]:
        statuses = []
        for _ in range(seconds):
            # Flask-Limiter counts in real time, not the frozen clock: one guess a second
            # stays under its per-minute limit, which this reset stands for.
            limiter.reset()
            statuses.append(
                _login(attacker, user.email, WRONG, address=attacker_address).status_code
            )
            _later(1)
        return statuses

    statuses = attack_for(400)  # a guess every second, well past the account's free count
    assert statuses.count(200) > ACCOUNT_FREE and statuses[-1] == 429
    # The owner, from a new address without the known-device cookie, gets to the password
    # check within the account's cap while the attacker goes on guessing every second.
    waited = 0
    while True:
        response = _login(owner, user.email, TEST_PASSWORD, address=owner_address)
        if response.status_code != 429:
            break
        wait = int(response.headers["Retry-After"])
        assert wait <= ACCOUNT_CAP
        attack_for(wait)
        waited += wait
        assert waited <= ACCOUNT_CAP
    assert response.status_code == 302 and response.headers["Location"] == "/login/2fa"
