"""Limits every input meets before a view sees it: ids, dates, text and JSON shape.

Hostile input (an id beyond the database column, a NUL byte PostgreSQL cannot store, a lone
surrogate no encoder accepts, JSON nested deeper than the parser's recursion, year 9999 plus a day)
must be refused with a 4xx, not end as a 500 deep in the database driver or in date arithmetic.
The API and the web pages share these limits; the API's marshmallow fields
(respijt/api/input_fields.py) and the request guard (`find_bad_text`, `json_depth`) use them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, Response, render_template, request
from werkzeug.routing import IntegerConverter, Map

# PostgreSQL's `integer`: every id and count column. SQLite's 64-bit range is wider.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
ID_MAX = INT_MAX

# Dates a client may send: DATE_MIN..DATE_MAX (codes.py).
DATE_RANGE_TEXT = "Kies een datum tussen 01-01-2000 en 31-12-2099."

# The deepest JSON body any endpoint takes is three levels; a little room above that.
MAX_JSON_DEPTH = 16

BAD_TEXT_REASON = "Deze tekst bevat een teken dat niet is toegestaan (NUL of een los surrogaat)."


def parse_id(text: str | None) -> int | None:
    """An id typed in a form or query string: ASCII digits up to ID_MAX, else None."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


def is_bad_text(value: str) -> bool:
    """A NUL byte (PostgreSQL text cannot hold it) or a lone UTF-16 surrogate (not encodable)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_bad_text(value: Any, name: str = "") -> Iterator[str]:
    """Names (dotted, with [i] for list items) of strings and keys in `value` that are bad text."""
    if isinstance(value, str):
        if is_bad_text(value):
            yield name or "body"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{name}.{key}" if name else str(key)
            if isinstance(key, str) and is_bad_text(key):
                yield name or "body"
                continue
            yield from find_bad_text(item, child)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from find_bad_text(item, f"{name}[{i}]")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets nest deeper than `limit`, counted outside strings, without parsing
    (Python's parser would hit its recursion limit first on 10,000 levels)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class IdConverter(IntegerConverter):
    """`<int:…>` in every URL: digits only, at most ID_MAX, so a larger id is a 404 rather
    than an integer the database driver cannot bind."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = ID_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


API_PREFIXES = ("/api/", "/health")


def _bad_request_input() -> tuple[int, str, list[str]]:
    """(status, Dutch reason, names at fault) for the request's raw input; status 0 if fine."""
    bad: list[str] = []
    if is_bad_text(request.path):
        bad.append("path")
    bad.extend(f"header.{key}" for key, value in request.headers.items() if "\x00" in value)
    bad.extend(find_bad_text(request.args.to_dict(flat=False)))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        bad.extend(find_bad_text(request.form.to_dict(flat=False)))
    if bad:
        return 422, BAD_TEXT_REASON, bad
    if request.is_json:
        raw = request.get_data(cache=True)
        # Cheap tests first: deep nesting needs many brackets, NUL and surrogates need "\u".
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth_exceeds(raw):
            return 400, f"De JSON is dieper genest dan {MAX_JSON_DEPTH} niveaus.", []
        if b"\\u" in raw:
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                return 0, "", []  # the schema's parser answers with its own 400
            bad.extend(find_bad_text(body))
            if bad:
                return 422, BAD_TEXT_REASON, bad
    return 0, "", []


def refuse_bad_input() -> Response | tuple[str, int] | None:
    """before_request: NUL bytes, lone surrogates and too deep JSON end here with a 4xx."""
    status, reason, names = _bad_request_input()
    if not status:
        return None
    if request.path.startswith(API_PREFIXES):
        from respijt.serving.problems import problem

        if status == 400:
            return problem(400, reason, code="invalid_json")
        params = [{"name": name, "code": "text", "reason": reason} for name in names]
        return problem(422, reason, code="invalid", invalid_params=params)
    return render_template(
        "message.html",
        title="Ongeldige invoer",
        text="Uw invoer bevat een teken dat wij niet kunnen verwerken. "
        "Haal het weg en probeer het opnieuw.",
        status=status,
    ), status


def init_input_limits(app: Flask) -> None:
    """Call right after making the app: the id converter must be in place before any route."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_bad_input)
