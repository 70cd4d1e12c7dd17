"""Request ids on responses and log lines, redaction of token paths, logging set up once."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from flask.logging import default_handler

from respijt.serving import logs

HEX_ID = re.compile(r"[0-9a-f]{32}")


def test_every_response_carries_a_request_id_and_a_well_formed_one_is_kept(client):
    page, static, missing = client.get("/"), client.get("/static/app.css"), client.get("/x")
    api = client.get("/api/v1/bestaat-niet")
    ids = [r.headers["X-Request-ID"] for r in (page, static, missing, api)]
    static.close()
    assert all(HEX_ID.fullmatch(i) for i in ids) and len(set(ids)) == 4
    kept = client.get("/", headers={"X-Request-ID": "nginx-5f2a9c0e-01"})
    assert kept.headers["X-Request-ID"] == "nginx-5f2a9c0e-01"


@pytest.mark.parametrize(
    "incoming", ["kort", "a" * 129, "id met spaties", "id\u00e9-niet-ascii", "x;rm -rf /", ""]
)
def test_a_malformed_request_id_is_replaced(client, incoming):
    response = client.get("/", headers={"X-Request-ID": incoming})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_log_lines_written_during_a_request_name_its_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.formatter("json"))
    logger = logging.getLogger("respijt")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = client.post("/login", data={}, headers={"X-Request-ID": "proxy-abcdef012"})
        logging.getLogger("respijt.test").info("after the request")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    refused = [line for line in lines if line["logger"] == "respijt.web.security"]
    assert response.status_code == 400
    assert refused[0]["request_id"] == "proxy-abcdef012" and refused[0]["level"] == "INFO"
    assert lines[-1]["message"] == "after the request" and lines[-1]["request_id"] is None


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("/a/Zk3-x_9?x=1", "/a/<token>?x=*"),
        ("/rota/ical/abcDEF123.ics", "/rota/ical/<token>.ics"),
        ("/password/reset/tok.en", "/password/reset/<token>"),
        ("/invitation/tok", "/invitation/<token>"),
        (
            "/aanvragen?doelgroep=dementie&van=2026-12-01&rolstoel",
            "/aanvragen?doelgroep=*&van=*&rolstoel=*",
        ),
        ("/api/v1/access-log?client_reference=R-1", "/api/v1/access-log?client_reference=*"),
        ("http://host/a/tok", "http://host/a/<token>"),
        ("/beschikbaarheid", "/beschikbaarheid"),
        ("/aanbieder/a/b", "/aanbieder/a/b"),
    ],
)
def test_redact_target_hides_tokens_and_query_values(target, shown):
    assert logs.redact_target(target) == shown


def test_configure_logging_adds_one_handler_and_no_second_copy_of_flask(monkeypatch):
    root = logging.getLogger()
    respijt_logger = logging.getLogger("respijt")
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.setattr(respijt_logger, "handlers", [default_handler])
    monkeypatch.setattr(respijt_logger, "level", logging.NOTSET)
    logs.configure_logging("text")
    logs.configure_logging("json")  # `respijt serve` after gunicorn-style set-up: no-op
    assert len(root.handlers) == 1 and respijt_logger.handlers == []
    assert respijt_logger.getEffectiveLevel() == logging.INFO
    assert logging.getLogger("twilio.http_client").getEffectiveLevel() == logging.WARNING
