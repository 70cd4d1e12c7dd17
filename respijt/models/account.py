"""Users, their roles and regions, web sessions, recovery codes, and the NEN 7513 access log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from respijt.models.base import Base, UTCDateTime

ROLE_CHECK = "role IN ('provider', 'meldpunt', 'verwijzer', 'coordinator', 'admin')"


class User(Base):
    """A person with an account. Disabled, never deleted: the access log points at them."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))  # verwijzer's organisation
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(
        String(200)
    )  # None until invited user sets it
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # refuses a replayed code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", order_by="UserRole.role"
    )
    region_rows: Mapped[list[UserRegion]] = relationship(cascade="all, delete-orphan")

    @property
    def roles(self) -> list[str]:
        return [row.role for row in self.role_rows]

    @property
    def region_ids(self) -> list[int]:
        return sorted(row.region_id for row in self.region_rows)

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="known_role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class UserRegion(Base):
    """The regions a coordinator works for."""

    __tablename__ = "user_region"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)


class RecoveryCode(Base):
    """A one-time second factor; only its SHA-256 digest is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A server-side login session. The cookie holds a secret whose digest is `digest`."""

    __tablename__ = "web_session"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="known_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # the role the user acts in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class AccessLog(Base):
    """NEN 7513: one row per access to client data. Append-only: database triggers refuse
    UPDATE, TRUNCATE and rewriting an id always, and DELETE outside the retention purge (see
    respijt.privacy.access_log and ADR 0009)."""

    __tablename__ = "access_log"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'denied', 'failed')", name="known_outcome"),
        Index("ix_access_log_client_reference_at", "client_reference", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event: Mapped[str] = mapped_column(String(20))  # read, search, create, change, export, print
    action: Mapped[str] = mapped_column(String(60))  # e.g. reservation.confirm
    client_reference: Mapped[str] = mapped_column(String(60))
    # Who: the caller key ("user:4", "token:3"), kept as text so rows outlive accounts.
    actor: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[int | None] = mapped_column(Integer)
    organisation: Mapped[str | None] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(80))


class LoginThrottle(Base):
    """Failed sign-in attempts under one key (an account, a known device, an address, a
    half-signed-in session): how many in a row, and until when the next attempt waits.
    Only digests and addresses as keys; never a password or a code
    (respijt.people.login_throttle)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
