"""Open availability data (docs/open-data.md): free beds per gemeente, target group and night for
the coming four weeks, as JSON or CSV, anonymous, cacheable with an ETag. Joins the registry
blueprint (the public reads)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from typing import Any

import orjson
from flask import Response, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from respijt import clock, edge
from respijt.api.registry import begin_read, blp
from respijt.api.schemas import StrictSchema
from respijt.beds import open_data
from respijt.claims.formats import table_csv
from respijt.extensions import db
from respijt.serving.callers import read_only
from respijt.serving.downloads import csv_response

# Answers may be cached this long by browsers and proxies; the ETag makes a re-check cheap.
MAX_AGE_SECONDS = 300


class OpenDataQuery(StrictSchema):
    municipality = fields.String(
        validate=validate.Regexp(
            r"^[Gg][Mm]\d{4}$", error="Geef de CBS-code van een gemeente, bijv. GM0503."
        ),
        metadata={"description": "alleen deze gemeente (CBS-code)"},
    )
    region = fields.String(
        validate=validate.Length(min=1, max=20, error="Geef een regiocode, bijv. H5."),
        metadata={"description": "alleen deze regio"},
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"], error="Kies json of csv."),
        metadata={"description": "json (standaard) of csv"},
    )


class FreeBedsRow(Schema):
    municipalityCode = fields.String(metadata={"description": "CBS-code van de gemeente"})
    municipalityName = fields.String()
    targetGroup = fields.String(metadata={"description": "doelgroepcode"})
    night = fields.Date(metadata={"description": "de nacht (die begint op deze dag)"})
    freeBeds = fields.Integer(metadata={"description": "vrije bedden die nacht"})
    units = fields.Integer(metadata={"description": "eenheden met deze doelgroep"})


class FreeBedsFeed(Schema):
    night_from = fields.Date(data_key="from")
    night_to = fields.Date(data_key="to", metadata={"description": "dag na de laatste nacht"})
    rows = fields.List(fields.Nested(FreeBedsRow))


OPEN_DATA_QUERY = OpenDataQuery()


def _conditional(response: Response) -> ResponseReturnValue:
    """An ETag from the body, 304 on a matching If-None-Match, public caching."""
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response.make_conditional(request)


# The national feed takes seconds to add up; an answer is kept this long per process and
# filter (the figures may so be this much older than the providers' last change).
CACHE_SECONDS = 60
_CACHE_LIMIT = 64
_cache: dict[tuple[Any, ...], tuple[float, bytes, str]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _answer(format: str, municipality: str | None, region: str | None) -> tuple[bytes, str]:
    """The feed as bytes and its file name (CSV) or "" (JSON), from the cache when fresh."""
    today = clock.today()
    key = (format, municipality, region, today)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    now = clock.now()

    def work() -> list[open_data.FeedRow]:
        begin_read()
        return open_data.free_beds_feed(
            db.session, today=today, now=now, municipality=municipality, region=region
        )

    rows = edge.transaction(work)
    if format == "csv":
        text = table_csv(open_data.CSV_HEADER, (row.as_cells() for row in rows))
        body, filename = text.encode("utf-8-sig"), f"vrije-logeerbedden-{today.isoformat()}.csv"
    else:
        body = orjson.dumps(
            {
                "from": today.isoformat(),
                "to": (today + timedelta(days=open_data.FEED_NIGHTS)).isoformat(),
                "rows": [row.as_dict() for row in rows],
            }
        )
        filename = ""
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = (time.monotonic() + CACHE_SECONDS, body, filename)
    return body, filename


@blp.route("/open-data/free-beds", methods=["GET"])
@blp.arguments(OPEN_DATA_QUERY, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, FreeBedsFeed)
@blp.alt_response(304, description="Niet gewijzigd sinds de ETag uit If-None-Match")
@read_only
def free_beds(format: str, **args: Any) -> ResponseReturnValue:
    """Open data: vrije bedden per gemeente, doelgroep en nacht, de komende vier weken."""
    municipality = (args.get("municipality") or "").upper() or None
    body, filename = _answer(format, municipality, args.get("region"))
    if format == "csv":
        response = csv_response("", filename)
        response.set_data(body)
    else:
        response = Response(body, mimetype="application/json")
    return _conditional(response)
