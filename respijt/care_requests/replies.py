"""Inbound SMS: what a received message means, and acting on it once.

Opt-out and opt-in keywords, a provider's JA/NEE <code> for a reservation that awaits its
answer, a location's OK (availability unchanged), and the 1–5 answer to the question after
departure (only from a number that was asked). Every inbound message is stored with what we
made of it; the reply (a Dutch text, or None) is for the webhook to send back as TwiML. Bodies
are never logged above DEBUG. Plain functions over a session: they flush, never commit.

It lives with the care requests because the replies answer what the care-request flow sent:
the provider's answer moves the reservation and lets its request follow.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from respijt import formatting
from respijt.beds import registry
from respijt.care_requests import answers
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.database import DbSession
from respijt.errors import HoldExpired, InvalidTransition
from respijt.messages import delivery
from respijt.models import CareRequest, InboundMessage, Location, Reservation
from respijt.people.caller import Caller
from respijt.privacy import access_log as privacy
from respijt.reservations import fast_hold, satisfaction, steps
from respijt.reservations.workflow import (
    AWAITING_PROVIDER,
    CONFIRMED,
    DECLINED,
    EXPIRED,
    HELD,
    RESERVATION_LABELS,
)

log = logging.getLogger(__name__)

# Twilio's own keywords (Advanced Opt-Out defaults): matched on the whole message, any case.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})

_ANSWER = re.compile(r"^(JA|NEE)\b[\s:.,!-]*([A-Za-z0-9]*)[\s.!]*$", re.IGNORECASE)
_WORD = re.compile(r"^[\s.!]*([A-Za-z]+)[\s.!]*$")

# RESPIJT_PROVIDER_CONFIRM_HOURS' default, when the webhook does not pass the setting.
DEFAULT_PROVIDER_CONFIRM_HOURS = 24

HELP = (
    "Dit nummer verwerkt alleen: JA of NEE (ons aanbod aannemen of afslaan), JA <code> of "
    "NEE <code> (reservering bevestigen of afwijzen), "
    "OK (beschikbaarheid ongewijzigd) en STOP. Voor vragen: bel het meldpunt."
)


@dataclass(frozen=True)
class InboundResult:
    command: str  # one of models.sms.INBOUND_COMMANDS
    outcome: str
    reply: str | None
    reservation_id: int | None = None
    duplicate: bool = False


def parse_command(body: str) -> tuple[str, str | None]:
    """(command, argument): the keyword for opt-out/in, the code for JA/NEE."""
    word = _WORD.match(body)
    if word is not None:
        keyword = word.group(1).upper()
        if keyword in OPT_OUT_KEYWORDS:
            return "opt_out", keyword
        if keyword in OPT_IN_KEYWORDS:
            return "opt_in", keyword
        if keyword == "OK":
            return "location_ok", None
    answer = _ANSWER.match(body.strip())
    if answer is not None:
        command = "confirm" if answer.group(1).upper() == "JA" else "decline"
        return command, answer.group(2).upper() or None
    return "other", None


def handle_inbound(
    session: DbSession,
    *,
    sid: str,
    from_number: str,
    to_number: str,
    body: str,
    now: datetime,
    satisfaction_reply_days: int = satisfaction.DEFAULT_REPLY_DAYS,
    idempotency_token: str | None = None,
    provider_confirm_hours: float = DEFAULT_PROVIDER_CONFIRM_HOURS,
) -> InboundResult:
    """Act on one received SMS once: a repeated MessageSid, or a webhook retry with an
    idempotency token seen before, has no second effect and gets no reply.

    Keywords and JA/NEE come first; a message that is only a number is an answer to the
    satisfaction question when its sender was asked, else it is not understood."""
    if idempotency_token and not delivery.claim_webhook_token(
        session, idempotency_token, "sms_inbound", now
    ):
        return InboundResult("other", "duplicate", None, duplicate=True)
    if session.scalar(select(InboundMessage.id).where(InboundMessage.sid == sid)) is not None:
        return InboundResult("other", "duplicate", None, duplicate=True)
    command, argument = parse_command(body)
    if command == "opt_out":
        delivery.record_opt_out(session, from_number, argument or "STOP", now)
        # Twilio confirms the opt-out itself; a reply from us would be refused (21610).
        result = InboundResult(command, "opted_out", None)
    elif command == "opt_in":
        delivery.remove_opt_out(session, from_number)
        result = InboundResult(command, "opted_in", None)
    elif command in ("confirm", "decline"):
        result = _answer_reservation(
            session, command, argument, from_number, now, provider_confirm_hours
        )
    elif command == "location_ok":
        result = _confirm_locations(session, from_number, now)
    else:
        result = _answer_satisfaction(session, from_number, body, now, satisfaction_reply_days)
    session.add(
        InboundMessage(
            sid=sid,
            from_number=from_number[:20],
            to_number=to_number[:20],
            body=body[:1600],
            received_at=now,
            command=result.command,
            outcome=result.outcome,
            reservation_id=result.reservation_id,
        )
    )
    session.flush()
    log.info("inbound SMS %s: %s → %s", sid, result.command, result.outcome)
    return result


def _answer_satisfaction(
    session: DbSession, from_number: str, body: str, now: datetime, reply_days: int
) -> InboundResult:
    reply = satisfaction.handle_reply(
        session, from_number=from_number, body=body, now=now, reply_days=reply_days
    )
    if reply is None:
        return InboundResult("other", "not_understood", HELP)
    return InboundResult("satisfaction", reply.outcome, reply.text, reply.reservation_id)


def _stay(reservation: Reservation) -> str:
    location = reservation.unit.location.name
    return (
        f"{location}, {formatting.day_month(reservation.arrival)} tot "
        f"{formatting.day_month(reservation.departure)}"
    )


def _answer_reservation(
    session: DbSession,
    command: str,
    code: str | None,
    from_number: str,
    now: datetime,
    provider_confirm_hours: float = 24,
) -> InboundResult:
    word = "JA" if command == "confirm" else "NEE"
    if not code:
        answered = answer_offers(session, command, from_number, now, provider_confirm_hours)
        if answered is not None:
            return answered
        return InboundResult(
            command,
            "no_code",
            f"Zet de code uit ons bericht achter {word}, bijvoorbeeld: {word} K7MP3Q.",
        )
    reservation = session.scalar(select(Reservation).where(Reservation.short_code == code))
    if reservation is None:
        return InboundResult(
            command,
            "unknown_code",
            f"Code {code} is onbekend. Controleer de code in ons bericht en stuur opnieuw "
            f"{word} <code>.",
        )
    provider = reservation.unit.location.provider
    if from_number not in (provider.staff_mobiles or []):
        stranger = Caller(key=f"sms:{from_number}", role="public")
        _log_answer(session, reservation, stranger, command, "denied", now)
        return InboundResult(
            command,
            "wrong_number",
            f"Dit nummer staat niet geregistreerd bij de aanbieder van reservering {code}. "
            "Antwoord vanaf een geregistreerd mobiel nummer, bevestig in respijt, of laat uw "
            "nummer toevoegen door uw organisatie.",
            reservation.id,
        )
    caller = Caller(key=f"sms:{from_number}", role="provider", provider_id=provider.id)
    try:
        if command == "confirm":
            steps.confirm_by_provider(session, reservation, caller=caller, now=now)
        else:
            steps.decline_by_provider(
                session, reservation, caller=caller, now=now, reason="Afgewezen per sms"
            )
    except HoldExpired:
        _log_answer(session, reservation, caller, command, "failed", now)
        return InboundResult(
            command,
            "expired",
            f"Reservering {code} is verlopen: de termijn om te bevestigen is voorbij en het bed "
            "is vrijgegeven. Neem contact op met het meldpunt als u het bed toch kunt bieden.",
            reservation.id,
        )
    except InvalidTransition:
        _log_answer(session, reservation, caller, command, "failed", now)
        return InboundResult(
            command, "not_awaiting", _not_awaiting(reservation, code, command), reservation.id
        )
    _log_answer(session, reservation, caller, command, "success", now)
    if command == "confirm":
        text = f"Bedankt. Reservering {code} ({_stay(reservation)}) is bevestigd."
    else:
        text = f"Reservering {code} ({_stay(reservation)}) is afgewezen; het bed is weer vrij."
    return InboundResult(
        command,
        "confirmed" if command == "confirm" else "declined",
        text + " De aanvrager krijgt bericht.",
        reservation.id,
    )


def _log_answer(
    session: DbSession,
    reservation: Reservation,
    caller: Caller,
    command: str,
    outcome: str,
    now: datetime,
) -> None:
    """The access-log row of a JA/NEE <code>: a change of a reservation (DESIGN invariant 6),
    by `sms:<number>`, in the same transaction as the change."""
    reference = None
    if reservation.request_id is not None:
        reference = session.scalar(
            select(CareRequest.reference).where(CareRequest.id == reservation.request_id)
        )
    privacy.log_access(
        session,
        action="reservation.confirm" if command == "confirm" else "reservation.decline",
        event="change",
        caller=caller,
        client_reference=reference or fast_hold.own_reference(reservation.id),
        outcome=outcome,
        purpose="zorgbemiddeling",
        source="sms",
        now=now,
        region_id=reservation.unit.location.municipality.region_id,
    )


def _not_awaiting(reservation: Reservation, code: str, command: str) -> str:
    status = reservation.status
    if status == CONFIRMED and command == "confirm":
        return f"Reservering {code} was al bevestigd. U hoeft niets meer te doen."
    if status == DECLINED and command == "decline":
        return f"Reservering {code} was al afgewezen. U hoeft niets meer te doen."
    if status == EXPIRED:
        return f"Reservering {code} is verlopen; het bed is vrijgegeven."
    label = RESERVATION_LABELS.get(status, status)
    if status != AWAITING_PROVIDER:
        return (
            f"Reservering {code} wacht niet op uw antwoord (status: {label}). "
            "Bekijk de reservering in respijt."
        )
    return f"Reservering {code} kon niet worden bijgewerkt. Probeer het opnieuw."


def _confirm_locations(session: DbSession, from_number: str, now: datetime) -> InboundResult:
    locations = list(
        session.scalars(
            select(Location).where(Location.contact_mobile == from_number).order_by(Location.name)
        )
    )
    if not locations:
        return InboundResult(
            "location_ok",
            "wrong_number",
            "Dit nummer is bij geen locatie als contactnummer bekend, dus er is niets "
            "bevestigd. Werk de beschikbaarheid bij in respijt.",
        )
    for location in locations:
        registry.confirm_location(session, location, now)
    names = ", ".join(location.name for location in locations)
    return InboundResult(
        "location_ok",
        "confirmed",
        f"Bedankt. De beschikbaarheid van {names} staat als ongewijzigd genoteerd.",
    )


def beds_in_words(count: int) -> str:
    """1 → '1 logeerbed', 3 → '3 logeerbedden'."""
    return f"{count} logeerbed" if count == 1 else f"{count} logeerbedden"


def answer_offers(
    session: DbSession,
    command: str,
    from_number: str,
    now: datetime,
    provider_confirm_hours: float = 24,
) -> InboundResult | None:
    """A plain JA or NEE from the contact of a request with beds held for it: accept (or
    decline) every held offer of that request at once, as for a series offered in one SMS.
    Possession of the phone the offer went to is what authorises it, as with the signed link.
    None when this number has no held offer (the provider's JA without a code, say); a number
    with offers for more than one request is asked to answer through the link."""
    rows = session.execute(
        select(CareRequest, Reservation)
        .join(Reservation, Reservation.request_id == CareRequest.id)
        .where(
            CareRequest.contact_mobile == from_number,
            CareRequest.status.in_(OPEN_REQUEST_STATUSES),
            Reservation.status == HELD,
            Reservation.expires_at > now,
        )
        .order_by(Reservation.arrival, Reservation.id)
    ).all()
    if not rows:
        return None
    requests = {care_request.id: care_request for care_request, _ in rows}
    if len(requests) > 1:
        return InboundResult(
            command,
            "ambiguous",
            "U heeft aanbod voor meer dan één aanvraag. Reageer per aanvraag via de link in ons "
            "bericht, of bel het meldpunt.",
        )
    care_request = rows[0][0]
    caller = Caller(key=f"sms:{from_number}", role="public")
    done: list[Reservation] = []
    for _, reservation in rows:
        try:
            if command == "confirm":
                answers.accept_offer(
                    session,
                    care_request,
                    reservation.id,
                    caller=caller,
                    now=now,
                    provider_confirm_hours=provider_confirm_hours,
                )
            else:
                answers.decline_offer(session, care_request, reservation.id, caller=caller, now=now)
        except (HoldExpired, InvalidTransition):
            _log_answer(session, reservation, caller, command, "failed", now)
            continue
        _log_answer(session, reservation, caller, command, "success", now)
        done.append(reservation)
    stays = "; ".join(_stay(r) for r in done)
    if not done:
        text = f"Het aanbod voor aanvraag {care_request.reference} is niet meer geldig."
    elif command == "confirm":
        text = (
            f"Bedankt. U heeft {beds_in_words(len(done))} aangenomen voor aanvraag "
            f"{care_request.reference}: {stays}."
        )
    else:
        text = (
            f"U heeft {beds_in_words(len(done))} afgeslagen voor aanvraag "
            f"{care_request.reference}; we zoeken verder."
        )
    return InboundResult(
        command,
        ("confirmed" if command == "confirm" else "declined") if done else "expired",
        text,
        done[0].id if done else None,
    )
