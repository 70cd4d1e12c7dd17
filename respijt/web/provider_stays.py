"""The provider's buttons on a stay: check in, check out and no-show, and "niets gewijzigd" for
all its locations at once.

The steps are the API's (`reservations.steps.check_in`, `check_out`, `mark_no_show`, which call
`reservations.changes.announce`), for the role the workflow lets take them, on a reservation
`care_requests.access` lets this provider see (another provider's answers 404). Each writes the
access-log row the API writes (`reservation.check_in`, `reservation.check_out`,
`reservation.no_show`), and a refusal is logged after the rollback.
"""

from __future__ import annotations

from flask import flash, redirect
from flask.typing import ResponseReturnValue

from respijt import clock, edge
from respijt.beds import registry
from respijt.extensions import db
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.reservations import steps, workflow
from respijt.reservations.workflow import CHECKED_IN
from respijt.web import blp
from respijt.web.forms import ActionForm
from respijt.web.provider import back_target, reservation_step
from respijt.web.security import current_principal, login_required


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


@blp.route("/aanbieder/reserveringen/<int:reservation_id>/niet-verschenen", methods=["POST"])
@login_required("provider")
def provider_no_show(reservation_id: int) -> ResponseReturnValue:
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
