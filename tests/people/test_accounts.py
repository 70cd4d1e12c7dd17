"""Accounts as domain functions: passwords, users, tokens, second factor, single-use links."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from respijt import clock
from respijt.errors import InvalidInput
from respijt.models import WebSession
from respijt.people import accounts, tokens

LIMITS = accounts.SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def test_password_policy_is_length_and_the_common_list_without_composition_rules():
    assert accounts.password_problems("kort maar fijn") == []  # 14 chars, no digits: fine
    assert accounts.password_problems("alleenletters") == []
    assert accounts.password_problems("elf tekens!")  # 11 characters
    assert accounts.password_problems("Wachtwoord123")  # on the shipped list, any case
    assert accounts.password_problems("password1234")
    assert accounts.password_problems("aaaaaaaaaaaaaaaa")
    assert accounts.password_problems("jan.jansen@x.nl", email="jan.jansen@x.nl")
    assert len(accounts.common_passwords()) > 500


def test_password_is_stored_as_argon2_and_checked(db, make):
    provider = make.provider()
    user = accounts.create_user(
        db.session,
        email=" Ria@Example.NL ",
        name="Ria",
        roles=["provider"],
        now=clock.now(),
        provider_id=provider.id,
        password="drie woorden zin",
    )
    db.session.commit()
    assert user.email == "ria@example.nl"
    assert user.password_hash.startswith("$argon2id$")
    assert accounts.authenticate(db.session, "RIA@example.nl", "drie woorden zin") is user
    assert accounts.authenticate(db.session, "ria@example.nl", "drie woorden zim") is None
    assert accounts.authenticate(db.session, "niemand@example.nl", "drie woorden zin") is None
    accounts.disable_user(db.session, user, clock.now())
    assert accounts.authenticate(db.session, "ria@example.nl", "drie woorden zin") is None


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"roles": ["provider"]}, "aanbieder"),
        ({"roles": ["verwijzer"]}, "organisatie"),
        ({"roles": ["coordinator"]}, "regio"),
        ({"roles": ["baas"]}, "rollen"),
        ({"roles": ["admin"], "password": "te kort"}, "12 tekens"),
    ],
)
def test_create_user_refuses_incomplete_accounts(db, kwargs, fragment):
    with pytest.raises(InvalidInput) as info:
        accounts.create_user(db.session, email="x@example.nl", name="X", now=clock.now(), **kwargs)
    assert fragment in info.value.detail


def test_token_bound_to_a_user_acts_as_that_user_and_dies_with_the_account(db, make):
    user = make.user("provider")
    now = clock.now()
    token, secret = tokens.create_token(
        db.session, role="provider", name="koppeling", now=now, user_id=user.id
    )
    db.session.commit()
    assert token.provider_id == user.provider_id  # bound to the user's provider
    caller = tokens.resolve_token(db.session, secret, now)
    assert caller is not None and caller.key == f"user:{user.id}"
    assert caller.provider_id == user.provider_id and caller.user_id == user.id
    assert token.last_used_at == now
    accounts.disable_user(db.session, user, now)
    db.session.commit()
    assert tokens.resolve_token(db.session, secret, now) is None


def test_token_for_a_role_the_user_lacks_is_refused(db, make):
    user = make.user("verwijzer")
    with pytest.raises(InvalidInput):
        tokens.create_token(db.session, role="admin", name="x", now=clock.now(), user_id=user.id)


def test_revoked_and_expired_tokens_stop_working(db, make):
    now = clock.now()
    token, secret = tokens.create_token(
        db.session, role="admin", name="x", now=now, expires_at=now + timedelta(days=1)
    )
    db.session.commit()
    assert tokens.resolve_token(db.session, secret, now) is not None
    assert tokens.resolve_token(db.session, secret, now + timedelta(days=1)) is None
    assert tokens.revoke_token(db.session, token.id, now)
    assert tokens.resolve_token(db.session, secret, now) is None
    assert not tokens.revoke_token(db.session, token.id, now)  # once


def test_sessions_end_on_idle_absolute_timeout_and_password_change(db, make):
    user = make.user("verwijzer")
    start = clock.now()
    _, secret = accounts.start_session(db.session, user, start)
    db.session.commit()
    assert accounts.resolve_session(db.session, secret, start + timedelta(minutes=29), LIMITS)
    assert accounts.resolve_session(db.session, secret, start + timedelta(minutes=58), LIMITS)
    assert not accounts.resolve_session(db.session, secret, start + timedelta(minutes=90), LIMITS)
    _, secret = accounts.start_session(db.session, user, start)
    at = start
    while at < start + timedelta(hours=12):  # active every 20 minutes, still capped at 12 h
        assert accounts.resolve_session(db.session, secret, at, LIMITS)
        at += timedelta(minutes=20)
    assert not accounts.resolve_session(db.session, secret, at, LIMITS)
    _, secret = accounts.start_session(db.session, user, start)
    accounts.set_password(db.session, user, "een nieuw lang wachtwoord", start)
    assert not accounts.resolve_session(db.session, secret, start, LIMITS)


def test_second_factor_accepts_totp_and_each_recovery_code_once(db, make):
    user = make.user("admin", totp=False)
    now = clock.now()
    web_session, _ = accounts.start_session(db.session, user, now)
    secret = accounts.begin_totp_enrolment(db.session, user)
    with pytest.raises(InvalidInput):
        accounts.confirm_totp_enrolment(db.session, user, web_session, "000000", now)
    codes = accounts.confirm_totp_enrolment(
        db.session, user, web_session, pyotp.TOTP(secret).at(now), now
    )
    assert len(codes) == 10 and user.totp_confirmed_at == now
    second, _ = accounts.start_session(db.session, user, now)
    assert not accounts.fully_authenticated(second)
    assert not accounts.verify_second_factor(db.session, second, "123456", now)
    assert accounts.verify_second_factor(db.session, second, codes[0], now)
    assert accounts.fully_authenticated(second)
    third, _ = accounts.start_session(db.session, user, now)
    assert not accounts.verify_second_factor(db.session, third, codes[0], now)  # used
    enrol_code = pyotp.TOTP(secret).at(now)
    assert not accounts.verify_second_factor(db.session, third, enrol_code, now)  # replay
    later = now + timedelta(seconds=30)
    assert accounts.verify_second_factor(db.session, third, pyotp.TOTP(secret).at(later), later)
    assert accounts.unused_recovery_codes(db.session, user.id) == 9
    assert db.session.query(WebSession).count() == 3


def test_link_works_once_and_not_after_it_expires(db, make, app):
    user = make.user("verwijzer")
    key = app.config["SECRET_KEY"]
    clock.freeze(clock.now())
    token = accounts.make_link_token(key, user, accounts.PASSWORD_RESET)
    hour = timedelta(hours=1)
    assert accounts.read_link_token(db.session, key, token, accounts.PASSWORD_RESET, hour) is user
    with pytest.raises(accounts.LinkInvalid):  # wrong purpose: an invitation is not a reset
        accounts.read_link_token(db.session, key, token, accounts.INVITATION, hour)
    clock.freeze(clock.now() + hour + timedelta(seconds=1))
    with pytest.raises(accounts.LinkInvalid, match="verlopen"):
        accounts.read_link_token(db.session, key, token, accounts.PASSWORD_RESET, hour)
    token = accounts.make_link_token(key, user, accounts.PASSWORD_RESET)
    accounts.set_password(db.session, user, "een nieuw lang wachtwoord", clock.now())
    with pytest.raises(accounts.LinkInvalid, match="gebruikt"):
        accounts.read_link_token(db.session, key, token, accounts.PASSWORD_RESET, hour)
