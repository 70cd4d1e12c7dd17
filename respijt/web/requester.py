"""The requester's pages: the request form, the signed status link, "stuur mijn link opnieuw".

The link token from the SMS is exchanged once for a place in the (signed) session cookie and
the browser is sent on to /mijn-aanvraag, so the token does not stay in the address bar or in
the history. Every read and change of the request is logged (`log_request_access`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.beds.registry import normalise_phone
from respijt.care_requests import access, answers, choices, lifecycle, notices
from respijt.care_requests import links as request_links
from respijt.care_requests.access_log import log_request_access
from respijt.care_requests.common import PUBLIC, link_caller
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES, REQUEST_LABELS, REQUEST_PLACED
from respijt.codes import TARGET_GROUPS
from respijt.errors import DomainError, InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import CareRequest
from respijt.people.caller import Caller
from respijt.reservations import workflow
from respijt.reservations.workflow import HELD, RESERVATION_LABELS
from respijt.serving import public_limits
from respijt.web import blp
from respijt.web.family import family_page_context
from respijt.web.forms import ActionForm, RequestForm, ResendLinkForm, WithdrawForm
from respijt.web.public import (
    municipality_choices,
    phone_display,
    regions_with_municipalities,
    too_many,
)
from respijt.web.request_preference import prefill_from_search
from respijt.web.request_submission import submit_request

SESSION_TOKEN = "request_link"
SESSION_CREATED = "request_created"
SESSION_REACHED_BY = "request_reached_by"
OPEN_REQUESTS_PER_NUMBER = 5


def _token_for(reference: str) -> str:
    return request_links.make_link_token(current_app.secret_key, reference)  # type: ignore[arg-type]


def _prefill(form: RequestForm) -> None:
    """Carry over what the visitor already chose in the search (GET parameters)."""
    args = request.args
    if args.get("gemeente"):
        form.municipality.data = args["gemeente"].upper()
    if args.get("doelgroep") in TARGET_GROUPS:
        form.target_group.data = args["doelgroep"]
    if args.get("van"):
        form.arrival.data = args["van"]
    if args.get("tot"):
        form.departure.data = args["tot"]
    if args.get("rolstoel"):
        form.wheelchair.data = True
    prefill_from_search(form, args)


@blp.route("/aanvragen", methods=["GET", "POST"])
def new_request() -> ResponseReturnValue:
    regions = regions_with_municipalities()
    form = RequestForm()
    form.municipality.choices = municipality_choices(regions, "Kies een gemeente…")
    other_problems: list[str] = []
    if request.method == "GET":
        _prefill(form)
    else:
        try:
            public_limits.check_address(public_limits.REQUEST_FORM)
            if form.validate_on_submit():
                mobile = _valid_mobile(form.contact_mobile.data)
                if mobile is not None:
                    public_limits.check_mobile(mobile)
                elif form.contact_email.data:  # no mobile: the family hears by e-mail
                    public_limits.check_email(form.contact_email.data)
                # The "received" SMS with the link is queued by the request rules on creation.
                reference, other_problems = submit_request(form, caller=PUBLIC, channel="web")
                if reference is not None:
                    session[SESSION_TOKEN] = _token_for(reference)
                    session[SESSION_CREATED] = reference
                    session[SESSION_REACHED_BY] = (
                        "sms"
                        if form.contact_mobile.data
                        else "email"
                        if form.contact_email.data
                        else "phone"
                    )
                    return redirect(url_for("web.request_sent"), code=303)
            else:
                _check_mobile(form)
        except public_limits.TooManyRequests as exc:
            return too_many(exc, "web/request_form.html", form=form, other_problems=[exc.detail])
    status = 422 if request.method == "POST" else 200
    return (
        render_template("web/request_form.html", form=form, other_problems=other_problems),
        status,
    )


def _valid_mobile(raw: str | None) -> str | None:
    """The mobile number in E.164, or None when it is not one (then no SMS goes out)."""
    try:
        return normalise_phone(raw or "", "mobile", mobile=True)
    except InvalidInput:
        return None


def _check_mobile(form: RequestForm) -> None:
    """Also say what is wrong with the number when other fields failed, so all shows at once."""
    if form.contact_mobile.data and not form.contact_mobile.errors:
        try:
            normalise_phone(form.contact_mobile.data, "contact.mobile", mobile=True)
        except InvalidInput as exc:
            form.add_domain_errors(exc.params)


@blp.route("/aanvragen/verstuurd")
def request_sent() -> ResponseReturnValue:
    reference = session.get(SESSION_CREATED)
    if not reference:
        return redirect(url_for("web.new_request"))
    return render_template(
        "web/request_sent.html", reference=reference, reached_by=session.get(SESSION_REACHED_BY)
    )


@blp.route("/a/<token>")
def open_link(token: str) -> ResponseReturnValue:
    """The link in the SMS: keep the token in the session, then show the request."""
    session[SESSION_TOKEN] = token
    return redirect(url_for("web.my_request"), code=303)


def _linked() -> tuple[str, bool] | None:
    """(reference, came by SMS) of the link in this browser's session."""
    token = session.get(SESSION_TOKEN)
    if not token:
        return None
    max_age = int(current_app.config["RESPIJT_REQUEST_LINK_DAYS"]) * 86400
    return request_links.read_token(current_app.secret_key, token, max_age)  # type: ignore[arg-type]


def _linked_reference() -> str | None:
    linked = _linked()
    return linked[0] if linked is not None else None


def _load(reference: str, action: str) -> CareRequest:
    caller = link_caller(reference)
    try:
        found = access.get_request(db.session, caller, reference, clock.now())
    except NotFound:
        log_request_access(
            db.session, action=action, caller=caller, reference=reference, outcome="denied"
        )
        raise
    log_request_access(
        db.session, action=action, caller=caller, reference=found.reference, outcome="granted"
    )
    return found


def _no_link() -> ResponseReturnValue:
    invalid = bool(session.get(SESSION_TOKEN))
    return render_template("web/link_invalid.html", invalid=invalid), 404 if invalid else 200


@blp.route("/mijn-aanvraag")
def my_request() -> ResponseReturnValue:
    linked = _linked()
    if linked is None:
        return _no_link()
    reference, by_sms = linked

    def work() -> dict[str, Any] | None:
        try:
            found = _load(reference, "read")
        except NotFound:
            return None
        if by_sms:
            choices.link_opened(found, now=clock.now())
        return family_page_context(found, link_caller(reference, by_sms=by_sms))

    context = edge.transaction(work)
    if context is None:
        return _no_link()
    care_request = context["care_request"]
    region = context["region"]
    return render_template(
        "web/my_request.html",
        **context,
        status_label=REQUEST_LABELS[care_request.status],
        is_open=care_request.status in OPEN_REQUEST_STATUSES,
        reservation_labels=RESERVATION_LABELS,
        held=HELD,
        action_form=ActionForm(),
        withdraw_form=WithdrawForm(),
        meldpunt=phone_display(region.meldpunt_number if region else None),
        target_groups=TARGET_GROUPS,
        offer_hours=current_app.config["RESPIJT_OFFER_HOURS"],
    )


def act_on_linked_request(step: Any, done: str) -> ResponseReturnValue:
    """Run one change for the linked request; success and domain refusals come back as a
    message on the status page."""
    linked = _linked()
    if linked is None:
        return _no_link()
    reference, by_sms = linked
    form = ActionForm()
    if not form.validate_on_submit():
        flash("De pagina was verlopen. Probeer het nog een keer.", "error")
        return redirect(url_for("web.my_request"), code=303)

    def work() -> None:
        step(_load(reference, "change"), link_caller(reference, by_sms=by_sms))

    try:
        edge.transaction(work)
    except DomainError as exc:
        flash(exc.detail, "error")
    else:
        flash(done, "success")
    return redirect(url_for("web.my_request"), code=303)


def act_on_linked_offer(
    reservation_id: int, step: Callable[..., object], done: str, **settings: Any
) -> ResponseReturnValue:
    """A step on one offer or stay of the linked request (accept, decline, cancel):
    `step(session, request, reservation_id, caller=…, now=…, **settings)`."""

    def run(care_request: CareRequest, caller: Caller) -> None:
        step(db.session, care_request, reservation_id, caller=caller, now=clock.now(), **settings)

    return act_on_linked_request(run, done)


@blp.route("/mijn-aanvraag/aanbod/<int:reservation_id>/aannemen", methods=["POST"])
def accept_offer(reservation_id: int) -> ResponseReturnValue:
    return act_on_linked_offer(
        reservation_id,
        answers.accept_offer,
        "U hebt het aanbod aangenomen.",
        provider_confirm_hours=current_app.config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
    )


@blp.route("/mijn-aanvraag/aanbod/<int:reservation_id>/afslaan", methods=["POST"])
def decline_offer(reservation_id: int) -> ResponseReturnValue:
    return act_on_linked_offer(
        reservation_id, answers.decline_offer, "U hebt het aanbod afgeslagen. We zoeken verder."
    )


@blp.route("/mijn-aanvraag/intrekken", methods=["POST"])
def withdraw_request() -> ResponseReturnValue:
    reference = _linked_reference()
    if reference is None:
        return _no_link()
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(form.sure.errors[0] if form.sure.errors else "Probeer het nog een keer.", "error")
        return redirect(url_for("web.my_request"), code=303)

    def work() -> None:
        care_request = _load(reference, "change")
        workflow.ensure_may("public", workflow.REQUEST_WITHDRAW)
        lifecycle.withdraw(
            db.session,
            care_request,
            caller=link_caller(reference),
            now=clock.now(),
            reason="Ingetrokken via de website",
        )

    try:
        edge.transaction(work)
    except DomainError as exc:
        flash(exc.detail, "error")
    else:
        flash("Uw aanvraag is ingetrokken.", "success")
    return redirect(url_for("web.my_request"), code=303)


@blp.route("/link-opnieuw", methods=["GET", "POST"])
def resend_link() -> ResponseReturnValue:
    """Send the link again by mobile number. The answer is the same whether or not a request
    exists for that number, so nobody learns who asked for a bed."""
    form = ResendLinkForm()
    try:
        if request.method == "POST":
            public_limits.check_address(public_limits.RESEND_LINK_FORM)
        mobile = None
        if form.validate_on_submit():
            try:
                mobile = normalise_phone(form.mobile.data or "", "mobile", mobile=True)
            except InvalidInput as exc:
                form.mobile.errors = [*form.mobile.errors, *(p["reason"] for p in exc.params)]
            else:
                public_limits.check_mobile(mobile)
    except public_limits.TooManyRequests as exc:
        flash(exc.detail, "fout")
        return too_many(exc, "web/resend_link.html", form=form)
    if mobile is not None:
        now = clock.now()
        found_mobile = mobile

        def work() -> None:
            for care_request in db.session.scalars(
                select(CareRequest)
                .where(
                    CareRequest.contact_mobile == found_mobile,
                    # Never to a family the verwijzer said not to contact.
                    CareRequest.contact_family.is_(True),
                    # Open requests, and placed ones: the family follows and may cancel
                    # their stay there.
                    CareRequest.status.in_((*OPEN_REQUEST_STATUSES, REQUEST_PLACED)),
                )
                .order_by(CareRequest.created_at.desc())
                .limit(OPEN_REQUESTS_PER_NUMBER)
            ):
                notices.request_link_again(db.session, care_request, now=now)

        edge.transaction(work)
        return redirect(url_for("web.resend_link_sent"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("web/resend_link.html", form=form), status


@blp.route("/link-opnieuw/verstuurd")
def resend_link_sent() -> ResponseReturnValue:
    return render_template("web/resend_link_sent.html")
