"""respijt: respite-bed availability, the central meldpunt and reservations."""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask

from respijt.config import (
    API_VERSION,
    instance_secret_key,
    require_secret_key,
    settings_from_env,
)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _duty_grace_minutes() -> int | None:
    """The running app's meldpunt grace period in minutes, or None outside an app."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    return int(current_app.config["RESPIJT_DUTY_GRACE_MINUTES"])


def _alert_settings() -> tuple[int, str] | None:
    """The running app's "soon" (days before arrival) and public base URL, or None outside."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    config = current_app.config
    return int(config["RESPIJT_ALERT_SOON_DAYS"]), str(config["RESPIJT_PUBLIC_URL"])


def _status_link_settings() -> tuple[str, str] | None:
    """The running app's secret key and public base URL, or None outside an app."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    secret = current_app.secret_key
    return (str(secret) if secret else "", current_app.config["RESPIJT_PUBLIC_URL"])


def _scheduler_job_ids() -> list[str]:
    """The scheduler's job ids, for /metrics (read when scraped: the serving frame imports no
    face)."""
    from respijt.scheduler.jobs import JOBS

    return [spec.id for spec in JOBS]


def _read_scheduler_lease(session: Any) -> Any:
    """The scheduler's lease as /metrics reports it, or None when no scheduler ever ran."""
    from respijt.scheduler.lease import read_lease

    return read_lease(session)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
        instance_path=os.environ.get("RESPIJT_INSTANCE_PATH")
        or os.path.join(PROJECT_ROOT, "instance"),
    )
    app.config.update(
        API_TITLE="respijt",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=1024 * 1024,
        # No pool_pre_ping: database.ping_when_idle checks connections that sat unused.
        SQLALCHEMY_ENGINE_OPTIONS={},
    )
    app.config.update(settings_from_env(os.environ, app.instance_path))
    if test_config:
        app.config.update(test_config)
    if not app.config["RESPIJT_SECRET_KEY_CONFIGURED"]:
        if "gunicorn.arbiter" in sys.modules:
            # gunicorn.conf.py refuses earlier, with the same message, when gunicorn reads it.
            require_secret_key(os.environ, "gunicorn")
        # The embedded default: every process on this instance folder shares one key file.
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    # Whoever passes engine options (tests, bench), a failed statement's message and log line
    # never carry its bound values: they are client names, birth years and mobile numbers.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "hide_parameters": True,
    }
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # The embedded SQLite default lives in instance/, which a fresh clone does not have yet.
    os.makedirs(app.instance_path, exist_ok=True)

    from respijt.serving.input_limits import init_input_limits

    init_input_limits(app)  # before any route: bounded ids in URLs, hostile text refused
    from respijt import database
    from respijt.extensions import db, migrate

    database.configure_sqlite(app.config["RESPIJT_SQLITE_BUSY_TIMEOUT_MS"])
    from respijt.meldpunt import duty

    duty.configure_grace(_duty_grace_minutes)
    from respijt.care_requests import status_link

    status_link.configure(_status_link_settings)
    from respijt.care_requests import alerts

    alerts.configure(_alert_settings)
    db.init_app(app)
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        with app.app_context():
            for engine in db.engines.values():
                database.ping_when_idle(engine)
    migrate.init_app(
        app, db, directory=os.path.join(PROJECT_ROOT, "migrations"), render_as_batch=True
    )
    from respijt.api import register_api

    register_api(app)
    from respijt.api.twilio_sms import register_webhooks

    register_webhooks(app)
    from respijt.web.reports import bp as report_pages

    app.register_blueprint(report_pages)
    from respijt.api.twilio_voice import register_voice_webhooks

    register_voice_webhooks(app)
    from respijt.web.rota_feed import register_rota_feed

    register_rota_feed(app)
    from respijt.web import register_web

    register_web(app)  # keep last among routes: its rate limits wrap views registered above
    from whitenoise import WhiteNoise

    # Static files with their pre-compressed .gz siblings and cache headers.
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app, root=app.static_folder, prefix="static/", max_age=3600
    )
    hops = int(app.config.get("RESPIJT_TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address, scheme and host as the proxies in front saw them; without
        # trusted proxies X-Forwarded-* is ignored, as any client can send it.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=0, x_prefix=0
        )

    from respijt.serving.logs import RequestIdMiddleware
    from respijt.serving.metrics import SchedulerFacts, init_metrics

    # GET /metrics, and request counts around everything above.
    init_metrics(app, SchedulerFacts(_scheduler_job_ids, _read_scheduler_lease))

    # Outermost: static files and errors carry the request id too.
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]

    from respijt.cli import register_cli

    register_cli(app)
    return app
