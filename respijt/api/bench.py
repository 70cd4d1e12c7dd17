"""Benchmark-only routes (RESPIJT_BENCH_ROUTES=on): a floor for what the server itself costs.

`GET` and `POST /api/v1/_bench/noop` pass through the same WSGI server, app and request hooks as
every API route but do no work: no database, no parsing. bench/availability.py and
bench/holds.py compare the real endpoints with them. Never enable in production.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from respijt.serving.callers import read_only

blp = Blueprint("bench", __name__)


@blp.route("/_bench/noop", methods=["GET", "POST"])
@read_only
def noop() -> ResponseReturnValue:
    return jsonify({"ok": True})


def register(app: Flask) -> None:
    app.register_blueprint(blp, url_prefix="/api/v1")
