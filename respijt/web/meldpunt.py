"""The meldpunt's requests: the phone intake, the request page and its actions.

The console itself (`/meldpunt`), its voicemails and calls are in `web/meldpunt_console.py`.
The intake form follows the order in which people speak on the phone; the request page shows
the client's needs in words, the options (provider, confirmation, why it fits, this meldpunt's own
beds marked, units that declined last with their reason), the history of the offers and, once
placed, where and when; it holds an option with Enter and confirms it with the next Enter.

Who may see which request is decided by `care_requests.access.restrict_to_visible`: open
requests of a region where it is on duty (+ the grace period), or that it handled; what it may
do, by the workflow's WHO_MAY. Accepting an offer is `care_requests.answers.accept_offer`.
Every read and change of client data writes an access-log row in the same transaction
(NEN 7513), through the edge.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from respijt import clock, edge
from respijt.care_requests import access, answers, choices, common, summary
from respijt.care_requests import offers as request_offers
from respijt.care_requests.access_log import PURPOSE, log_request_access
from respijt.care_requests.option_facts import option_facts
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES, REQUEST_LABELS
from respijt.errors import DomainError, Forbidden, NotFound
from respijt.extensions import db
from respijt.meldpunt import duty, notices
from respijt.models import (
    CareRequest,
    Region,
    Reservation,
    RotaShift,
)
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from respijt.reservations import fast_hold, workflow
from respijt.reservations.workflow import HELD, RESERVATION_LABELS
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web.forms import URGENCY_CHOICES, ActionForm, OneOf, RequestForm, parse_date, required
from respijt.web.public import municipality_choices, regions_with_municipalities
from respijt.web.request_submission import submit_request
from respijt.web.security import current_principal, login_required

LOCAL = ZoneInfo("Europe/Amsterdam")


class IntakeForm(RequestForm):
    """The request form for a phone call: who calls first; consent is asked aloud."""

    requester = SelectField(
        "Wie belt?",
        choices={
            "mantelzorger": "Mantelzorger",
            "verwijzer": "Verwijzer (wijkteam, consulent, huisarts)",
            "meldpunt": "Anders (het meldpunt legt vast)",
        },
        default="mantelzorger",
        validators=[required(), OneOf(["mantelzorger", "verwijzer", "meldpunt"])],
        validate_choice=False,
    )
    urgency = SelectField(
        "Hoe snel?",
        choices=URGENCY_CHOICES,
        default="planned",
        validators=[required(), OneOf(URGENCY_CHOICES)],
        validate_choice=False,
    )
    contact_name = StringField(
        "Naam contactpersoon",
        validators=[required(), Length(max=80, message="Hooguit 80 tekens.")],
    )
    contact_mobile = StringField("Mobiel nummer contactpersoon", validators=[required()])


class NoteForm(ActionForm):
    region = StringField("Regio", validators=[required()])
    body = TextAreaField(
        "Overdrachtsnotitie (geen medische gegevens)",
        validators=[required(), Length(max=2000, message="Hooguit 2000 tekens.")],
    )


class HoldForm(ActionForm):
    unit_id = StringField(validators=[required()])
    arrival = StringField(validators=[required()])
    departure = StringField(validators=[required()])


def _stale_after() -> int:
    return int(current_app.config["RESPIJT_STALE_AFTER_HOURS"])


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _grace() -> timedelta:
    return timedelta(minutes=int(current_app.config["RESPIJT_DUTY_GRACE_MINUTES"]))


def duty_regions(caller: Caller, now: datetime) -> list[dict[str, Any]]:
    """The regions where this meldpunt is on duty now (or within the grace), with until when."""
    assert caller.provider_id is not None
    ids = db.session.scalars(duty.on_duty_region_ids(caller.provider_id, now)).all()
    out = []
    for region in db.session.scalars(
        select(Region).where(Region.id.in_(set(ids))).order_by(Region.name)
    ):
        shift = db.session.scalars(
            select(RotaShift)
            .where(
                RotaShift.region_id == region.id,
                RotaShift.provider_id == caller.provider_id,
                RotaShift.status == "active",
                RotaShift.starts_at <= now,
            )
            .order_by(RotaShift.ends_at.desc())
            .limit(1)
        ).first()
        until = duty.duty_until(db.session, shift) if shift is not None else None
        out.append({"region": region, "until": until, "grace": until is not None and until <= now})
    return out


def _log_reservation(caller: Caller, reservation: Reservation, action: str) -> None:
    reference = db.session.scalar(
        select(CareRequest.reference).where(CareRequest.id == reservation.request_id)
    )
    privacy.log_access(
        db.session,
        action=action,
        caller=caller,
        client_reference=reference or fast_hold.own_reference(reservation.id),
        outcome="success",
        purpose=PURPOSE,
        source=None,
        region_id=reservation.unit.location.municipality.region_id,
    )


def _logged(caller: Caller, reference: str, action: str, work: Any) -> Any:
    """Run `work`; a refusal is logged in its own transaction (one row per access)."""

    def log_refusal(outcome: str) -> None:
        log_request_access(
            db.session,
            action=action,
            caller=caller,
            reference=common.normalise_reference(reference),
            outcome=outcome,
        )

    return edge.transaction_logging_refusal(work, log_refusal)


def _local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC)


@blp.route("/meldpunt/aanvraag", methods=["GET", "POST"])
@login_required("meldpunt")
def meldpunt_intake() -> ResponseReturnValue:
    caller = _caller()
    form = IntakeForm()
    form.municipality.choices = municipality_choices(
        regions_with_municipalities(), "Kies een gemeente…"
    )
    other_problems: list[str] = []
    if form.validate_on_submit():
        reference, other_problems = submit_request(form, caller=caller, channel="phone")
        if reference is not None:
            flash(f"Aanvraag {reference} is opgenomen.", "info")
            return redirect(url_for("web.meldpunt_request", reference=reference), code=303)
    status = 422 if request.method == "POST" else 200
    return (
        render_template("meldpunt/intake.html", form=form, other_problems=other_problems),
        status,
    )


def request_page_context(found: CareRequest, caller: Caller, now: datetime) -> dict[str, Any]:
    """What the request page shows, read in the caller's transaction (the options shown are
    recorded by `matches_for`)."""
    matches = request_offers.matches_for(
        db.session,
        found,
        caller=caller,
        now=now,
        today=clock.today(),
        stale_after_hours=_stale_after(),
        limit=request_offers.OPTIONS_SHOWN,
    )
    return {
        "care_request": found,
        "matches": matches,
        "offers": request_offers.offers_of(db.session, found),
        "needs": summary.needs_in_words(found),
        "fit": summary.fit_words(found),
        "history": summary.offer_history(db.session, found),
        "placements": summary.placements(db.session, found),
        "facts": option_facts(db.session, found, matches),
        "family_choice": choices.family_choice(db.session, found),
    }


def render_request_page(context: dict[str, Any], caller: Caller) -> str:
    held = [o for o in context["offers"] if o.status == HELD]
    return render_template(
        "meldpunt/request.html",
        **context,
        held=held,
        own_provider_id=caller.provider_id,
        labels=REQUEST_LABELS,
        reservation_labels=RESERVATION_LABELS,
        action_form=ActionForm(),
    )


@blp.route("/meldpunt/aanvragen/<reference>")
@login_required("meldpunt")
def meldpunt_request(reference: str) -> ResponseReturnValue:
    caller = _caller()
    now = clock.now()

    def work() -> dict[str, Any]:
        found = access.get_request(db.session, caller, reference, now)
        log_request_access(
            db.session, action="read", caller=caller, reference=found.reference, outcome="granted"
        )
        return request_page_context(found, caller, now)

    try:
        context = _logged(caller, reference, "read", work)
    except NotFound:
        abort(404)
    return render_request_page(context, caller)


@blp.route("/meldpunt/aanvragen/<reference>/vasthouden", methods=["POST"])
@login_required("meldpunt")
def meldpunt_hold(reference: str) -> ResponseReturnValue:
    caller = _caller()
    form = HoldForm()
    arrival, departure = parse_date(form.arrival.data), parse_date(form.departure.data)
    unit_id = parse_id(str(form.unit_id.data or ""))  # ASCII digits, at most ID_MAX
    if not form.validate_on_submit() or arrival is None or departure is None or unit_id is None:
        flash("Kies een passende plek uit de lijst.", "fout")
        return redirect(url_for("web.meldpunt_request", reference=reference), code=303)
    config = current_app.config

    def work() -> None:
        now = clock.now()
        found = access.get_request(db.session, caller, reference, now)
        workflow.ensure_may(caller.role, workflow.RESERVATION_HOLD)
        reservation, _ = request_offers.offer_bed(
            db.session,
            found,
            unit_id=unit_id,
            arrival=arrival,
            departure=departure,
            caller=caller,
            now=now,
            today=clock.today(),
            hold_minutes=config["RESPIJT_OFFER_HOURS"] * 60,
            provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
        )
        _log_reservation(caller, reservation, "reservation.create")

    return _act(caller, reference, "change", work, "De plek wordt vastgehouden.")


@blp.route(
    "/meldpunt/aanvragen/<reference>/aanbod/<int:reservation_id>/bevestigen", methods=["POST"]
)
@login_required("meldpunt")
def meldpunt_confirm(reference: str, reservation_id: int) -> ResponseReturnValue:
    caller = _caller()
    hours = current_app.config["RESPIJT_PROVIDER_CONFIRM_HOURS"]

    def work() -> bool:
        found = access.get_request(db.session, caller, reference, clock.now())
        reservation = answers.accept_offer(
            db.session,
            found,
            reservation_id,
            caller=caller,
            now=clock.now(),
            provider_confirm_hours=hours,
        )
        _log_reservation(caller, reservation, "reservation.confirm")
        return found.status in OPEN_REQUEST_STATUSES

    return _act(caller, reference, "change", work, "De reservering is bevestigd.")


def _act(caller: Caller, reference: str, action: str, work: Any, done: str) -> ResponseReturnValue:
    """Run one change of a request; back to its page, or to the console when `work` answers
    False: the request was placed and left this meldpunt's view (need to know)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        still_visible = _logged(caller, reference, action, work)
    except NotFound:
        abort(404)
    except Forbidden as exc:
        flash(exc.detail, "fout")
        return redirect(url_for("web.meldpunt_console"), code=303)
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        if still_visible is False:
            flash(
                f"{done} Aanvraag {reference} is geplaatst en staat niet meer in uw lijst.", "info"
            )
            return redirect(url_for("web.meldpunt_console"), code=303)
        flash(done, "info")
    return redirect(url_for("web.meldpunt_request", reference=reference), code=303)


@blp.route("/meldpunt/overdracht", methods=["POST"])
@login_required("meldpunt")
def meldpunt_note() -> ResponseReturnValue:
    caller = _caller()
    assert caller.provider_id is not None
    provider_id = caller.provider_id
    form = NoteForm()
    if not form.validate_on_submit():
        flash("Schrijf een notitie en kies de regio.", "fout")
        return redirect(url_for("web.meldpunt_console"), code=303)

    def work() -> None:
        region = db.session.scalar(select(Region).where(Region.code == form.region.data))
        if region is None:
            raise NotFound("Onbekende regio.")
        notices.add_handover_note(
            db.session,
            region_id=region.id,
            provider_id=provider_id,
            body=form.body.data,
            now=clock.now(),
            grace=_grace(),
        )

    try:
        edge.transaction(work)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.detail, "fout")
    else:
        flash("De overdrachtsnotitie is opgeslagen.", "info")
    return redirect(url_for("web.meldpunt_console"), code=303)
