"""Logs an operator can use: a request id on every line and every response, respijt's own
INFO messages on stderr, text or JSON lines (RESPIJT_LOG_FORMAT), token paths redacted.

- `RequestIdMiddleware` wraps the WSGI app: it takes the proxy's `X-Request-ID` when it is
  well-formed (else draws one), keeps it in a context variable for the log lines written
  while the request runs, and sends it back on the response, where gunicorn's access log
  (respijt.serving.gunicorn_logger) reads it.
- `configure_logging` puts one handler on the root logger; `respijt serve`, `respijt
  scheduler` and gunicorn.conf.py call it. Third-party loggers stay at WARNING: some log
  request data (phone numbers, message bodies) at INFO.
- `redact_target` is what the access log shows of a request target: the secret part of a
  token path replaced by its rule, and query values dropped (search pages carry a target
  group, the access-log API a client reference).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

REQUEST_ID_HEADER = "X-Request-ID"
ENVIRON_KEY = "respijt.request_id"
# What a proxy's id may look like (nginx $request_id is 32 hex digits, a UUID 36 characters):
# nothing that could forge a log line or smuggle a long text into the log.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,128}")

current_request_id: ContextVar[str | None] = ContextVar("respijt_request_id", default=None)

# Paths whose last segment is a credential; the log shows the rule instead.
TOKEN_PATHS = (
    (re.compile(r"^/a/[^/]+"), "/a/<token>"),
    (re.compile(r"^/rota/ical/[^/]+\.ics$"), "/rota/ical/<token>.ics"),
    (re.compile(r"^/invitation/[^/]+"), "/invitation/<token>"),
    (re.compile(r"^/password/reset/[^/]+"), "/password/reset/<token>"),
)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def request_id_from(incoming: str | None) -> str:
    """The proxy's id when it is well-formed, else a new random one."""
    if incoming and _WELL_FORMED.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def redact_path(path: str) -> str:
    for pattern, rule in TOKEN_PATHS:
        if pattern.match(path):
            return pattern.sub(rule, path, count=1)
    return path


def redact_query(query: str) -> str:
    """Names only: `van=2026-12-01&doelgroep=x` → `van=*&doelgroep=*`."""
    if not query:
        return ""
    return "&".join(part.split("=", 1)[0] + "=*" for part in query.split("&") if part)


def redact_target(target: str) -> str:
    """A request target (path and query, or an absolute URL) as the access log shows it."""
    parts = urlsplit(target)
    prefix = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    query = redact_query(parts.query)
    return prefix + redact_path(parts.path) + (f"?{query}" if query else "")


class RequestIdMiddleware:
    """Outermost WSGI layer: every response, static files and errors included, carries the
    request id, and every log line written while the request runs names it."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = request_id
        token = current_request_id.set(request_id)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            # Flask has answered and torn down by now; a stale id must not label later lines.
            current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, request_id, message."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": current_request_id.get(),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str = "text") -> None:
    """One stderr handler on the root logger; respijt.* at INFO, everything else at WARNING.
    Calling it again (gunicorn master, then a CLI command) changes nothing."""
    root = logging.getLogger()
    if any(getattr(handler, "_respijt", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._respijt = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    respijt_logger = logging.getLogger("respijt")
    respijt_logger.setLevel(logging.INFO)
    # Flask adds its own handler to app.logger ("respijt") when nothing handles it yet;
    # with ours on the root every line would appear twice.
    from flask.logging import default_handler

    respijt_logger.removeHandler(default_handler)
