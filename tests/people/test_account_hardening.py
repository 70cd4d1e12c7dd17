"""Account credentials that must stay dead, and a second-factor code that works once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pyotp

from respijt import clock
from respijt.database import run_in_transaction
from respijt.models import User, WebSession
from respijt.people import accounts, tokens

SESSIONS = 8


def test_enabling_a_disabled_user_does_not_bring_their_tokens_back(app, db, make):
    user = make.user("verwijzer")
    _, secret = tokens.create_token(
        db.session, role="verwijzer", name="koppeling", now=clock.now(), user_id=user.id
    )
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    assert client.get("/api/v1/requests", headers=headers).status_code == 200
    runner = app.test_cli_runner()
    assert runner.invoke(args=["user", "disable", user.email]).exit_code == 0
    assert client.get("/api/v1/requests", headers=headers).status_code == 401
    assert runner.invoke(args=["user", "enable", user.email]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, user.id).active
    assert client.get("/api/v1/requests", headers=headers).status_code == 401
    # A token made after enabling works: only the old ones stay revoked.
    _, fresh = tokens.create_token(
        db.session, role="verwijzer", name="nieuw", now=clock.now(), user_id=user.id
    )
    db.session.commit()
    fresh_headers = {"Authorization": f"Bearer {fresh}"}
    assert client.get("/api/v1/requests", headers=fresh_headers).status_code == 200


def test_one_totp_code_signs_in_exactly_one_of_concurrent_sessions(app, db, make, backend):
    user = make.user("coordinator")
    code = pyotp.TOTP(user.totp_secret).at(clock.now())
    session_ids = [
        accounts.start_session(db.session, user, clock.now())[0].id for _ in range(SESSIONS)
    ]
    db.session.commit()
    barrier = threading.Barrier(SESSIONS)

    def attempt(session_id: int) -> bool:
        with app.app_context():
            from respijt.extensions import db as ext

            def work() -> bool:
                web_session = ext.session.get(WebSession, session_id)
                assert web_session is not None and web_session.user is not None
                if backend == "postgresql":
                    # Every session has read the user before any of them writes.
                    barrier.wait(timeout=10)
                return accounts.verify_second_factor(ext.session, web_session, code, clock.now())

            try:
                if backend != "postgresql":
                    barrier.wait(timeout=10)  # SQLite: the write lock is taken at BEGIN
                return run_in_transaction(ext.session, work, retries=20)
            finally:
                ext.session.remove()

    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        outcomes = list(pool.map(attempt, session_ids))
    assert outcomes.count(True) == 1, outcomes
    db.session.expire_all()
    signed_in = db.session.query(WebSession).filter(WebSession.second_factor_at.is_not(None))
    assert signed_in.count() == 1
