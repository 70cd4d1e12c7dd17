"""Settings: documented defaults, overridden by RESPIJT_* environment variables.

Every setting is declared once in SETTINGS with its type, default and the values it allows,
and read through marshmallow fields. An invalid value or an unknown RESPIJT_* name stops the
start with a ConfigError naming the setting, the value and what is allowed: a typing error
must never silently mean the default (`RESPIJT_COOKIE_SECURE=ja` is on, not off). Names under
RESERVED_PREFIXES belong to the test suite and the benchmarks, not the app.

Every name here is listed in docs/configuration.md (tests/operations/test_config.py keeps the two
in step).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from limits import parse_many
from marshmallow import ValidationError, fields, validate

API_VERSION = "1.0.0"

PREFIX = "RESPIJT_"
# Read by the test suite (RESPIJT_TEST_*) and bench/ (RESPIJT_BENCH_*), never by the app; the
# app's own RESPIJT_BENCH_ROUTES is declared below like every other setting.
RESERVED_PREFIXES = ("RESPIJT_TEST_", "RESPIJT_BENCH_")

TRUE_WORDS = ("on", "true", "yes", "ja", "1")
FALSE_WORDS = ("off", "false", "no", "nee", "0")


class ConfigError(Exception):
    """One or more settings are wrong; str() is the message for the operator (Dutch)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "respijt start niet: "
            + " ".join(problems)
            + " Alle instellingen staan in docs/configuration.md."
        )


@dataclass(frozen=True)
class Setting:
    """One RESPIJT_* variable: how its text is read, and its default when it is unset."""

    name: str
    field: fields.Field[Any]
    default: Any
    allowed: str  # what is allowed, in words for the error message
    group: str = "core"
    key: str | None = None  # the Flask config key, when it is not the name itself
    empty_is_default: bool = True  # False: an empty value means "none" (quiet hours, …)
    secret: bool = False  # never repeat the value in a message
    after: Callable[[Any], Any] | None = None

    @property
    def config_key(self) -> str:
        return self.key or self.name


def _whole(name: str, default: int, low: int, high: int, **kw: Any) -> Setting:
    return Setting(
        name,
        fields.Integer(validate=validate.Range(low, high)),
        default,
        f"een heel getal van {low} tot en met {high}",
        **kw,
    )


def _seconds(name: str, default: float, high: float, **kw: Any) -> Setting:
    return Setting(
        name,
        fields.Float(allow_nan=False, validate=validate.Range(0, high, min_inclusive=False)),
        default,
        f"een getal groter dan 0 en ten hoogste {high:g} (een punt voor decimalen)",
        **kw,
    )


def _switch(name: str, default: bool, **kw: Any) -> Setting:
    return Setting(
        name,
        fields.Boolean(truthy=set(TRUE_WORDS), falsy=set(FALSE_WORDS)),
        default,
        "aan: " + ", ".join(TRUE_WORDS) + "; uit: " + ", ".join(FALSE_WORDS),
        **kw,
    )


def _choice(name: str, default: str, choices: Iterable[str], **kw: Any) -> Setting:
    options = tuple(choices)
    return Setting(
        name,
        fields.String(validate=validate.OneOf(options)),
        default,
        "een van: " + ", ".join(options),
        **kw,
    )


def _text(name: str, default: str, allowed: str = "tekst", **kw: Any) -> Setting:
    return Setting(name, fields.String(), default, allowed, **kw)


def _url(name: str, default: str, **kw: Any) -> Setting:
    return Setting(
        name,
        fields.Url(schemes={"http", "https"}, require_tld=False),
        default,
        "een volledig adres dat begint met http:// of https://",
        after=lambda value: str(value).rstrip("/"),
        **kw,
    )


def _checked_text(
    name: str, default: str, allowed: str, check: Callable[[str], Any], **kw: Any
) -> Setting:
    """Text with a format the app parses later; parse it now so a typing error stops the start."""

    def validator(value: str) -> None:
        try:
            check(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    kw.setdefault("empty_is_default", False)
    return Setting(name, fields.String(validate=validator), default, allowed, **kw)


def _check_quiet_hours(value: str) -> None:
    from respijt.messages.quiet_hours import parse_quiet_hours

    parse_quiet_hours(value)


def _check_opening_hours(value: str) -> None:
    from respijt.meldpunt.phone import parse_opening_hours

    parse_opening_hours(value)


def _check_rota_pattern(value: str) -> None:
    from respijt.meldpunt.generation import parse_pattern

    parse_pattern(value)


def _check_holidays(value: str) -> None:
    from respijt.meldpunt.generation import holiday_dates

    holiday_dates(value, [2026])


def _check_limit(value: str) -> None:
    parse_many(value)  # ValueError when it is not Flask-Limiter's notation


def _check_storage_uri(value: str) -> None:
    if "://" not in value:
        raise ValueError("no scheme")


SETTINGS: tuple[Setting, ...] = (
    # Core.
    _text("RESPIJT_SECRET_KEY", "", "een lange willekeurige tekst", secret=True),
    _url("RESPIJT_PUBLIC_URL", "http://127.0.0.1:5000"),
    _text("RESPIJT_INSTANCE_PATH", "", "een map"),
    _whole("RESPIJT_SQLITE_BUSY_TIMEOUT_MS", 10000, 0, 600_000),
    _whole("RESPIJT_TX_RETRIES", 8, 0, 100),
    _switch("RESPIJT_RATELIMIT", True),
    # Behind a reverse proxy: how many proxies in front set X-Forwarded-For/-Proto/-Host.
    _whole("RESPIJT_TRUSTED_PROXIES", 0, 0, 5),
    # Bed registry.
    _whole("RESPIJT_HORIZON_DAYS", 400, 1, 3660),
    _whole("RESPIJT_STALE_AFTER_HOURS", 72, 1, 8760),
    _whole("RESPIJT_NEAR_MAX_KM", 30, 1, 300),
    _whole("RESPIJT_MAX_CAPACITY", 200, 1, 10_000),
    # Reservations and care requests.
    _whole("RESPIJT_HOLD_MINUTES", 15, 1, 1440),
    _whole("RESPIJT_PROVIDER_CONFIRM_HOURS", 24, 1, 720),
    _whole("RESPIJT_OFFER_HOURS", 24, 1, 720),
    _whole("RESPIJT_REQUEST_LINK_DAYS", 90, 1, 3660),
    _whole("RESPIJT_FAMILY_CANCEL_HOURS", 24, 0, 720),
    _whole("RESPIJT_SATISFACTION_REPLY_DAYS", 7, 1, 365),
    _whole("RESPIJT_DUTY_GRACE_MINUTES", 60, 0, 1440),
    _whole("RESPIJT_ALERT_SOON_DAYS", 3, 0, 60),
    # Meldpunt duty rota and phone routing (docs/meldpunt.md).
    _whole("RESPIJT_ROTA_HORIZON_DAYS", 56, 1, 366),
    _checked_text(
        "RESPIJT_ROTA_PATTERN",
        "weekly",
        "weekly, weekly@UU:MM, daily, daily@UU:MM of een lijst als 'ma 09:00, do 17:00'",
        _check_rota_pattern,
        empty_is_default=True,
    ),
    _checked_text(
        "RESPIJT_ROTA_HOLIDAYS",
        "",
        "leeg, of namen van feestdagen (Eerste kerstdag), bevrijdingsdag en datums (2026-12-24),"
        " gescheiden door komma's",
        _check_holidays,
    ),
    _switch("RESPIJT_ROTA_SWAP_APPROVAL", False),
    _seconds("RESPIJT_SCHEDULER_ROTA_REMIND_SECONDS", 300, 86_400),
    _checked_text(
        "RESPIJT_MELDPUNT_HOURS", "", "leeg, 24/7 of tijden als 08:00-22:00", _check_opening_hours
    ),
    _whole("RESPIJT_MELDPUNT_RING_SECONDS", 25, 5, 120),
    # Scheduler (docs/operations.md): lease, heartbeat = lease / 3, job intervals.
    _seconds("RESPIJT_SCHEDULER_LEASE_SECONDS", 30, 3600),
    _seconds("RESPIJT_SCHEDULER_DISPATCH_SECONDS", 5, 86_400),
    _seconds("RESPIJT_SCHEDULER_EXPIRE_SECONDS", 60, 86_400),
    _seconds("RESPIJT_SCHEDULER_WAITLIST_SECONDS", 60, 86_400),
    _seconds("RESPIJT_SCHEDULER_MONTH_FIGURES_SECONDS", 300, 86_400),
    _whole("RESPIJT_JOB_RUN_KEEP_DAYS", 14, 1, 3660),
    # Outbox: batches, then retries with exponential backoff and jitter, then `failed`.
    _whole("RESPIJT_OUTBOX_BATCH", 100, 1, 10_000),
    _whole("RESPIJT_OUTBOX_MAX_ATTEMPTS", 8, 1, 100),
    _seconds("RESPIJT_OUTBOX_RETRY_BASE_SECONDS", 60, 86_400),
    _seconds("RESPIJT_OUTBOX_RETRY_MAX_SECONDS", 3600, 7 * 86_400),
    _seconds("RESPIJT_OUTBOX_SENDING_TIMEOUT_SECONDS", 900, 86_400),
    # SMS and Twilio: credentials only from the environment.
    _choice("RESPIJT_SMS_BACKEND", "console", ("console", "twilio")),
    _checked_text(
        "RESPIJT_QUIET_HOURS", "21:00-08:00", "leeg of tijden als 21:00-08:00", _check_quiet_hours
    ),
    _text("RESPIJT_TWILIO_ACCOUNT_SID", "", "het account-SID (AC…)", empty_is_default=False),
    _text("RESPIJT_TWILIO_AUTH_TOKEN", "", "het auth-token", secret=True, empty_is_default=False),
    _text("RESPIJT_TWILIO_FROM", "", "een nummer als +316…", empty_is_default=False),
    _url("RESPIJT_TWILIO_BASE_URL", "https://api.twilio.com"),
    _seconds("RESPIJT_TWILIO_TIMEOUT_SECONDS", 10.0, 300),
    # Web pages: per-gemeente texts ("" = in the instance folder).
    _text("RESPIJT_MUNICIPALITY_TEXTS", "", "een bestandsnaam"),
    # Operations (docs/operations.md, docs/security.md): how long complaints from the public
    # form are kept, and the contact published in /.well-known/security.txt ("" = none given).
    _whole("RESPIJT_COMPLAINT_RETENTION_DAYS", 365, 1, 36_500),
    _text("RESPIJT_SECURITY_CONTACT", "", "een mailto:- of https://-adres"),
    # Accounts, sessions, e-mail, rate limits and retention (docs/security.md).
    # Off only for local development over plain http: drops Secure and the __Host- prefix.
    _switch("RESPIJT_COOKIE_SECURE", True, group="account"),
    _whole("RESPIJT_SESSION_IDLE_MINUTES", 30, 1, 1440, group="account"),
    _whole("RESPIJT_SESSION_ABSOLUTE_HOURS", 12, 1, 168, group="account"),
    _whole("RESPIJT_INVITATION_HOURS", 72, 1, 720, group="account"),
    _whole("RESPIJT_PASSWORD_RESET_MINUTES", 60, 1, 1440, group="account"),
    _choice("RESPIJT_MAIL_BACKEND", "console", ("console", "smtp"), group="account"),
    _text("RESPIJT_MAIL_FROM", "respijt@localhost", "een e-mailadres", group="account"),
    _text("RESPIJT_SMTP_HOST", "127.0.0.1", "een hostnaam of IP-adres", group="account"),
    _whole("RESPIJT_SMTP_PORT", 587, 1, 65535, group="account"),
    _text("RESPIJT_SMTP_USERNAME", "", "tekst", group="account", empty_is_default=False),
    _text(
        "RESPIJT_SMTP_PASSWORD", "", "tekst", group="account", secret=True, empty_is_default=False
    ),
    _switch("RESPIJT_SMTP_STARTTLS", True, group="account"),
    # memory:// is per process; use redis://127.0.0.1:6379 with several workers (Flask-Limiter
    # reads it under its own key).
    _checked_text(
        "RESPIJT_RATELIMIT_STORAGE_URI",
        "memory://",
        "een opslagadres als memory:// of redis://127.0.0.1:6379",
        _check_storage_uri,
        group="account",
        key="RATELIMIT_STORAGE_URI",
        empty_is_default=True,
    ),
    # Abuse limits (docs/security.md): public writes per client address (per form) and per
    # target mobile (every form that sends an SMS together), in Flask-Limiter's notation;
    # failed sign-ins wait a growing delay per account and per address, never a lockout; a
    # half-signed-in session ends after this many wrong codes.
    _checked_text(
        "RESPIJT_PUBLIC_LIMIT_PER_ADDRESS",
        "10 per hour",
        "een grens als '10 per hour' of '10 per hour;50 per day'",
        _check_limit,
        group="account",
        empty_is_default=True,
    ),
    _checked_text(
        "RESPIJT_PUBLIC_LIMIT_PER_MOBILE",
        "5 per day",
        "een grens als '5 per day'",
        _check_limit,
        group="account",
        empty_is_default=True,
    ),
    _checked_text(
        "RESPIJT_PUBLIC_LIMIT_PER_EMAIL",
        "5 per day",
        "een grens als '5 per day'",
        _check_limit,
        group="account",
        empty_is_default=True,
    ),
    _whole("RESPIJT_LOGIN_FREE_FAILURES", 3, 0, 100, group="account"),
    _seconds("RESPIJT_LOGIN_DELAY_BASE_SECONDS", 2, 3600, group="account"),
    _seconds("RESPIJT_LOGIN_DELAY_MAX_SECONDS", 300, 86_400, group="account"),
    # The account-wide key (every address together): many free failures and a short cap, so
    # an attack from elsewhere keeps the owner waiting at most this cap at a new address.
    _whole("RESPIJT_LOGIN_ACCOUNT_FREE_FAILURES", 20, 0, 1000, group="account"),
    _seconds("RESPIJT_LOGIN_ACCOUNT_DELAY_MAX_SECONDS", 30, 3600, group="account"),
    _whole("RESPIJT_SECOND_FACTOR_MAX_FAILURES", 5, 1, 100, group="account"),
    _whole("RESPIJT_ACCESS_LOG_YEARS", 5, 1, 100, group="account"),
    _whole("RESPIJT_RETENTION_DAYS", 365, 1, 36_500, group="account"),
    # Logs (docs/operations.md): plain text lines or JSON lines, for the app and the access log.
    _choice("RESPIJT_LOG_FORMAT", "text", ("text", "json")),
    # Benchmark-only no-work routes (bench/); never on in production.
    _switch("RESPIJT_BENCH_ROUTES", False, group="account"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def _shown(setting_name: str, raw: str, secret: bool) -> str:
    if secret or any(word in setting_name for word in ("KEY", "TOKEN", "PASSWORD", "SECRET")):
        return "(niet getoond)"
    return repr(raw)


def _read(setting: Setting, raw: str | None) -> Any:
    if raw is None or (setting.empty_is_default and raw.strip() == ""):
        return setting.default
    text = raw.strip()
    if isinstance(setting.field, fields.Boolean):
        text = text.lower()
    value = setting.field.deserialize(text)
    return setting.after(value) if setting.after else value


def unknown_names(env: Mapping[str, str]) -> list[str]:
    return sorted(
        name
        for name in env
        if name.startswith(PREFIX)
        and name not in BY_NAME
        and not name.startswith(RESERVED_PREFIXES)
    )


def read_settings(env: Mapping[str, str], group: str | None = None) -> dict[str, Any]:
    """Every setting of `group` (all when None) under its config key; raises ConfigError."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if group is not None and setting.group != group:
            continue
        raw = env.get(setting.name)
        try:
            values[setting.config_key] = _read(setting, raw)
        except ValidationError:
            problems.append(
                f"{setting.name}={_shown(setting.name, raw or '', setting.secret)} is ongeldig;"
                f" toegestaan is {setting.allowed}."
            )
    if group is None:
        for name in unknown_names(env):
            close = difflib.get_close_matches(name, BY_NAME, n=1)
            hint = f" Bedoelt u {close[0]}?" if close else ""
            problems.append(
                # Never the value: an unknown name may carry anything (a database URL with
                # its password), and nothing says which words would mark it secret.
                f"{name}=(niet getoond) is geen instelling van respijt.{hint}"
                f" Namen die met {' of '.join(p + '…' for p in RESERVED_PREFIXES)} beginnen"
                " zijn voor de tests en benchmarks."
            )
    if problems:
        raise ConfigError(problems)
    return values


def check_environment(env: Mapping[str, str]) -> None:
    """Raise ConfigError when any RESPIJT_* variable is invalid or unknown (gunicorn.conf.py)."""
    read_settings(env)


def settings_from_env(env: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the Flask config mapping from the environment; raises ConfigError."""
    values = read_settings(env)
    database_url = (
        env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'respijt.db')}"
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    secret_key = values.pop("RESPIJT_SECRET_KEY")
    values.pop("RESPIJT_INSTANCE_PATH")
    return {
        **values,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Without a configured key create_app reads the instance key file (instance_secret_key).
        "SECRET_KEY": secret_key or None,
        "RESPIJT_SECRET_KEY_CONFIGURED": bool(secret_key),
        "RESPIJT_MUNICIPALITY_TEXTS": values["RESPIJT_MUNICIPALITY_TEXTS"]
        or os.path.join(instance_path, "municipality_texts.json"),
    }


def account_settings_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Accounts, sessions, e-mail, rate limits and retention (docs/security.md)."""
    return read_settings(env, group="account")


# --- One key for every process -------------------------------------------------------------

SECRET_KEY_FILE = "secret_key"

MISSING_KEY = (
    "respijt start niet: RESPIJT_SECRET_KEY is niet ingesteld. {why} moet dezelfde sleutel"
    " gebruiken als elk ander respijt-proces (webworkers, scheduler, opdrachten), anders werken"
    " sessies en links in sms'jes niet. Zet in de omgeving van elk proces dezelfde lange"
    ' willekeurige waarde, bijvoorbeeld uit: python3 -c "import secrets;'
    ' print(secrets.token_hex(32))". Zie docs/configuration.md.'
)


def require_secret_key(env: Mapping[str, str], why: str) -> None:
    """A production process refuses to start without RESPIJT_SECRET_KEY (ConfigError)."""
    if not (env.get("RESPIJT_SECRET_KEY") or "").strip():
        raise ConfigError([MISSING_KEY.format(why=why).removeprefix("respijt start niet: ")])


def missing_secret_key(config: Mapping[str, Any], why: str) -> str | None:
    """The operator's message when a production process (`why`) runs without a shared
    RESPIJT_SECRET_KEY, as the app's settings say; None when the key is set."""
    if config.get("RESPIJT_SECRET_KEY_CONFIGURED"):
        return None
    return MISSING_KEY.format(why=why)


def instance_secret_key(instance_path: str) -> str:
    """The embedded default's key, shared by every process on this instance folder.

    Made once (0600) by whichever process needs it first; written to a temporary file and
    linked into place, so a process starting at the same moment never reads half a key.
    """
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    with open(path) as fh:
        key = fh.read().strip()
    if not key:
        raise ConfigError([f"{path} is leeg; verwijder het bestand of zet RESPIJT_SECRET_KEY."])
    return key


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: the embedded default's own machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def log_format_from_env(env: Mapping[str, str]) -> str:
    """RESPIJT_LOG_FORMAT alone: gunicorn needs it before any app exists. An invalid value
    reads as text here; check_environment stops the start with its name."""
    setting = BY_NAME["RESPIJT_LOG_FORMAT"]
    try:
        return str(_read(setting, env.get(setting.name)))
    except ValidationError:
        return str(setting.default)
