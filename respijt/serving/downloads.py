"""A file the browser saves: the CSV answer both faces give (claims, leegstand, key figures)."""

from __future__ import annotations

from flask import Response


def csv_response(text: str, filename: str) -> Response:
    """`text` as UTF-8 with a byte order mark, so a spreadsheet on a Dutch machine opens it as
    UTF-8 (é, ë) instead of Windows-1252. What the file holds is in `filename`: the file has no
    title row. `filename` is plain ASCII (letters, digits, '-', '_', '.')."""
    response = Response(text.encode("utf-8-sig"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
