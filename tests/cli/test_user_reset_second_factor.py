"""`respijt user reset-2fa`: the same function as the admin's page (people.accounts)."""

from __future__ import annotations

from sqlalchemy import func, select

from respijt.models import RecoveryCode, User
from respijt.people import accounts


def test_reset_2fa_wipes_the_authenticator_and_the_recovery_codes(app, db, make):
    from respijt.cli.commands import main  # noqa: F401 - the command group

    user = make.user("provider")
    accounts.new_recovery_codes(db.session, user)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["user", "reset-2fa", user.email])
    assert result.exit_code == 0, result.output
    assert "gewist" in result.output
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.totp_secret is None and user.totp_confirmed_at is None
    count = select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    assert db.session.scalar(count) == 0
    unknown = app.test_cli_runner().invoke(args=["user", "reset-2fa", "niemand@example.nl"])
    assert unknown.exit_code == 2
