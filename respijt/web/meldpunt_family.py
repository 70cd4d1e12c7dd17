"""The meldpunt's call-back tasks for families without a mobile (`care_requests.no_mobile`):
listed on the console, marked done here. Only tasks of the regions where the caller is on duty."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue

from respijt import clock, edge
from respijt.care_requests import no_mobile
from respijt.care_requests.access_log import log_request_access
from respijt.extensions import db
from respijt.web import blp
from respijt.web.forms import ActionForm
from respijt.web.meldpunt import _caller, duty_regions
from respijt.web.security import login_required


@blp.route("/meldpunt/familie-terugbellen/<int:notice_id>/gebeld", methods=["POST"])
@login_required("meldpunt")
def meldpunt_family_callback_done(notice_id: int) -> ResponseReturnValue:
    caller = _caller()
    if not ActionForm().validate_on_submit():
        flash("De pagina was verlopen. Probeer het nog een keer.", "fout")
        return redirect(url_for("web.meldpunt_console"), code=303)

    def work() -> bool:
        now = clock.now()
        region_ids = [r["region"].id for r in duty_regions(caller, now)]
        notice = no_mobile.callback_done(
            db.session, notice_id, region_ids=region_ids, by=caller.key, now=now
        )
        if notice is None:
            return False
        log_request_access(
            db.session,
            action="change",
            caller=caller,
            reference=notice.care_request.reference,
            outcome="granted",
        )
        return True

    if edge.transaction(work):
        flash("Genoteerd: de familie is gebeld.", "success")
    else:
        flash("Deze terugbelactie hoort niet bij uw dienst.", "fout")
    return redirect(url_for("web.meldpunt_console") + "#familie-terugbellen", code=303)
