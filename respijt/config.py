"""Settings: documented defaults, overridden by RESPIJT_* environment variables.

Every name here is listed in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


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
        "RESPIJT_MAX_RANGE_NIGHTS": _int(env, "RESPIJT_MAX_RANGE_NIGHTS", 366),
        "RESPIJT_HOLD_MINUTES": _int(env, "RESPIJT_HOLD_MINUTES", 15),
        "RESPIJT_PROVIDER_CONFIRM_HOURS": _int(env, "RESPIJT_PROVIDER_CONFIRM_HOURS", 24),
        "RESPIJT_SQLITE_BUSY_TIMEOUT_MS": _int(env, "RESPIJT_SQLITE_BUSY_TIMEOUT_MS", 10000),
        "RESPIJT_TX_RETRIES": _int(env, "RESPIJT_TX_RETRIES", 8),
        "RESPIJT_RATELIMIT": _bool(env, "RESPIJT_RATELIMIT", True),
        "RESPIJT_SMS_BACKEND": env.get("RESPIJT_SMS_BACKEND", "console"),
        "RESPIJT_QUIET_HOURS": env.get("RESPIJT_QUIET_HOURS", "21:00-08:00"),
        "RESPIJT_DUTY_GRACE_MINUTES": _int(env, "RESPIJT_DUTY_GRACE_MINUTES", 60),
        # Benchmark-only no-work routes (bench/); never on in production.
        "RESPIJT_BENCH_ROUTES": _bool(env, "RESPIJT_BENCH_ROUTES", False),
    }


API_VERSION = "1.0.0"
