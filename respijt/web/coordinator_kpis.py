"""The coordinator's key figures: the KPI page (every figure in Dutch words with a chart made
on the server, `web.charts`), its CSV files, and the neutrality page per region and month.

The KPI figures are aggregates with small cells suppressed by the domain, as in the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, formatting
from respijt.claims import kpi_labels, kpis, neutrality
from respijt.claims.kpis import SERIES_FIELDS
from respijt.claims.months import Month
from respijt.errors import InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import Municipality, Provider
from respijt.people.caller import (
    ensure_visible_filters,
    in_visible_regions,
    provider_in_visible_regions,
    visible_regions,
)
from respijt.serving.callers import read_only
from respijt.serving.downloads import csv_response
from respijt.serving.input_limits import parse_id
from respijt.web import blp, charts, kpi_sections
from respijt.web.coordinator import _caller, _regions
from respijt.web.forms import parse_date
from respijt.web.security import login_required


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
    """A monthly figure as the page writes it: '2.263', '38%', '15,5'; the CSV has its own."""
    value = row[name]
    if value is None:
        return "<5" if name in row["suppressed"] else "–"
    if isinstance(value, float):
        if name in kpi_sections.SHARE_FIELDS:
            return formatting.percent(value)
        return formatting.number(value, 1)
    if isinstance(value, int):
        return formatting.number(value)
    return str(value)


@blp.route("/coordinator/cijfers")
@login_required("coordinator")
@read_only
def coordinator_kpis() -> ResponseReturnValue:
    f, args, errors = _kpi_filter()
    now = clock.now()
    figures = kpis.kpi_figures(db.session, f, now=now, stale_after_hours=_stale_after())
    series = kpis.monthly_series(db.session, f)
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
    names = {code: name for code, name in municipalities}
    report_month = str(Month.of(Month.of(clock.today()).first - timedelta(days=1)))
    hidden = set(figures["suppression"]["cells"])
    return render_template(
        "coordinator/kpis.html",
        figures=figures,
        series_sections=kpi_sections.series_sections(series),
        sections=kpi_sections.figure_sections(figures, names),
        satisfaction=kpi_sections.satisfaction_section(figures.get("satisfaction"), hidden),
        rows=kpi_sections.all_rows(figures, names),
        series=series,
        series_fields=SERIES_FIELDS,
        series_labels=kpi_labels.SERIES_LABELS,
        header=kpi_labels.KPI_HEADER,
        cell=_series_cell,
        month_label=kpi_sections.month_label,
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
    series = kpis.monthly_series(db.session, f)
    period = f"{args['van']}_{args['tot']}"
    return csv_response(*kpi_labels.series_csv(series, period, kpi_labels.series_csv_cell))


# --- neutrality per region and month ---------------------------------------------------------


def _times(value: int | None, suppressed: bool) -> str:
    if value is None:
        return "minder dan 5 keer" if suppressed else "geen enkele keer"
    return f"{value} keer"


def _compare(share: float | None, free: float | None, name: str) -> str:
    if share is None or free is None:
        return ""
    if share - free > 0.1:
        return (
            f"{name} bood dus vaker een eigen bed aan dan past bij zijn deel van de vrije bedden."
        )
    if free - share > 0.1:
        return f"{name} bood dus minder vaak een eigen bed aan dan zijn deel van de vrije bedden."
    return f"Dat past ongeveer bij het deel van de vrije bedden van {name}."


def neutrality_words(row: dict[str, Any], month: str, hidden: set[str]) -> list[str]:
    """What one duty provider did with its own beds in the month, in plain sentences."""
    name, pid = row["provider"]["name"], row["provider"]["id"]
    path = f"providers.{pid}"
    pct = charts.percent
    diensten = "dienst" if row["shifts"] == 1 else "diensten"
    free = pct(row["own_free_share"])
    lines = [
        f"{name} had {row['shifts']} {diensten} in {month} en had toen {free} van de vrije "
        "bedden in de regio."
    ]
    if row["shown"]:
        lines.append(
            f"Het meldpunt zag in die diensten {row['shown']} passende bedden; "
            f"{row['own_shown']} daarvan waren eigen bedden ({pct(row['own_shown_share'])})."
        )
    else:
        lines.append("Het meldpunt zag in die diensten geen passende bedden.")
    if row["offered"] == 0:
        lines.append(f"{name} bood in die diensten geen bed aan als meldpunt.")
        return lines
    lines.append(
        f"{name} bood {_times(row['own_offered'], f'{path}.own_offered' in hidden)} een eigen "
        f"bed aan; dat is {pct(row['own_offered_share'], f'{path}.own_offered_share' in hidden)} "
        f"van alle aanbiedingen, terwijl het {free} van de vrije bedden had."
    )
    if row["chosen"] != 0:
        lines.append(
            f"De aanvrager koos {_times(row['own_chosen'], f'{path}.own_chosen' in hidden)} een "
            f"eigen bed ({pct(row['own_chosen_share'], f'{path}.own_chosen_share' in hidden)}); "
            f"bevestigd werd {_times(row['own_confirmed'], f'{path}.own_confirmed' in hidden)} "
            f"een eigen bed "
            f"({pct(row['own_confirmed_share'], f'{path}.own_confirmed_share' in hidden)})."
        )
    verdict = _compare(row["own_offered_share"], row["own_free_share"], name)
    return [*lines, verdict] if verdict else lines


def neutrality_chart(row: dict[str, Any], hidden: set[str]) -> Any:
    name, path = row["provider"]["name"], f"providers.{row['provider']['id']}"
    items = [
        ("Deel van de vrije bedden", "own_free_share", "open"),
        ("Eigen bedden bij de getoonde bedden", "own_shown_share", "dots"),
        ("Eigen bedden bij de aanbiedingen", "own_offered_share", "hatch"),
        ("Eigen bedden bij wat de aanvrager koos", "own_chosen_share", "solid"),
        ("Eigen bedden bij de bevestigde verblijven", "own_confirmed_share", "solid"),
    ]
    bars = [
        charts.Bar(label, row[key], charts.percent(row[key], f"{path}.{key}" in hidden), pattern)
        for label, key, pattern in items
    ]
    return charts.bar_chart(
        f"Eigen bedden van {name} tegenover zijn deel van de vrije bedden",
        "Aandelen in procenten; een volle balk is 100%. De bovenste balk is het deel van de "
        "vrije bedden, de andere het aandeel eigen bedden.",
        bars,
        maximum=1.0,
    )


@blp.route("/coordinator/neutraliteit")
@login_required("coordinator")
@read_only
def coordinator_neutrality() -> ResponseReturnValue:
    regions = _regions(_caller())
    code = (request.args.get("regio") or "").strip().upper()
    errors: dict[str, str] = {}
    region = next((r for r in regions if r.code.upper() == code), None)
    if code and region is None:
        errors["regio"] = f"Regio '{code}' bestaat niet of is niet een van uw regio's."
    region = region or (regions[0] if regions else None)
    month = Month.of(clock.today())
    text = (request.args.get("maand") or "").strip()
    if text:
        try:
            month = Month.parse(text, "maand")
        except InvalidInput:
            errors["maand"] = "Geef een maand als JJJJ-MM, bijvoorbeeld 2026-12."
    figures = neutrality.neutrality_month(db.session, region.id, month) if region else None
    hidden = set(figures["suppressed"]) if figures else set()
    month_words = formatting.month_long(month.first)
    providers = [
        {
            "row": row,
            "words": neutrality_words(row, month_words, hidden),
            "chart": neutrality_chart(row, hidden),
        }
        for row in (figures["providers"] if figures else [])
    ]
    status = 404 if "regio" in errors else 422 if errors else 200
    return render_template(
        "coordinator/neutrality.html",
        regions=regions,
        region=region,
        month=month,
        month_words=month_words,
        figures=figures,
        providers=providers,
        hidden=hidden,
        percent=charts.percent,
        errors=errors,
    ), status
