"""Reports: the leegstand register and the KPIs. Aggregates only, small cells suppressed."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields

from respijt import clock
from respijt.api import input_fields
from respijt.api import response_schemas as rs
from respijt.api.claims import FormatQuery, scope_provider
from respijt.api.schemas import _range_check
from respijt.api.security import requires
from respijt.claims import formats, kpi_labels, kpis, leegstand, months
from respijt.extensions import db
from respijt.people.caller import ensure_visible_filters, visible_regions
from respijt.serving.callers import current_caller, read_only
from respijt.serving.downloads import csv_response

blp = Blueprint("reports", __name__, description="Leegstand en kerncijfers voor gemeenten")


class LeegstandQuery(FormatQuery):
    month = fields.String(required=True, metadata={"description": "JJJJ-MM"})
    provider = input_fields.Id()
    municipality = fields.String(metadata={"description": "CBS-code van de locatie"})


class KpiQuery(FormatQuery):
    night_from = input_fields.Date(
        required=True, data_key="from", metadata={"description": "eerste dag"}
    )
    night_to = input_fields.Date(
        required=True, data_key="to", metadata={"description": "dag na de laatste"}
    )
    municipality = fields.String(metadata={"description": "CBS-code"})
    provider = input_fields.Id()

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        _range_check(data, max_nights=800)


@blp.route("/reports/leegstand", methods=["GET"])
@blp.arguments(LeegstandQuery, location="query", unknown=ma.RAISE)
@blp.response(200, rs.LeegstandSchema)
@blp.doc(**rs.with_csv())
@blp.doc(security=[{"bearer": []}])
@requires("provider", "coordinator", "admin")
@read_only
def get_leegstand(args: dict[str, Any]) -> ResponseReturnValue:
    """Leegstandregister: per eenheid de beschikbaar gestelde, gebruikte en vrijgehouden
    bednachten van een maand, en de bezettingsgraad. JSON of `?format=csv`."""
    caller = current_caller()
    month = months.Month.parse(args["month"])
    provider_id = scope_provider(caller, args.get("provider"))
    regions = visible_regions(caller)
    ensure_visible_filters(
        db.session, regions, municipality=args.get("municipality"), provider_id=provider_id
    )
    rows = leegstand.unit_occupancy(
        db.session,
        month.first,
        month.end,
        provider_id=provider_id,
        municipality_code=args.get("municipality"),
        regions=regions,
    )
    # Until the month is over, "kept free" still includes nights that may yet be reserved.
    complete = month.end <= clock.today()
    if args["format"] == "csv":
        comma = args["decimal"] == "comma"
        text = formats.table_csv(
            leegstand.REGISTER_HEADER,
            leegstand.register_rows(rows, str(month), complete=complete, decimal_comma=comma),
        )
        return csv_response(text, f"leegstandregister-{month}.csv")
    return jsonify(
        {
            "month": str(month),
            "provisional": not complete,
            "units": [r.as_dict() for r in rows],
            "total": leegstand.total_occupancy(rows),
        }
    )


def _kpi_filter(args: dict[str, Any]) -> kpis.KpiFilter:
    """The period and filters, narrowed to the caller's regions (404 for a filter outside)."""
    regions = visible_regions(current_caller())
    ensure_visible_filters(
        db.session, regions, municipality=args.get("municipality"), provider_id=args.get("provider")
    )
    return kpis.KpiFilter(
        night_from=args["night_from"],
        night_to=args["night_to"],
        municipality=args.get("municipality"),
        provider_id=args.get("provider"),
        regions=regions,
    )


def _counted_at() -> dict[str, Any]:
    """The moment and the stale-after hours the key figures are counted at."""
    return {
        "now": clock.now(),
        "stale_after_hours": current_app.config["RESPIJT_STALE_AFTER_HOURS"],
    }


def _period(args: dict[str, Any]) -> str:
    return f"{args['night_from'].isoformat()}_{args['night_to'].isoformat()}"


@blp.route("/reports/kpis/months", methods=["GET"])
@blp.arguments(KpiQuery, location="query", unknown=ma.RAISE)
@blp.response(200, rs.KpiMonthSchema(many=True))
@blp.doc(**rs.with_csv())
@blp.doc(security=[{"bearer": []}])
@requires("coordinator", "admin")
@read_only
def get_kpi_months(args: dict[str, Any]) -> ResponseReturnValue:
    """De kerncijfers per kalendermaand van de periode (voor grafieken); per maand onderdrukt."""
    rows = kpis.monthly_series(db.session, _kpi_filter(args))
    if args["format"] == "csv":
        comma = args["decimal"] == "comma"

        def cell(row: dict[str, Any], name: str) -> str:
            return kpi_labels.series_csv_cell(row, name, comma=comma)

        return csv_response(*kpi_labels.series_csv(rows, _period(args), cell))
    return jsonify(rows)


@blp.route("/reports/kpis", methods=["GET"])
@blp.arguments(KpiQuery, location="query", unknown=ma.RAISE)
@blp.response(200, rs.KpiFiguresSchema)
@blp.doc(**rs.with_csv())
@blp.doc(security=[{"bearer": []}])
@requires("coordinator", "admin")
@read_only
def get_kpis(args: dict[str, Any]) -> ResponseReturnValue:
    """Kerncijfers over een periode (halfopen), met filters op gemeente en aanbieder.
    Aantallen van 1–4 personen zijn `null` (in CSV: <5) en staan in `suppression.cells`. Een
    coördinator krijgt alleen de cijfers van de eigen regio's; een filter daarbuiten geeft 404."""
    figures = kpis.kpi_figures(db.session, _kpi_filter(args), **_counted_at())
    if args["format"] == "csv":
        comma = args["decimal"] == "comma"
        return csv_response(*kpi_labels.figures_csv(figures, _period(args), decimal_comma=comma))
    return jsonify(figures)
