"""The provider's buttons on a stay: check in, check out and no-show, and "niets gewijzigd" for
all its locations at once.

The steps are the API's (`reservations.steps.check_in`, `check_out`, `mark_no_show`, which call
`reservations.changes.announce`), for the role the workflow lets take them, on a reservation
`care_requests.access` lets this provider see (another provider's answers 404). Each writes the
access-log row the API writes (`reservation.check_in`, `reservation.check_out`,
`reservation.no_show`), and a refusal is logged after the rollback.

"Niet verschenen melden" frees the nights at once and cannot be undone, so it asks first: the
button's POST shows the stay in words (logged as a read), and only the second POST, with
"Ja, niet verschenen" (`bevestigd=ja`), marks the no-show. Both work without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue

from respijt import clock, edge
from respijt.beds import registry
from respijt.care_requests import access
from respijt.errors import DomainError, NotFound
from respijt.extensions import db
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps, workflow
from respijt.reservations.workflow import CHECKED_IN
from respijt.web import blp
from respijt.web.forms import ActionForm
from respijt.web.provider import _caller, _log, _not_found, back_target, reservation_step
from respijt.web.security import current_principal, login_required

CONFIRMED_ANSWER = "ja"  # the confirmation form's `bevestigd` value


def _ensure_attendance(caller: Caller) -> None:
    workflow.ensure_may(caller.role, workflow.RESERVATION_ATTENDANCE)


@blp.route("/aanbieder/reserveringen/<int:reservation_id>/inchecken", methods=["POST"])
@login_required("provider")
def provider_check_in(reservation_id: int) -> ResponseReturnValue:
    def step(caller: Caller, reservation: Reservation) -> str:
        _ensure_attendance(caller)
        steps.check_in(db.session, reservation, caller=caller, now=clock.now(), today=clock.today())
        return f"Gemeld: de logé van {reservation.short_code} is aangekomen."

    return reservation_step(reservation_id, "reservation.check_in", step, "Aankomst gemeld.")


@blp.route("/aanbieder/reserveringen/<int:reservation_id>/uitchecken", methods=["POST"])
@login_required("provider")
def provider_check_out(reservation_id: int) -> ResponseReturnValue:
    def step(caller: Caller, reservation: Reservation) -> str:
        _ensure_attendance(caller)
        today = clock.today()
        early = reservation.status == CHECKED_IN and today < reservation.departure
        steps.check_out(db.session, reservation, caller=caller, now=clock.now(), today=today)
        message = f"Gemeld: de logé van {reservation.short_code} is vertrokken."
        if early:
            message += " De nachten vanaf vandaag zijn weer vrij."
        return message

    return reservation_step(reservation_id, "reservation.check_out", step, "Vertrek gemeld.")


def _no_show_question(reservation_id: int) -> ResponseReturnValue:
    """The confirmation: the stay in words (code, unit, dates; no more than the portal shows),
    "Ja, niet verschenen" and "Terug". Changes nothing; showing the stay is a logged read."""
    caller = _caller()
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(back_target())
    today = clock.today()

    def work() -> dict[str, Any]:
        _ensure_attendance(caller)
        reservation = access.get_reservation(db.session, caller, reservation_id, clock.now())
        _log(caller, reservation, workflow.RESERVATION_READ, "success")
        return {
            "id": reservation.id,
            "short_code": reservation.short_code,
            "unit": f"{reservation.unit.location.name}, {reservation.unit.name}",
            "arrival": reservation.arrival,
            "departure": reservation.departure,
            "nights": (reservation.departure - reservation.arrival).days,
            "refusal": steps.attendance_refusal("no_show", reservation, today),
        }

    try:
        stay = edge.transaction_logging_refusal(
            work, lambda outcome: _log(caller, reservation_id, workflow.RESERVATION_READ, outcome)
        )
    except NotFound:
        return _not_found()
    except DomainError as exc:
        flash(exc.detail, "fout")
        return redirect(back_target(), code=303)
    if stay["refusal"] is not None:
        flash(stay["refusal"], "fout")
        return redirect(back_target(), code=303)
    return render_template(
        "web/provider_no_show.html",
        stay=stay,
        back=back_target(),
        action_form=form,
        confirmed=CONFIRMED_ANSWER,
    )


@blp.route("/aanbieder/reserveringen/<int:reservation_id>/niet-verschenen", methods=["POST"])
@login_required("provider")
def provider_no_show(reservation_id: int) -> ResponseReturnValue:
    if request.form.get("bevestigd") != CONFIRMED_ANSWER:
        return _no_show_question(reservation_id)

    def step(caller: Caller, reservation: Reservation) -> str:
        _ensure_attendance(caller)
        steps.mark_no_show(
            db.session, reservation, caller=caller, now=clock.now(), today=clock.today()
        )
        return (
            f"Gemeld: de logé van {reservation.short_code} is niet verschenen. "
            "De nachten zijn weer vrij."
        )

    return reservation_step(reservation_id, "reservation.no_show", step, "Niet verschenen gemeld.")


@blp.route("/aanbieder/locaties/bevestigen", methods=["POST"])
@login_required("provider")
def provider_confirm_all_locations() -> ResponseReturnValue:
    """'Niets gewijzigd' for every location of this provider at once."""
    principal = current_principal()
    assert principal is not None
    caller = principal.caller
    if not ActionForm().validate_on_submit():
        return redirect(back_target())

    def work() -> int:
        return registry.confirm_provider_locations(db.session, caller.provider_id, clock.now())

    count = edge.transaction(work)
    if count == 0:
        flash("U heeft nog geen locaties om te bevestigen.", "fout")
    elif count == 1:
        flash("Bevestigd: de beschikbaarheid van uw locatie klopt nog.", "info")
    else:
        flash(f"Bevestigd: de beschikbaarheid van al uw {count} locaties klopt nog.", "info")
    return redirect(back_target(), code=303)
