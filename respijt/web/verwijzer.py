"""The verwijzer's pages: their own requests with status, and a new request.

Which requests a verwijzer sees is decided by `care_requests.access.restrict_to_visible`
(their own only). The list writes one access-log row per request it shows (it shows the
client's name), and each new request one.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.care_requests import access
from respijt.care_requests.access import restrict_to_visible
from respijt.care_requests.access_log import log_request_access, log_requests_shown
from respijt.care_requests.workflow import REQUEST_LABELS
from respijt.errors import NotFound
from respijt.extensions import db
from respijt.models import CareRequest
from respijt.people.caller import Caller
from respijt.web import blp
from respijt.web.forms import RequestForm
from respijt.web.public import municipality_choices, regions_with_municipalities
from respijt.web.request_submission import submit_request
from respijt.web.security import current_principal, login_required

LIST_LIMIT = 200


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


@blp.route("/verwijzer/aanvragen")
@login_required("verwijzer")
def verwijzer_requests() -> ResponseReturnValue:
    caller = _caller()

    def work() -> list[CareRequest]:
        query = select(CareRequest).order_by(CareRequest.created_at.desc(), CareRequest.id.desc())
        found = list(
            db.session.scalars(restrict_to_visible(query, caller, clock.now()).limit(LIST_LIMIT))
        )
        log_requests_shown(db.session, caller=caller, shown=found, source=request.remote_addr)
        return found

    found = edge.transaction(work)
    return render_template(
        "web/verwijzer_requests.html", care_requests=found, labels=REQUEST_LABELS
    )


def _prefill_from(form: RequestForm, caller: Caller, reference: str) -> bool:
    """A new request for the same client as an earlier one of this verwijzer (continuity):
    the client's details and needs, the contact, and the link to the earlier request. False
    when it is not one of theirs. The read is logged."""

    def work() -> CareRequest:
        found = access.get_request(db.session, caller, reference, clock.now())
        log_request_access(
            db.session, action="read", caller=caller, reference=found.reference, outcome="granted"
        )
        return found

    try:
        earlier = edge.transaction(work)
    except NotFound:
        return False
    form.first_name.data = earlier.client_name
    form.birth_year.data = str(earlier.birth_year)
    form.municipality.data = earlier.municipality.code
    form.target_group.data = earlier.target_group
    form.care_level.data = earlier.care_level
    form.wheelchair.data = earlier.wheelchair
    form.language.data = earlier.language or ""
    form.funding.data = earlier.funding
    form.reason.data = earlier.reason
    form.contact_name.data = earlier.contact_name
    form.contact_mobile.data = earlier.contact_mobile
    form.contact_phone.data = earlier.contact_phone or ""
    form.contact_email.data = earlier.contact_email or ""
    form.previous_request.data = earlier.reference
    return True


@blp.route("/verwijzer/aanvragen/nieuw", methods=["GET", "POST"])
@login_required("verwijzer")
def verwijzer_new_request() -> ResponseReturnValue:
    caller = _caller()
    principal = current_principal()
    assert principal is not None
    user = principal.user
    form = RequestForm()
    form.municipality.choices = municipality_choices(
        regions_with_municipalities(), "Kies een gemeente…"
    )
    # The copy speaks to the professional: whose contact details go here.
    form.contact_name.label.text = "Naam contactpersoon van de cliënt"
    form.contact_mobile.label.text = "Mobiel nummer contactpersoon van de cliënt"
    other_problems: list[str] = []
    earlier = request.args.get("eerder") if request.method == "GET" else None
    if earlier and not _prefill_from(form, caller, earlier):
        abort(404)
    elif request.method == "GET":
        form.contact_name.data = user.name
    else:
        # A verwijzer always asks as verwijzer, whatever the post says.
        form.requester.data = "verwijzer"
        form.requester.raw_data = ["verwijzer"]
        if form.validate_on_submit():
            reference, other_problems = submit_request(form, caller=caller, channel="web")
            if reference is not None:
                flash(f"Aanvraag {reference} is verstuurd.", "info")
                return redirect(url_for("web.verwijzer_requests"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "web/verwijzer_request_form.html",
        form=form,
        other_problems=other_problems,
        organisation=user.organisation,
    ), status


# The page of one request and its actions (registers its routes on import).
from respijt.web import verwijzer_request  # noqa: E402, F401
