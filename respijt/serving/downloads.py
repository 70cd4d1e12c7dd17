"""A file the browser saves: the CSV answer both faces give (claims, leegstand, key figures)."""

from __future__ import annotations

from flask import Response


def csv_response(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
