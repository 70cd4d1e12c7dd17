"""Settings: documented defaults, overridden by RESPIJT_* environment variables.

Every name here is listed in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from limits import parse_many


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise RuntimeError(f"{name} must be positive, got {raw!r}")
    return value


def _limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit in Flask-Limiter's notation ("10 per hour;50 per day")."""
    raw = (env.get(name) or "").strip() or default
    try:
        parse_many(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a limit such as '10 per hour', got {raw!r}") from exc
    return raw


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def settings_from_env(env: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the Flask config mapping from the environment."""
    database_url = (
        env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'respijt.db')}"
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    secret_key = env.get("RESPIJT_SECRET_KEY") or ""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Without a configured key each process draws its own; `respijt serve` persists one.
        "SECRET_KEY": secret_key or secrets.token_hex(32),
        "RESPIJT_SECRET_KEY_CONFIGURED": bool(secret_key),
        "RESPIJT_PUBLIC_URL": env.get("RESPIJT_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "RESPIJT_HORIZON_DAYS": _int(env, "RESPIJT_HORIZON_DAYS", 400),
        "RESPIJT_STALE_AFTER_HOURS": _int(env, "RESPIJT_STALE_AFTER_HOURS", 72),
        "RESPIJT_MAX_CAPACITY": _int(env, "RESPIJT_MAX_CAPACITY", 200),
        "RESPIJT_HOLD_MINUTES": _int(env, "RESPIJT_HOLD_MINUTES", 15),
        "RESPIJT_PROVIDER_CONFIRM_HOURS": _int(env, "RESPIJT_PROVIDER_CONFIRM_HOURS", 24),
        "RESPIJT_SQLITE_BUSY_TIMEOUT_MS": _int(env, "RESPIJT_SQLITE_BUSY_TIMEOUT_MS", 10000),
        "RESPIJT_TX_RETRIES": _int(env, "RESPIJT_TX_RETRIES", 8),
        "RESPIJT_RATELIMIT": _bool(env, "RESPIJT_RATELIMIT", True),
        "RESPIJT_SMS_BACKEND": env.get("RESPIJT_SMS_BACKEND", "console"),
        "RESPIJT_QUIET_HOURS": env.get("RESPIJT_QUIET_HOURS", "21:00-08:00"),
        "RESPIJT_DUTY_GRACE_MINUTES": _int(env, "RESPIJT_DUTY_GRACE_MINUTES", 60),
        # Meldpunt duty rota and phone routing (docs/meldpunt.md).
        "RESPIJT_ROTA_HORIZON_DAYS": _int(env, "RESPIJT_ROTA_HORIZON_DAYS", 56),
        "RESPIJT_ROTA_PATTERN": env.get("RESPIJT_ROTA_PATTERN", "weekly"),
        "RESPIJT_ROTA_HOLIDAYS": env.get("RESPIJT_ROTA_HOLIDAYS", ""),
        "RESPIJT_ROTA_SWAP_APPROVAL": _bool(env, "RESPIJT_ROTA_SWAP_APPROVAL", False),
        "RESPIJT_SCHEDULER_ROTA_REMIND_SECONDS": _float(
            env, "RESPIJT_SCHEDULER_ROTA_REMIND_SECONDS", 300
        ),
        "RESPIJT_MELDPUNT_HOURS": env.get("RESPIJT_MELDPUNT_HOURS", ""),
        "RESPIJT_MELDPUNT_RING_SECONDS": _int(env, "RESPIJT_MELDPUNT_RING_SECONDS", 25),
        # Scheduler (docs/operations.md): lease, heartbeat = lease / 3, job intervals.
        "RESPIJT_SCHEDULER_LEASE_SECONDS": _float(env, "RESPIJT_SCHEDULER_LEASE_SECONDS", 30),
        "RESPIJT_SCHEDULER_DISPATCH_SECONDS": _float(env, "RESPIJT_SCHEDULER_DISPATCH_SECONDS", 5),
        "RESPIJT_SCHEDULER_EXPIRE_SECONDS": _float(env, "RESPIJT_SCHEDULER_EXPIRE_SECONDS", 60),
        "RESPIJT_JOB_RUN_KEEP_DAYS": _int(env, "RESPIJT_JOB_RUN_KEEP_DAYS", 14),
        "RESPIJT_OUTBOX_BATCH": _int(env, "RESPIJT_OUTBOX_BATCH", 100),
        # Outbox retries: exponential backoff with jitter, then `failed` (docs/configuration.md).
        "RESPIJT_OUTBOX_MAX_ATTEMPTS": _int(env, "RESPIJT_OUTBOX_MAX_ATTEMPTS", 8),
        "RESPIJT_OUTBOX_RETRY_BASE_SECONDS": _float(env, "RESPIJT_OUTBOX_RETRY_BASE_SECONDS", 60),
        "RESPIJT_OUTBOX_RETRY_MAX_SECONDS": _float(env, "RESPIJT_OUTBOX_RETRY_MAX_SECONDS", 3600),
        "RESPIJT_OUTBOX_SENDING_TIMEOUT_SECONDS": _float(
            env, "RESPIJT_OUTBOX_SENDING_TIMEOUT_SECONDS", 900
        ),
        "RESPIJT_OFFER_HOURS": _int(env, "RESPIJT_OFFER_HOURS", 24),
        "RESPIJT_REQUEST_LINK_DAYS": _int(env, "RESPIJT_REQUEST_LINK_DAYS", 90),
        # Days after the satisfaction SMS went out in which a reply 1-5 still counts.
        "RESPIJT_SATISFACTION_REPLY_DAYS": _int(env, "RESPIJT_SATISFACTION_REPLY_DAYS", 7),
        # Twilio (SMS): credentials only from the environment; see docs/configuration.md.
        "RESPIJT_TWILIO_ACCOUNT_SID": env.get("RESPIJT_TWILIO_ACCOUNT_SID", ""),
        "RESPIJT_TWILIO_AUTH_TOKEN": env.get("RESPIJT_TWILIO_AUTH_TOKEN", ""),
        "RESPIJT_TWILIO_FROM": env.get("RESPIJT_TWILIO_FROM", ""),
        "RESPIJT_TWILIO_BASE_URL": (
            env.get("RESPIJT_TWILIO_BASE_URL") or "https://api.twilio.com"
        ).rstrip("/"),
        "RESPIJT_TWILIO_TIMEOUT_SECONDS": _float(env, "RESPIJT_TWILIO_TIMEOUT_SECONDS", 10.0),
        # Web pages: per-gemeente texts (costs, complaints) and where feedback is kept.
        "RESPIJT_MUNICIPALITY_TEXTS": env.get("RESPIJT_MUNICIPALITY_TEXTS")
        or os.path.join(instance_path, "municipality_texts.json"),
        "RESPIJT_FEEDBACK_FILE": env.get("RESPIJT_FEEDBACK_FILE")
        or os.path.join(instance_path, "feedback.jsonl"),
        **account_settings_from_env(env),
    }


def account_settings_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Accounts, sessions, e-mail, rate limits and retention (docs/security.md)."""
    return {
        # Off only for local development over plain http: drops Secure and the __Host- prefix.
        "RESPIJT_COOKIE_SECURE": _bool(env, "RESPIJT_COOKIE_SECURE", True),
        "RESPIJT_SESSION_IDLE_MINUTES": _int(env, "RESPIJT_SESSION_IDLE_MINUTES", 30),
        "RESPIJT_SESSION_ABSOLUTE_HOURS": _int(env, "RESPIJT_SESSION_ABSOLUTE_HOURS", 12),
        "RESPIJT_INVITATION_HOURS": _int(env, "RESPIJT_INVITATION_HOURS", 72),
        "RESPIJT_PASSWORD_RESET_MINUTES": _int(env, "RESPIJT_PASSWORD_RESET_MINUTES", 60),
        "RESPIJT_MAIL_BACKEND": env.get("RESPIJT_MAIL_BACKEND", "console"),
        "RESPIJT_MAIL_FROM": env.get("RESPIJT_MAIL_FROM", "respijt@localhost"),
        "RESPIJT_SMTP_HOST": env.get("RESPIJT_SMTP_HOST", "127.0.0.1"),
        "RESPIJT_SMTP_PORT": _int(env, "RESPIJT_SMTP_PORT", 587),
        "RESPIJT_SMTP_USERNAME": env.get("RESPIJT_SMTP_USERNAME", ""),
        "RESPIJT_SMTP_PASSWORD": env.get("RESPIJT_SMTP_PASSWORD", ""),
        "RESPIJT_SMTP_STARTTLS": _bool(env, "RESPIJT_SMTP_STARTTLS", True),
        # memory:// is per process; use redis://127.0.0.1:6379 with several workers.
        "RATELIMIT_STORAGE_URI": env.get("RESPIJT_RATELIMIT_STORAGE_URI", "memory://"),
        # Abuse limits (docs/security.md): public writes per client address (per form) and
        # per target mobile (every form that sends an SMS together), in Flask-Limiter's
        # notation; failed sign-ins wait a growing delay per account and per address, never
        # a lockout; a half-signed-in session ends after this many wrong codes.
        "RESPIJT_PUBLIC_LIMIT_PER_ADDRESS": _limit(
            env, "RESPIJT_PUBLIC_LIMIT_PER_ADDRESS", "10 per hour"
        ),
        "RESPIJT_PUBLIC_LIMIT_PER_MOBILE": _limit(
            env, "RESPIJT_PUBLIC_LIMIT_PER_MOBILE", "5 per day"
        ),
        "RESPIJT_LOGIN_FREE_FAILURES": _int(env, "RESPIJT_LOGIN_FREE_FAILURES", 3),
        "RESPIJT_LOGIN_DELAY_BASE_SECONDS": _float(env, "RESPIJT_LOGIN_DELAY_BASE_SECONDS", 2),
        "RESPIJT_LOGIN_DELAY_MAX_SECONDS": _float(env, "RESPIJT_LOGIN_DELAY_MAX_SECONDS", 300),
        "RESPIJT_SECOND_FACTOR_MAX_FAILURES": _int(env, "RESPIJT_SECOND_FACTOR_MAX_FAILURES", 5),
        "RESPIJT_ACCESS_LOG_YEARS": _int(env, "RESPIJT_ACCESS_LOG_YEARS", 5),
        "RESPIJT_RETENTION_DAYS": _int(env, "RESPIJT_RETENTION_DAYS", 365),
        # Benchmark-only no-work routes (bench/); never on in production.
        "RESPIJT_BENCH_ROUTES": _bool(env, "RESPIJT_BENCH_ROUTES", False),
    }


API_VERSION = "1.0.0"
