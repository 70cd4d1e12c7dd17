"""The meldpunt console (`/meldpunt`) and its calls: the phone desk of the provider on duty.

One page shows the duty banner, the requests that need attention now (urgent without a fit, or
an offer that was declined or expired on an urgent or soon request, with the reason), the open
requests and the waitlist, alerts that reached nobody, the call-back list (voicemails, each
with its recording to play), today's calls with their outcome in Dutch and the request each
is linked to, and the handover notes.

The recording is fetched by the server from Twilio with the account's credentials
(`messages.recordings`) and streamed to the signed-in meldpunt on duty in the voicemail's
region only (in the grace after its duty, only voicemails left before its duty ended); anyone
else gets 403 (another role) or 404; every play, and every refused one, is an access-log row.
The request page and its actions are in `web/meldpunt.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.care_requests import access, no_mobile
from respijt.care_requests.access_log import log_request_access, log_requests_shown
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES, REQUEST_LABELS
from respijt.errors import DomainError, NotFound
from respijt.extensions import db
from respijt.meldpunt import alerts, notices, phone_access
from respijt.meldpunt import phone as voice
from respijt.messages import recordings
from respijt.models import CareRequest, MeldpuntCall, Voicemail
from respijt.people.caller import Caller
from respijt.web import blp
from respijt.web.forms import ActionForm
from respijt.web.meldpunt import (
    NoteForm,
    _caller,
    _local_day_start,
    _logged,
    duty_regions,
)
from respijt.web.security import login_required

# A call's outcome in words (MeldpuntCall.status).
CALL_OUTCOMES = {
    "routing": "gaat over",
    "answered": "opgenomen",
    "voicemail": "voicemail ingesproken",
    "missed": "gemist",
    "after_hours": "buiten openingstijden",
}
# How far back the console lists alerts that reached nobody.
UNDELIVERED_WINDOW = timedelta(hours=24)


@blp.route("/meldpunt")
@login_required("meldpunt")
def meldpunt_console() -> ResponseReturnValue:
    caller = _caller()
    now = clock.now()

    def work() -> dict[str, Any]:
        regions = duty_regions(caller, now)
        region_ids = [r["region"].id for r in regions]
        visible = access.restrict_to_visible(select(CareRequest), caller, now)
        open_requests = db.session.scalars(
            visible.where(CareRequest.status.in_(OPEN_REQUEST_STATUSES))
            .order_by(CareRequest.attention_at.is_(None), CareRequest.attention_at.desc())
            .order_by(CareRequest.created_at)
            .limit(200)
        ).all()
        log_request_access(
            db.session, action="search", caller=caller, reference=None, outcome="granted"
        )
        urgent = [r for r in open_requests if r.attention_at is not None]
        waitlist = [r for r in open_requests if r.status == "waitlisted" and r not in urgent]
        others = [r for r in open_requests if r not in urgent and r not in waitlist]
        callbacks = [
            v
            for region_id in region_ids
            for v in voice.voicemails(db.session, region_id, open_only=True)
        ]
        calls = db.session.scalars(
            select(MeldpuntCall)
            .where(
                MeldpuntCall.region_id.in_(region_ids),
                MeldpuntCall.started_at >= _local_day_start(clock.today()),
            )
            .order_by(MeldpuntCall.started_at.desc())
            .limit(100)
        ).all()
        for r in regions:  # the callers' numbers shown: one row per list, as the API writes
            region = r["region"]
            _log_phone_access(
                caller, "voicemail.list", phone_access.voicemails_reference(region.code), region.id
            )
            _log_phone_access(
                caller, "call.list", phone_access.calls_reference(region.code), region.id
            )
        linked_ids = {c.care_request_id for c in calls if c.care_request_id is not None}
        linked = dict(
            db.session.execute(
                select(CareRequest.id, CareRequest.reference).where(CareRequest.id.in_(linked_ids))
            ).all()
        )
        notes = [
            (r["region"], n)
            for r in regions
            for n in notices.handover_notes(db.session, r["region"].id, now)
        ]
        family_callbacks = no_mobile.open_callbacks(db.session, region_ids)
        if family_callbacks:  # a name and landline each: one row per request listed
            log_requests_shown(
                db.session, caller=caller, shown=[t.care_request for t in family_callbacks]
            )
        return {
            "family_callbacks": family_callbacks,
            "regions": regions,
            "urgent": urgent,
            "waitlist": waitlist,
            "others": others,
            "callbacks": callbacks,
            "playable": {
                v.id
                for v in callbacks
                if recordings.recording_sid(v.recording_url) and _may_play(regions, v)
            },
            "for_next": {v.id for v in callbacks if not _may_play(regions, v)},
            "calls": calls,
            "linked": linked,
            "undelivered": alerts.undelivered_alerts(
                db.session, region_ids, since=now - UNDELIVERED_WINDOW
            ),
            "notes": notes,
        }

    context = edge.transaction(work)
    return render_template(
        "meldpunt/console.html",
        **context,
        labels=REQUEST_LABELS,
        outcomes=CALL_OUTCOMES,
        action_form=ActionForm(),
        note_form=NoteForm(),
    )


def _log_phone_access(
    caller: Caller, action: str, reference: str, region_id: int | None, outcome: str = "success"
) -> None:
    """Callers' numbers and voices are personal data: every read or change is logged, as the
    API does (`meldpunt.phone_access`)."""
    phone_access.log_phone_access(db.session, caller, action, reference, region_id, outcome=outcome)


def _voicemail_on_duty(caller: Caller, voicemail_id: int) -> Voicemail:
    """The voicemail, when it belongs to a region where this meldpunt is on duty now (or within
    the grace); NotFound otherwise, so nobody learns that it exists."""
    item = db.session.get(Voicemail, voicemail_id)
    allowed = [r["region"].id for r in duty_regions(caller, clock.now())]
    if item is None or item.region_id not in allowed:
        raise NotFound("Deze voicemail bestaat niet.")
    return item


def _may_play(regions: list[dict[str, Any]], item: Voicemail) -> bool:
    """A voicemail's recording plays for the meldpunt on duty in its region now, or, within
    the grace after its duty ended, for voicemails left before that end: not for those left
    for the next one."""
    return any(
        r["region"].id == item.region_id
        and (not r["grace"] or (r["until"] is not None and item.created_at < r["until"]))
        for r in regions
    )


def _voicemail_to_play(caller: Caller, voicemail_id: int) -> Voicemail:
    """The voicemail, when this meldpunt may play it (`_may_play`); NotFound otherwise."""
    item = db.session.get(Voicemail, voicemail_id)
    if item is None or not _may_play(duty_regions(caller, clock.now()), item):
        raise NotFound("Deze voicemail bestaat niet.")
    return item


@blp.route("/meldpunt/terugbellen/<int:voicemail_id>/opname")
@login_required("meldpunt")
def meldpunt_voicemail_recording(voicemail_id: int) -> ResponseReturnValue:
    """Play a voicemail: fetched from Twilio by the server and streamed, never a public URL.
    Every play is a read in the access log, a refused one too."""
    caller = _caller()
    reference = phone_access.voicemail_reference(voicemail_id)

    def work() -> str | None:
        item = _voicemail_to_play(caller, voicemail_id)
        _log_phone_access(caller, "voicemail.play", reference, item.region_id)
        return item.recording_url

    def log_refusal(outcome: str) -> None:
        region_id = db.session.scalar(
            select(Voicemail.region_id).where(Voicemail.id == voicemail_id)
        )
        _log_phone_access(caller, "voicemail.play", reference, region_id, outcome)

    try:
        url = edge.transaction_logging_refusal(work, log_refusal)
    except NotFound:
        abort(404)
    try:
        recording = recordings.open_recording(current_app.config, url)
    except recordings.RecordingUnavailable as exc:
        current_app.logger.warning("voicemail %s: opname niet op te halen: %s", voicemail_id, exc)
        return Response(
            "De opname is nu niet beschikbaar. Probeer het later opnieuw of bel terug zonder "
            "de opname te beluisteren.",
            status=502,
            mimetype="text/plain",
        )
    headers = {"Cache-Control": "no-store", "Content-Disposition": "inline"}
    if recording.length:
        headers["Content-Length"] = recording.length
    return Response(recording.chunks(), mimetype=recording.content_type, headers=headers)


@blp.route("/meldpunt/terugbellen/<int:voicemail_id>/afgehandeld", methods=["POST"])
@login_required("meldpunt")
def meldpunt_voicemail_done(voicemail_id: int) -> ResponseReturnValue:
    caller = _caller()
    if not ActionForm().validate_on_submit():
        abort(400)

    def work() -> None:
        item = _voicemail_on_duty(caller, voicemail_id)
        _log_phone_access(
            caller, "voicemail.done", phone_access.voicemail_reference(item.id), item.region_id
        )
        voice.mark_voicemail_done(db.session, voicemail_id, actor=caller.key, now=clock.now())

    try:
        edge.transaction(work)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        flash("Teruggebeld: afgehandeld.", "info")
    return redirect(url_for("web.meldpunt_console"), code=303)


@blp.route("/meldpunt/gesprekken/<int:call_id>/aanvraag", methods=["POST"])
@login_required("meldpunt")
def meldpunt_link_call(call_id: int) -> ResponseReturnValue:
    """Link one of today's calls to the request taken or discussed during it."""
    caller = _caller()
    if not ActionForm().validate_on_submit():
        abort(400)
    reference = " ".join((request.form.get("reference") or "").split()).upper()[:20]
    if not reference:
        flash("Vul het nummer van de aanvraag in, bijvoorbeeld R-7K3P9Q.", "fout")
        return redirect(url_for("web.meldpunt_console") + "#gesprekken", code=303)

    def work() -> str:
        call = db.session.get(MeldpuntCall, call_id)
        allowed = [r["region"].id for r in duty_regions(caller, clock.now())]
        if call is None or call.region_id not in allowed:
            raise NotFound("Dit gesprek bestaat niet.")
        found = access.get_request(db.session, caller, reference, clock.now())
        _log_phone_access(caller, "call.link", phone_access.call_reference(call.id), call.region_id)
        voice.link_request(db.session, call.id, found.reference)
        log_request_access(
            db.session,
            action="change",
            caller=caller,
            reference=found.reference,
            outcome="granted",
        )
        return found.reference

    try:
        linked = _logged(caller, reference, "change", work)
    except NotFound:
        flash(f"Aanvraag {reference} is niet gevonden in uw aanvragen.", "fout")
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        flash(f"Het gesprek is gekoppeld aan aanvraag {linked}.", "info")
    return redirect(url_for("web.meldpunt_console") + "#gesprekken", code=303)
