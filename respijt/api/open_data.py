"""Open availability data (docs/open-data.md): free beds per gemeente, target group and night for
the coming four weeks, as JSON or CSV, anonymous, cacheable with an ETag. Joins the registry
blueprint (the public reads)."""

from __future__ import annotations

import hashlib
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


@blp.route("/open-data/free-beds", methods=["GET"])
@blp.arguments(OPEN_DATA_QUERY, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, FreeBedsFeed)
@read_only
def free_beds(format: str, **args: Any) -> ResponseReturnValue:
    """Open data: vrije bedden per gemeente, doelgroep en nacht, de komende vier weken."""
    today, now = clock.today(), clock.now()

    def work() -> list[open_data.FeedRow]:
        begin_read()
        return open_data.free_beds_feed(
            db.session,
            today=today,
            now=now,
            municipality=(args.get("municipality") or "").upper() or None,
            region=args.get("region"),
        )

    rows = edge.transaction(work)
    if format == "csv":
        text = table_csv(open_data.CSV_HEADER, (row.as_cells() for row in rows))
        response = csv_response(text, f"vrije-logeerbedden-{today.isoformat()}.csv")
    else:
        body = {
            "from": today.isoformat(),
            "to": (today + timedelta(days=open_data.FEED_NIGHTS)).isoformat(),
            "rows": [row.as_dict() for row in rows],
        }
        response = Response(orjson.dumps(body), mimetype="application/json")
    return _conditional(response)
