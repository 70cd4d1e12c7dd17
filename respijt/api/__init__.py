"""The HTTP API under /api/v1: blueprints, problem+json errors, API-Version header."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, render_template, request
from flask_smorest import Api
from flask_smorest.spec.plugins import integerconverter2paramschema
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from respijt import clock, database
from respijt.api import (
    dutch,  # noqa: F401 - Dutch marshmallow messages before any schema
    security,
)
from respijt.api.openapi import RespijtApi, spec_options
from respijt.config import API_VERSION
from respijt.errors import DomainError, exception_summary
from respijt.extensions import db
from respijt.serving.callers import current_caller
from respijt.serving.input_limits import IdConverter
from respijt.serving.problems import domain_problem, invalid_params_from_messages, problem

log = logging.getLogger(__name__)

# Retry-After on a 503: the database server is away (a restart takes seconds to a minute), or
# a write conflict persisted after the retries (worth trying again at once).
RETRY_AFTER_UNREACHABLE_SECONDS = 30
RETRY_AFTER_CONFLICT_SECONDS = 1
# Paths whose errors are problem+json for machines; every other path is a page for people.
MACHINE_PREFIXES = ("/api/", "/twilio/", "/health", "/.well-known/")
OUTAGE = database.OutageLog(log, "verzoeken krijgen 503 met Retry-After")


def _rollback_quietly() -> None:
    """Roll the request's session back; on a dead connection that can fail too, and the
    answer must still be the 503, not an error raised from the error handler."""
    try:
        db.session.rollback()
    except DBAPIError:
        log.debug("rollback on a dead connection failed", exc_info=True)


def unavailable(retry_after: int) -> Response | tuple[str, int, dict[str, str]]:
    """503 with Retry-After: problem+json for the API, webhooks and /health; a Dutch page
    (which reads nothing from the database) for every other path."""
    headers = {"Retry-After": str(retry_after)}
    if request.path.startswith(MACHINE_PREFIXES):
        response = problem(503)
        response.headers.update(headers)
        return response
    return render_template("unavailable.html", status=503), 503, headers


def register_api(app: Flask) -> Api:
    # The unit routes (api/units.py) join the registry blueprint and the rota routes (api/rota.py)
    # the meldpunt one: importing them adds their routes before the blueprints are registered.
    from respijt.api import access_log, open_data, registry, reservations, rota, units  # noqa: F401

    api = RespijtApi(app, spec_kwargs=spec_options())
    api.register_converter(IdConverter, integerconverter2paramschema)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "API-token"}
    )
    api.register_blueprint(registry.blp, url_prefix="/api/v1")
    api.register_blueprint(reservations.blp, url_prefix="/api/v1")
    from respijt.api import request_choices  # noqa: F401 - joins the requests blueprint
    from respijt.api import requests as care_requests_api

    api.register_blueprint(care_requests_api.blp, url_prefix="/api/v1")
    from respijt.api import claims as claims_api
    from respijt.api import reports as reports_api

    api.register_blueprint(claims_api.blp, url_prefix="/api/v1")
    api.register_blueprint(reports_api.blp, url_prefix="/api/v1")
    from respijt.api import messages

    api.register_blueprint(messages.blp, url_prefix="/api/v1")
    from respijt.api import meldpunt

    api.register_blueprint(meldpunt.blp, url_prefix="/api/v1")
    api.spec.components.security_scheme(
        "requestLink",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-Request-Token",
            "description": "Ondertekende link uit de sms van de aanvrager",
        },
    )
    api.register_blueprint(access_log.blp, url_prefix="/api/v1")
    app.extensions["respijt_api"] = api
    from respijt.serving.cors import init_cors

    init_cors(app)
    if app.config.get("RESPIJT_BENCH_ROUTES"):
        from respijt.api import bench

        bench.register(app)

    @app.route("/health")
    def health() -> tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]:
        """Public: up or down (the database answers). Admin token: scheduler and outbox too."""
        try:
            db.session.execute(text("SELECT 1"))
        except DBAPIError as exc:
            _rollback_quietly()
            if not database.is_unreachable(exc):
                log.error("health check: database error: %s", exception_summary(exc))
            OUTAGE.failed(exc)
            retry = {"Retry-After": str(RETRY_AFTER_UNREACHABLE_SECONDS)}
            return {"status": "down", "database": "unreachable"}, 503, retry
        OUTAGE.answered()
        if not _caller_is_admin():
            return {"status": "ok", "database": "ok"}, 200
        from respijt.scheduler.status import health_details

        return {"status": "ok", "database": "ok", **health_details(db.session, clock.now())}, 200

    health._respijt_read_only = True  # type: ignore[attr-defined]
    _register_hooks(app)
    _register_error_handlers(app)
    return api


def _caller_is_admin() -> bool:
    """Only an admin token sees health details; anything else gets the public answer."""
    if not request.headers.get("Authorization"):
        return False
    try:
        return current_caller().role == "admin"
    except DomainError:
        return False


BODY_METHODS = ("POST", "PUT", "PATCH")


def refuse_other_content_types() -> Response | None:
    """415 for an API body that is not JSON (NLGov /core/media-types); an empty body passes,
    for the actions whose body is optional."""
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return None
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if not has_body:
        return None
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return None
    return problem(415, code="unsupported_media_type")


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def choose_transaction_mode() -> None:
        view = app.view_functions.get(request.endpoint or "")
        read_only = bool(view is not None and getattr(view, "_respijt_read_only", False))
        read_only = read_only or request.endpoint in {"static", "api-docs.openapi_json"}
        request.environ["respijt.read_only_token"] = database.set_read_only(read_only)

    app.before_request(security.authorize_endpoint)
    app.before_request(refuse_other_content_types)

    @app.teardown_request
    def reset_transaction_mode(exc: BaseException | None) -> None:
        token = request.environ.pop("respijt.read_only_token", None)
        if token is not None:
            database._read_only.reset(token)

    @app.after_request
    def add_api_version(response: Response) -> Response:
        response.headers["API-Version"] = API_VERSION
        return response


def _register_error_handlers(app: Flask) -> None:
    # Registered after Api(app) so these replace flask-smorest's English JSON errors.
    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException) -> Response:
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages")
        if messages is not None:
            if (
                isinstance(messages, dict)
                and "json" in messages
                and (
                    messages["json"] == ["Invalid JSON body."]
                    or messages["json"] == {"_schema": ["Invalid JSON body."]}
                )
            ):
                return problem(400, "De body is geen geldige JSON.", code="invalid_json")
            if status == 422:
                return problem(
                    422,
                    "Een of meer velden zijn ongeldig.",
                    code="invalid",
                    invalid_params=invalid_params_from_messages(messages),
                )
        response = problem(status)
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(DomainError)
    def handle_domain(exc: DomainError) -> Response:
        _rollback_quietly()
        response = domain_problem(exc)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="respijt"'
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(DBAPIError)
    def handle_db(exc: DBAPIError) -> Response | tuple[str, int, dict[str, str]]:
        _rollback_quietly()
        if database.is_unreachable(exc):
            OUTAGE.failed(exc)
            return unavailable(RETRY_AFTER_UNREACHABLE_SECONDS)
        if database.is_retryable(exc):
            log.warning(
                "transaction conflict persisted after retries on %s: %s",
                _where(),
                exception_summary(exc),
            )
            return unavailable(RETRY_AFTER_CONFLICT_SECONDS)
        log.error("database error on %s: %s", _where(), exception_summary(exc))
        return problem(500)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        _rollback_quietly()
        log.error("unhandled error on %s: %s", _where(), exception_summary(exc))
        return problem(500)


def _where() -> str:
    """The method and the route's rule, not the path: paths carry link tokens and references."""
    rule = request.url_rule.rule if request.url_rule is not None else "?"
    return f"{request.method} {rule}"
