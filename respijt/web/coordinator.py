"""The coordinator's pages: the duty rota with its gaps, the access log per request, the KPIs,
the complaints and reactions from the public form.

A coordinator sees the rota and the access log of their own regions (`Caller.region_ids`);
the KPI figures are aggregates with small cells suppressed by the domain, as in the API.
Figures are server-rendered tables; the bars are CSS widths beside the number, never colour
alone. The CSV routes serve the same table for the signed-in session.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.care_requests import common
from respijt.claims import kpi_labels, kpis
from respijt.claims.kpis import SERIES_FIELDS, flatten
from respijt.claims.months import Month
from respijt.errors import NotFound
from respijt.extensions import db
from respijt.meldpunt import generation
from respijt.models import Municipality, Provider, Region
from respijt.people import feedback
from respijt.people.caller import (
    Caller,
    ensure_visible_filters,
    in_visible_regions,
    provider_in_visible_regions,
    visible_regions,
)
from respijt.privacy import access_log as privacy
from respijt.serving.callers import read_only
from respijt.serving.downloads import csv_response
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web.forms import parse_date
from respijt.web.security import current_principal, login_required

LOCAL = ZoneInfo("Europe/Amsterdam")
ROTA_DAYS = 14


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _regions(caller: Caller) -> list[Region]:
    query = (
        select(Region)
        .where(in_visible_regions(visible_regions(caller), Region.id))
        .order_by(Region.name)
    )
    return list(db.session.scalars(query))


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC)


@blp.route("/coordinator/rooster")
@login_required("coordinator")
@read_only
def coordinator_rota() -> ResponseReturnValue:
    caller = _caller()
    first = parse_date(request.args.get("van")) or clock.today()
    start, end = _local_start(first), _local_start(first + timedelta(days=ROTA_DAYS))
    rows = []
    for region in _regions(caller):
        shifts = generation.shifts_between(db.session, region.id, start, end)
        gaps = generation.find_gaps(db.session, region.id, start, end)
        rows.append({"region": region, "shifts": shifts, "gaps": gaps})
    return render_template(
        "coordinator/rota.html",
        rows=rows,
        first=first,
        last=first + timedelta(days=ROTA_DAYS - 1),
        providers={p.id: p.name for p in db.session.scalars(select(Provider))},
    )


@blp.route("/coordinator/inzage")
@login_required("coordinator")
def coordinator_access_log() -> ResponseReturnValue:
    caller = _caller()
    reference = (request.args.get("aanvraag") or "").strip()
    rows = None
    if reference:
        normalised = common.normalise_reference(reference)[:60]

        def work() -> Any:
            found = privacy.access_log_for(db.session, normalised, visible_regions(caller))
            # Reading who looked is itself an access to the request's log: recorded too.
            privacy.log_access(
                db.session,
                action="access_log.read",
                caller=caller,
                client_reference=normalised,
                outcome="success",
                purpose="toezicht",
                source=None,
                event="read",
            )
            return found

        rows = edge.transaction(work)
        reference = normalised
    return render_template("coordinator/access_log.html", reference=reference, rows=rows)


def _kpi_filter() -> tuple[kpis.KpiFilter, dict[str, Any], dict[str, str]]:
    """The period and filters from the query string, narrowed to the coordinator's regions; a
    filter outside them is dropped and its Dutch message returned per field."""
    today = clock.today()
    this_month = Month.of(today)
    default_from = this_month.first.replace(year=this_month.first.year - 1)
    night_from = parse_date(request.args.get("van")) or default_from
    night_to = parse_date(request.args.get("tot")) or this_month.end
    if night_to <= night_from or (night_to - night_from).days > 731:
        night_from, night_to = default_from, this_month.end
    municipality = (request.args.get("gemeente") or "").strip().upper() or None
    provider_text = (request.args.get("aanbieder") or "").strip()
    provider_id = parse_id(provider_text)
    regions = visible_regions(_caller())
    errors: dict[str, str] = {}
    try:
        ensure_visible_filters(db.session, regions, municipality=municipality)
    except NotFound as exc:
        errors["gemeente"], municipality = exc.detail, None
    try:
        ensure_visible_filters(db.session, regions, provider_id=provider_id)
    except NotFound as exc:
        errors["aanbieder"], provider_id = exc.detail, None
    args = {
        "van": night_from.isoformat(),
        "tot": night_to.isoformat(),
        "gemeente": municipality or "",
        "aanbieder": str(provider_id) if provider_id else "",
    }
    f = kpis.KpiFilter(night_from, night_to, municipality, provider_id, regions=regions)
    return f, args, errors


def _csv_filter() -> tuple[kpis.KpiFilter, dict[str, Any]]:
    """As `_kpi_filter()`, for a download: a filter outside one's regions is a 404."""
    f, args, errors = _kpi_filter()
    if errors:
        raise NotFound(" ".join(errors.values()))
    return f, args


def _stale_after() -> int:
    return int(current_app.config["RESPIJT_STALE_AFTER_HOURS"])


def _series_cell(row: dict[str, Any], name: str) -> str:
    value = row[name]
    if value is None:
        return "<5" if name in row["suppressed"] else "–"
    if isinstance(value, float):
        if name in ("placement_rate", "occupancy"):
            return f"{value * 100:.0f}%"
        return f"{value:.1f}".replace(".", ",")
    return str(value)


@blp.route("/coordinator/cijfers")
@login_required("coordinator")
@read_only
def coordinator_kpis() -> ResponseReturnValue:
    f, args, errors = _kpi_filter()
    now = clock.now()
    figures = kpis.kpi_figures(db.session, f, now=now, stale_after_hours=_stale_after())
    series = kpis.monthly_series(db.session, f, now=now, stale_after_hours=_stale_after())
    peak = max((row["requests"] or 0 for row in series), default=0) or 1
    municipalities = db.session.execute(
        select(Municipality.code, Municipality.name)
        .where(in_visible_regions(f.regions, Municipality.region_id))
        .order_by(Municipality.name)
    ).all()
    providers = db.session.execute(
        select(Provider.id, Provider.name)
        .where(provider_in_visible_regions(f.regions, Provider.id))
        .order_by(Provider.name)
    ).all()
    report_month = str(Month.of(Month.of(clock.today()).first - timedelta(days=1)))
    return render_template(
        "coordinator/kpis.html",
        figures=figures,
        rows=flatten(figures, decimal_comma=True),
        series=series,
        series_fields=SERIES_FIELDS,
        series_labels=kpi_labels.SERIES_LABELS,
        cell=_series_cell,
        peak=peak,
        args=args,
        municipalities=municipalities,
        providers=providers,
        report_month=report_month,
        rule=figures["suppression"]["rule"],
        errors=errors,
    ), (404 if errors else 200)


@blp.route("/coordinator/cijfers.csv")
@login_required("coordinator")
@read_only
def coordinator_kpis_csv() -> ResponseReturnValue:
    f, args = _csv_filter()
    figures = kpis.kpi_figures(db.session, f, now=clock.now(), stale_after_hours=_stale_after())
    period = f"{args['van']}_{args['tot']}"
    return csv_response(*kpi_labels.figures_csv(figures, period, decimal_comma=True))


@blp.route("/coordinator/cijfers-per-maand.csv")
@login_required("coordinator")
@read_only
def coordinator_kpi_months_csv() -> ResponseReturnValue:
    f, args = _csv_filter()
    series = kpis.monthly_series(db.session, f, now=clock.now(), stale_after_hours=_stale_after())
    period = f"{args['van']}_{args['tot']}"
    return csv_response(*kpi_labels.series_csv(series, period, _series_cell))


@blp.route("/coordinator/reacties")
@login_required("coordinator")
def coordinator_complaints() -> ResponseReturnValue:
    """Complaints and reactions from the public form in the coordinator's regions (all of
    them, also those without a region, for a coordinator of every region). The words may
    name someone: each reading is an access-log row."""
    caller = _caller()

    def work() -> Any:
        found = feedback.list_complaints(db.session, visible_regions(caller))
        privacy.log_access(
            db.session,
            action="complaint.read",
            caller=caller,
            client_reference="klachten",
            outcome="success",
            purpose="klachtbehandeling",
            source=None,
            event="read",
        )
        return found

    rows = edge.transaction(work)
    regions = {r.id: r.name for r in db.session.scalars(select(Region))}
    retention = int(current_app.config["RESPIJT_COMPLAINT_RETENTION_DAYS"])
    return render_template(
        "coordinator/complaints.html", rows=rows, regions=regions, retention_days=retention
    )
