"""The verwijzer's page of one request: the client's needs, the fitting places with the reasons
(the meldpunt's rendering), hold one (or every stay of a series), accept or decline an offer on
behalf of the client, change the dates, cancel a stay or withdraw the request, and follow it.

Only the verwijzer's own requests (`care_requests.access.get_request`); anything else is 404.
Every read and change writes its access-log row in the same transaction, as the API does
(`care_request.read` / `care_request.change`, plus `reservation.*` for a reservation's step); a
refusal is logged afterwards in its own (`edge.transaction_logging_refusal`).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from respijt import clock, edge
from respijt.care_requests import access, answers, lifecycle, series
from respijt.care_requests import offers as request_offers
from respijt.care_requests.access_log import log_request_access, reference_as_logged
from respijt.care_requests.workflow import REQUEST_LABELS
from respijt.errors import DomainError, NotFound
from respijt.extensions import db
from respijt.models import CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from respijt.reservations import steps, workflow
from respijt.reservations.workflow import HELD, RESERVATION_LABELS
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web.format import long_date
from respijt.web.forms import ActionForm, parse_date, required
from respijt.web.meldpunt import request_page_context
from respijt.web.security import current_principal, login_required

PURPOSE = "zorgbemiddeling"


class HoldForm(ActionForm):
    unit_id = StringField(validators=[required()])
    arrival = StringField(validators=[required()])
    departure = StringField(validators=[required()])


class DatesForm(ActionForm):
    arrival = StringField("Nieuwe aankomst", validators=[required()])
    departure = StringField("Nieuw vertrek", validators=[required()])


class ReasonForm(ActionForm):
    reason = TextAreaField(
        "Reden (zonder medische gegevens)",
        validators=[Length(max=300, message="Hooguit 300 tekens.")],
    )


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _page(reference: str) -> str:
    return url_for("web.verwijzer_request", reference=reference)


def _logged(caller: Caller, reference: str, action: str, work: Any) -> Any:
    def log_refusal(outcome: str) -> None:
        log_request_access(
            db.session,
            action=action,
            caller=caller,
            reference=reference_as_logged(reference),
            outcome=outcome,
        )

    return edge.transaction_logging_refusal(work, log_refusal)


def _load(caller: Caller, reference: str, action: str) -> CareRequest:
    found = access.get_request(db.session, caller, reference, clock.now())
    log_request_access(
        db.session, action=action, caller=caller, reference=found.reference, outcome="granted"
    )
    return found


def _log_reservation(
    caller: Caller, care_request: CareRequest, reservation: Reservation, action: str
) -> None:
    """The reservation's own row, named as the API's reservation endpoint names it, besides
    the request's `care_request.change`."""
    privacy.log_access(
        db.session,
        action=action,
        caller=caller,
        client_reference=care_request.reference,
        outcome="success",
        purpose=PURPOSE,
        source=None,
        region_id=reservation.unit.location.municipality.region_id,
    )


def _context(caller: Caller, reference: str) -> dict[str, Any]:
    now = clock.now()
    found = _load(caller, reference, "read")
    context = request_page_context(found, caller, now)
    context["stays"] = list(found.stays) if found.is_series else []
    return context


def _render(context: dict[str, Any], status: int = 200, **forms: Any) -> ResponseReturnValue:
    offers = context["offers"]
    return render_template(
        "web/verwijzer_request.html",
        **context,
        held=[o for o in offers if o.status == HELD],
        labels=REQUEST_LABELS,
        reservation_labels=RESERVATION_LABELS,
        action_form=ActionForm(),
        dates_form=forms.get("dates_form") or DatesForm(formdata=None),
        dates_for=forms.get("dates_for"),
        reason_form=forms.get("reason_form") or ReasonForm(formdata=None),
        reason_for=forms.get("reason_for"),
        today=clock.today(),
    ), status


@blp.route("/verwijzer/aanvragen/<reference>")
@login_required("verwijzer")
def verwijzer_request(reference: str) -> ResponseReturnValue:
    caller = _caller()
    try:
        context = _logged(caller, reference, "read", lambda: _context(caller, reference))
    except NotFound:
        abort(404)
    return _render(context)


def _act(caller: Caller, reference: str, work: Any, done: str) -> ResponseReturnValue:
    """Run one change of the request and go back to its page with what happened."""
    try:
        _logged(caller, reference, "change", work)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        flash(done, "info")
    return redirect(_page(reference), code=303)


def _settings() -> dict[str, Any]:
    config = current_app.config
    return {
        "hold_minutes": config["RESPIJT_OFFER_HOURS"] * 60,
        "provider_confirm_hours": config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
    }


@blp.route("/verwijzer/aanvragen/<reference>/vasthouden", methods=["POST"])
@login_required("verwijzer")
def verwijzer_hold(reference: str) -> ResponseReturnValue:
    """Choose a fitting place: respijt holds it at once (`offers.offer_bed`)."""
    caller = _caller()
    form = HoldForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash("Kies een passende plek uit de lijst.", "fout")
        return redirect(_page(reference), code=303)
    arrival, departure = parse_date(form.arrival.data), parse_date(form.departure.data)
    unit_id = parse_id(str(form.unit_id.data or ""))
    if arrival is None or departure is None or unit_id is None:
        flash("Kies een passende plek uit de lijst.", "fout")
        return redirect(_page(reference), code=303)

    def work() -> None:
        now = clock.now()
        found = _load(caller, reference, "change")
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
            **_settings(),
        )
        _log_reservation(caller, found, reservation, "reservation.create")

    return _act(
        caller,
        reference,
        work,
        "De plek wordt vastgehouden. Neem het aanbod aan namens de cliënt, of laat de "
        "contactpersoon reageren.",
    )


@blp.route("/verwijzer/aanvragen/<reference>/reeks/vasthouden", methods=["POST"])
@login_required("verwijzer")
def verwijzer_hold_series(reference: str) -> ResponseReturnValue:
    """Hold a place for every open stay of a series, preferring one location."""
    caller = _caller()
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome: dict[str, int] = {}

    def work() -> None:
        found = _load(caller, reference, "change")
        workflow.ensure_may(caller.role, workflow.RESERVATION_HOLD)
        result = series.hold_series(
            db.session,
            found,
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            stale_after_hours=int(current_app.config["RESPIJT_STALE_AFTER_HOURS"]),
            **_settings(),
        )
        for reservation in result.held:
            _log_reservation(caller, found, reservation, "reservation.create")
        outcome.update(held=len(result.held), unplaced=len(result.unplaced))

    try:
        _logged(caller, reference, "change", work)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        text = f"{_stays(outcome['held'])} vastgehouden."
        if outcome["unplaced"]:
            text += f" Voor {_stays(outcome['unplaced'])} is nu geen plek."
        flash(text, "info")
    return redirect(_page(reference), code=303)


def _stays(count: int) -> str:
    return "1 verblijf" if count == 1 else f"{count} verblijven"


@blp.route(
    "/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/aannemen", methods=["POST"]
)
@login_required("verwijzer")
def verwijzer_accept(reference: str, reservation_id: int) -> ResponseReturnValue:
    """Accept an offer on behalf of the client (`answers.accept_offer`)."""
    caller = _caller()
    if not ActionForm().validate_on_submit():
        abort(400)

    def work() -> None:
        found = _load(caller, reference, "change")
        reservation = answers.accept_offer(
            db.session,
            found,
            reservation_id,
            caller=caller,
            now=clock.now(),
            provider_confirm_hours=current_app.config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
        )
        _log_reservation(caller, found, reservation, "reservation.confirm")

    return _act(caller, reference, work, "Het aanbod is aangenomen namens de cliënt.")


@blp.route("/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/afslaan", methods=["POST"])
@login_required("verwijzer")
def verwijzer_decline(reference: str, reservation_id: int) -> ResponseReturnValue:
    """Decline an offer: the bed is freed and the search goes on."""
    caller = _caller()
    if not ActionForm().validate_on_submit():
        abort(400)

    def work() -> None:
        found = _load(caller, reference, "change")
        reservation = answers.decline_offer(
            db.session, found, reservation_id, caller=caller, now=clock.now()
        )
        _log_reservation(caller, found, reservation, "reservation.cancel")

    return _act(caller, reference, work, "Het aanbod is afgeslagen; we zoeken verder.")


def _rerender(caller: Caller, reference: str, **forms: Any) -> ResponseReturnValue:
    """The page again with the form's errors beside its fields (nothing typed is lost)."""
    try:
        context = _logged(caller, reference, "read", lambda: _context(caller, reference))
    except NotFound:
        abort(404)
    return _render(context, 422, **forms)


@blp.route("/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/data", methods=["POST"])
@login_required("verwijzer")
def verwijzer_change_dates(reference: str, reservation_id: int) -> ResponseReturnValue:
    """Move, extend or shorten an offer or a stay: all or nothing (`steps.change_dates`)."""
    caller = _caller()
    form = DatesForm()
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)
    arrival, departure = parse_date(form.arrival.data), parse_date(form.departure.data)
    if arrival is None:
        form.arrival.errors = ["Vul een datum in als dd-mm-jjjj, bijv. 04-12-2026."]
    if departure is None:
        form.departure.errors = ["Vul een datum in als dd-mm-jjjj, bijv. 04-12-2026."]
    elif arrival is not None and departure <= arrival:
        form.departure.errors = ["Het vertrek moet na de aankomst liggen."]
    if form.arrival.errors or form.departure.errors:
        return _rerender(caller, reference, dates_form=form, dates_for=reservation_id)
    assert arrival is not None and departure is not None

    def work() -> None:
        found = _load(caller, reference, "change")
        reservation = access.get_offer(db.session, found, reservation_id)
        workflow.ensure_may(caller.role, workflow.reservation_action("dates", reservation.status))
        steps.change_dates(
            db.session,
            reservation,
            arrival=arrival,
            departure=departure,
            caller=caller,
            now=clock.now(),
            today=clock.today(),
        )
        _log_reservation(caller, found, reservation, "reservation.change_dates")

    try:
        _logged(caller, reference, "change", work)
    except NotFound:
        abort(404)
    except DomainError as exc:
        form.departure.errors = [exc.detail]
        return _rerender(caller, reference, dates_form=form, dates_for=reservation_id)
    flash(f"De data zijn gewijzigd: {long_date(arrival)} tot {long_date(departure)}.", "info")
    return redirect(_page(reference), code=303)


@blp.route(
    "/verwijzer/aanvragen/<reference>/aanbod/<int:reservation_id>/annuleren", methods=["POST"]
)
@login_required("verwijzer")
def verwijzer_cancel_stay(reference: str, reservation_id: int) -> ResponseReturnValue:
    """Cancel a confirmed stay (with a reason; the provider is told)."""
    caller = _caller()
    form = ReasonForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _rerender(caller, reference, reason_form=form, reason_for=reservation_id)
    reason = (form.reason.data or "").strip()
    if not reason:
        form.reason.errors = ["Geef een reden; de aanbieder krijgt die te zien."]
        return _rerender(caller, reference, reason_form=form, reason_for=reservation_id)

    def work() -> None:
        found = _load(caller, reference, "change")
        reservation = access.get_offer(db.session, found, reservation_id)
        workflow.ensure_may(caller.role, workflow.reservation_action("cancel", reservation.status))
        steps.cancel(
            db.session,
            reservation,
            party="requester",
            caller=caller,
            now=clock.now(),
            reason=reason,
        )
        _log_reservation(caller, found, reservation, "reservation.cancel")

    return _act(
        caller, reference, work, "Het verblijf is geannuleerd; de aanbieder krijgt bericht."
    )


@blp.route("/verwijzer/aanvragen/<reference>/intrekken", methods=["POST"])
@login_required("verwijzer")
def verwijzer_withdraw(reference: str) -> ResponseReturnValue:
    """Withdraw the request; beds held for it are released."""
    caller = _caller()
    form = ReasonForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _rerender(caller, reference, reason_form=form, reason_for=0)

    def work() -> None:
        found = _load(caller, reference, "change")
        workflow.ensure_may(caller.role, workflow.REQUEST_WITHDRAW)
        lifecycle.withdraw(
            db.session,
            found,
            caller=caller,
            now=clock.now(),
            reason=(form.reason.data or "").strip() or None,
        )

    return _act(caller, reference, work, "De aanvraag is ingetrokken.")
