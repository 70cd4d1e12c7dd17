"""The provider portal: own locations and units, capacity per month, pending reservations.

Ownership is decided in the query (`Location.provider_id == caller.provider_id`): another
provider's unit or reservation answers 404 as if it did not exist. Every read and change of a
reservation (client data) writes an access-log row, as the API does.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import and_, or_, select

from respijt import clock, edge, formatting
from respijt.beds import capacity, registry
from respijt.care_requests import access
from respijt.care_requests.access_log import PURPOSE, reservation_reference
from respijt.codes import CARE_LEVELS, DATE_MAX, DATE_MIN, LANGUAGES, TARGET_GROUPS
from respijt.errors import CapacityBelowReserved, DomainError, InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import (
    AvailabilityChange,
    CareRequest,
    Location,
    Reservation,
    Unit,
)
from respijt.people.caller import Caller
from respijt.privacy.access_log import log_access
from respijt.reservations import steps, workflow
from respijt.reservations.workflow import (
    AWAITING_PROVIDER,
    CHECKED_IN,
    CONFIRMED,
    RESERVATION_LABELS,
)
from respijt.web import blp
from respijt.web.capacity_forms import CapacityForm, WeekForm
from respijt.web.forms import ActionForm
from respijt.web.security import current_principal, login_required

UPCOMING_DAYS = 7
OVERDUE_DAYS = 30


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _log(caller: Caller, reservation: Reservation | int, action: str, outcome: str) -> None:
    reservation_id = reservation if isinstance(reservation, int) else reservation.id
    region_id = (
        None if isinstance(reservation, int) else reservation.unit.location.municipality.region_id
    )
    log_access(
        db.session,
        action=action,
        caller=caller,
        client_reference=reservation_reference(db.session, reservation_id),
        outcome=outcome,
        purpose=PURPOSE,
        source=request.remote_addr,
        region_id=region_id,
    )


def _not_found() -> ResponseReturnValue:
    return render_template("web/not_found.html"), 404


def own_locations(caller: Caller) -> list[Location]:
    return registry.provider_locations(db.session, caller.provider_id)


def own_unit(caller: Caller, unit_id: int) -> Unit:
    return registry.provider_unit(db.session, caller.provider_id, unit_id)


def _own_reservations(caller: Caller, *conditions: Any) -> list[Reservation]:
    return list(
        db.session.scalars(
            select(Reservation)
            .join(Unit, Unit.id == Reservation.unit_id)
            .join(Location, Location.id == Unit.location_id)
            .where(Location.provider_id == caller.provider_id, *conditions)
            .order_by(Reservation.arrival, Reservation.id)
        )
    )


def _client_names(reservations: list[Reservation]) -> dict[int, str]:
    ids = {r.request_id for r in reservations if r.request_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(CareRequest.id, CareRequest.client_name, CareRequest.birth_year).where(
            CareRequest.id.in_(ids)
        )
    )
    return {row[0]: f"{row[1]} ({row[2]})" for row in rows}


def client_needs(reservations: list[Reservation]) -> dict[int, list[str]]:
    """What each stay asks of the provider before it confirms, in Dutch words: care level,
    wheelchair, language and target group of the care request (nothing else about the client)."""
    ids = {r.request_id for r in reservations if r.request_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            CareRequest.id,
            CareRequest.care_level,
            CareRequest.wheelchair,
            CareRequest.language,
            CareRequest.target_group,
        ).where(CareRequest.id.in_(ids))
    )
    needs: dict[int, list[str]] = {}
    for request_id, care_level, wheelchair, language, target_group in rows:
        needs[request_id] = [
            f"Zorg: {CARE_LEVELS.get(care_level, care_level).lower()}",
            "Rolstoel: ja" if wheelchair else "Rolstoel: nee",
            f"Taal: {LANGUAGES.get(language, language)}" if language else "Taal: niet opgegeven",
            f"Doelgroep: {TARGET_GROUPS.get(target_group, target_group).lower()}",
        ]
    return needs


@blp.route("/aanbieder")
@login_required("provider")
def provider_home() -> ResponseReturnValue:
    caller = _caller()
    today = clock.today()
    until = today + timedelta(days=UPCOMING_DAYS)

    def work() -> dict[str, Any]:
        locations = own_locations(caller)
        pending = _own_reservations(caller, Reservation.status == AWAITING_PROVIDER)
        # Arrivals and departures of the coming days, and the stays of the last OVERDUE_DAYS
        # whose check-in or check-out is overdue (older ones: the reservations list).
        overdue_from = today - timedelta(days=OVERDUE_DAYS)
        moving = _own_reservations(
            caller,
            Reservation.status.in_((CONFIRMED, CHECKED_IN)),
            or_(
                and_(Reservation.arrival >= today, Reservation.arrival < until),
                and_(Reservation.departure >= today, Reservation.departure < until),
                and_(
                    Reservation.status == CONFIRMED,
                    Reservation.arrival < today,
                    Reservation.departure >= overdue_from,
                ),
                and_(
                    Reservation.status == CHECKED_IN,
                    Reservation.departure < today,
                    Reservation.departure >= overdue_from,
                ),
            ),
        )
        arrivals = [
            r for r in moving if r.arrival < until and (r.arrival >= today or r.status == CONFIRMED)
        ]
        departures = sorted(
            (
                r
                for r in moving
                if r.departure < until and (r.departure >= today or r.status == CHECKED_IN)
            ),
            key=lambda r: r.departure,
        )
        shown = {r.id: r for r in [*pending, *moving]}
        for reservation in shown.values():
            _log(caller, reservation, "reservation.list", "success")
        return {
            "locations": locations,
            "pending": pending,
            "arrivals": arrivals,
            "departures": departures,
            "names": _client_names(list(shown.values())),
            "needs": client_needs(pending),
            "unit_names": {r.id: f"{r.unit.location.name}, {r.unit.name}" for r in shown.values()},
        }

    context = edge.transaction(work)
    return render_template(
        "web/provider_home.html",
        **context,
        action_form=ActionForm(),
        labels=RESERVATION_LABELS,
        stale_after_hours=int(current_app.config["RESPIJT_STALE_AFTER_HOURS"]),
        now=clock.now(),
        today=today,
        until=until,
        attendance=steps.attendance_steps,
    )


def _month(value: str | None, today: date) -> date:
    """The first day of the month asked for (JJJJ-MM), this month if none or beyond the limits."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        return today.replace(day=1)
    return first if DATE_MIN <= first <= DATE_MAX.replace(day=1) else today.replace(day=1)


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_grid(unit: Unit, first: date, today: date) -> list[list[dict[str, Any] | None]]:
    """Weeks (Monday first) of the month; each night with its capacity and reserved beds."""
    days = monthrange(first.year, first.month)[1]
    last = first + timedelta(days=days)
    nights = capacity.nights_of(db.session, unit.id, first, last)
    weeks: list[list[dict[str, Any] | None]] = []
    week: list[dict[str, Any] | None] = [None] * first.weekday()
    for offset in range(days):
        night = first + timedelta(days=offset)
        row = nights.get(night)
        week.append(
            {
                "night": night,
                "capacity": row.capacity if row else None,
                "reserved": row.reserved if row else 0,
                "past": night < today,
            }
        )
        if len(week) == 7:
            weeks.append(week)
            week = []
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return weeks


def _changes(unit: Unit) -> list[AvailabilityChange]:
    return capacity.capacity_changes(db.session, unit.id, limit=50)


def _unit_page(
    unit: Unit, form: CapacityForm, status: int = 200, problems: list[str] | None = None
) -> ResponseReturnValue:
    today = clock.today()
    first = _month(request.values.get("maand"), today)
    return render_template(
        "web/provider_unit.html",
        unit=unit,
        form=form,
        week_form=WeekForm(),
        action_form=ActionForm(),
        other_problems=problems or [],
        first=first,
        month_value=f"{first:%Y-%m}",
        previous_month=f"{_shift_month(first, -1):%Y-%m}",
        next_month=f"{_shift_month(first, 1):%Y-%m}",
        weeks=_month_grid(unit, first, today),
        changes=_changes(unit),
        max_capacity=int(current_app.config["RESPIJT_MAX_CAPACITY"]),
        month_label=formatting.month_long(first),
        today_value=today,
        timedelta=timedelta,
    ), status


@blp.route("/aanbieder/eenheden/<int:unit_id>")
@login_required("provider")
def provider_unit(unit_id: int) -> ResponseReturnValue:
    try:
        unit = own_unit(_caller(), unit_id)
    except NotFound:
        return _not_found()
    return _unit_page(unit, CapacityForm())


def _publish(unit: Unit, ranges: list[capacity.CapacityRange]) -> None:
    caller = _caller()
    config = current_app.config

    def work() -> None:
        fresh = own_unit(caller, unit.id)
        capacity.publish_capacity(
            db.session,
            fresh,
            ranges,
            actor=caller.key,
            channel="web",
            now=clock.now(),
            today=clock.today(),
            horizon_days=int(config["RESPIJT_HORIZON_DAYS"]),
            max_capacity=int(config["RESPIJT_MAX_CAPACITY"]),
        )

    edge.transaction(work)


def _place_capacity_errors(
    form: CapacityForm, rows: list[int], ranges: list[capacity.CapacityRange], exc: DomainError
) -> list[str]:
    """Domain problems beside the range they concern; the rest above the form."""
    if isinstance(exc, CapacityBelowReserved):
        unplaced = []
        for index, r in zip(rows, ranges, strict=True):
            if any(r.night_from <= night < r.night_to for night in exc.nights):
                form.ranges[index].capacity.errors = [exc.detail]
                break
        else:
            unplaced.append(exc.detail)
        return unplaced
    params = exc.params if isinstance(exc, InvalidInput) else []
    unplaced = [] if params else [exc.detail]
    fields = {"from": "night_from", "to": "night_to", "capacity": "capacity"}
    for param in params:
        name = param["name"]
        if name.startswith("ranges[") and "]." in name:
            position, field = name[len("ranges[") :].split("].", 1)
            entry = form.ranges[rows[int(position)]]
            target = getattr(entry, fields.get(field, "capacity"))
            target.errors = [*target.errors, param["reason"]]
        else:
            unplaced.append(param["reason"])
    return unplaced


@blp.route("/aanbieder/eenheden/<int:unit_id>/capaciteit", methods=["POST"])
@login_required("provider")
def provider_capacity(unit_id: int) -> ResponseReturnValue:
    try:
        unit = own_unit(_caller(), unit_id)
    except NotFound:
        return _not_found()
    form = CapacityForm()
    if not form.validate_on_submit():
        return _unit_page(unit, form, 422)
    rows, ranges = form.filled_ranges()
    if not ranges:
        return _unit_page(unit, form, 422, ["Vul ten minste één periode in."])
    try:
        _publish(unit, ranges)
    except DomainError as exc:
        db.session.rollback()
        unit = own_unit(_caller(), unit_id)
        return _unit_page(unit, form, 422, _place_capacity_errors(form, rows, ranges, exc))
    flash("De capaciteit is opgeslagen.", "info")
    return redirect(
        url_for("web.provider_unit", unit_id=unit_id, maand=request.form.get("maand")), code=303
    )


@blp.route("/aanbieder/eenheden/<int:unit_id>/week", methods=["POST"])
@login_required("provider")
def provider_week(unit_id: int) -> ResponseReturnValue:
    """'Hele week': one capacity for every night of a week, from today on."""
    try:
        unit = own_unit(_caller(), unit_id)
    except NotFound:
        return _not_found()
    form = WeekForm()
    monday = form.monday_date()
    if not form.validate_on_submit() or monday is None:
        flash(form.first_error() or "Kies een week.", "fout")
        return redirect(url_for("web.provider_unit", unit_id=unit_id, maand=form.maand.data))
    start = max(monday, clock.today())
    end = monday + timedelta(days=7)
    if start >= end:
        flash("Deze week is al voorbij.", "fout")
    else:
        beds = int(form.capacity.data)
        try:
            _publish(unit, [capacity.CapacityRange(start, end, beds)])
        except DomainError as exc:
            db.session.rollback()
            reasons = [p["reason"] for p in exc.params] if isinstance(exc, InvalidInput) else []
            flash(" ".join(reasons) or exc.detail, "fout")
        else:
            flash(f"De hele week staat nu op {formatting.counted(beds, 'bed', 'bedden')}.", "info")
    return redirect(
        url_for("web.provider_unit", unit_id=unit_id, maand=form.maand.data or None), code=303
    )


@blp.route("/aanbieder/locaties/<int:location_id>/bevestigen", methods=["POST"])
@login_required("provider")
def provider_confirm_location(location_id: int) -> ResponseReturnValue:
    """'Niets gewijzigd': the figures of this location are fresh as of now."""
    caller = _caller()
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("web.provider_home"))

    def work() -> str | None:
        location = db.session.scalar(
            select(Location).where(
                Location.id == location_id, Location.provider_id == caller.provider_id
            )
        )
        if location is None:
            return None
        registry.confirm_location(db.session, location, clock.now())
        return location.name

    name = edge.transaction(work)
    if name is None:
        return _not_found()
    flash(f"Bevestigd: de beschikbaarheid van {name} klopt nog.", "info")
    return redirect(back_target(), code=303)


def back_target() -> str:
    """Where a portal button returns to: the page it was pressed on (form field "terug"), if that
    is a page of the portal, else the portal's start page."""
    target = request.form.get("terug") or ""
    if target.startswith("/aanbieder") and "//" not in target and "\\" not in target:
        return target
    return url_for("web.provider_home")


def reservation_step(reservation_id: int, action: str, step: Any, done: str) -> ResponseReturnValue:
    """Take one step on an own reservation through the domain (`step(caller, reservation)`,
    which may return the message to show), with its access-log row, and return to the page
    the button was on with `done` (or the step's message) or the domain's Dutch refusal."""
    caller = _caller()
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(back_target())

    def work() -> str | None:
        reservation = access.get_reservation(db.session, caller, reservation_id, clock.now())
        message: str | None = step(caller, reservation)
        _log(caller, reservation, action, "success")
        return message

    try:
        message = edge.transaction_logging_refusal(
            work, lambda outcome: _log(caller, reservation_id, action, outcome)
        )
    except NotFound:
        return _not_found()
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        flash(message or done, "info")
    return redirect(back_target(), code=303)


@blp.route("/aanbieder/reserveringen/<int:reservation_id>/bevestigen", methods=["POST"])
@login_required("provider")
def provider_confirm_reservation(reservation_id: int) -> ResponseReturnValue:
    def step(caller: Caller, reservation: Reservation) -> None:
        workflow.ensure_may(caller.role, workflow.RESERVATION_ANSWER)
        steps.confirm_by_provider(db.session, reservation, caller=caller, now=clock.now())

    return reservation_step(
        reservation_id, "reservation.confirm", step, "De reservering is bevestigd."
    )


@blp.route("/aanbieder/reserveringen/<int:reservation_id>/afwijzen", methods=["POST"])
@login_required("provider")
def provider_decline_reservation(reservation_id: int) -> ResponseReturnValue:
    def step(caller: Caller, reservation: Reservation) -> None:
        workflow.ensure_may(caller.role, workflow.RESERVATION_ANSWER)
        reason = (request.form.get("reden") or "").strip()[:300] or None
        steps.decline_by_provider(
            db.session, reservation, caller=caller, now=clock.now(), reason=reason
        )

    return reservation_step(
        reservation_id,
        "reservation.decline",
        step,
        "De reservering is afgewezen; de nachten zijn weer vrij.",
    )
