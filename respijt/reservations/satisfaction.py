"""The one-question SMS after departure, the replies to it, and the KPI `satisfaction`.

At check-out the requester's mobile (where the confirmation went) gets one question, queued in
the check-out's transaction, non-urgent (so it waits out the quiet hours), once per stay
(dedupe key and a unique row), never to a number that texted STOP. The text names nobody and
holds no link. A reply that is only a number, from a number we asked, is an answer; anything
else goes to the other inbound handlers, so JA/NEE, STOP/START and OK keep working.

Plain functions over a session: they flush, never commit.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from respijt import clock
from respijt.database import DbSession
from respijt.messages import delivery, outbox
from respijt.models import (
    CareRequest,
    Municipality,
    OutboxMessage,
    Reservation,
    SatisfactionSurvey,
)
from respijt.people.caller import municipality_in_visible_regions

TEMPLATE = "satisfaction_question"
SCORES = (1, 2, 3, 4, 5)
DEFAULT_REPLY_DAYS = 7
# A message counts as asked once Twilio took it; a failed or skipped one asked nobody.
_ASKED = ("sent", "delivered")
# The whole message is one number (a trailing full stop or exclamation mark is fine).
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.!]?\s*$")

THANKS = "Bedankt voor uw antwoord. Uw cijfer {score} is genoteerd."
OUT_OF_RANGE = "Antwoord met één cijfer van 1 (slecht) tot 5 (heel goed), bijvoorbeeld: 4."
LATE = (
    "Bedankt voor uw bericht. De vraag over het logeren is gesloten, dus uw cijfer telt niet "
    "meer mee."
)
ALREADY = "Uw antwoord op de vraag over het logeren was al genoteerd. Bedankt."


def dedupe_key(reservation_id: int) -> str:
    return f"satisfaction:{reservation_id}"


def ask_after_departure(
    session: DbSession, reservation: Reservation, *, recipient: str | None, now: datetime
) -> bool:
    """Queue the question for a stay that just ended (checked out); True if it was queued.

    Not for a stay without a care request (nobody to ask), a number that is no mobile or that
    opted out, or a stay already asked. Sent from the departure day on, so an early check-out
    registered the evening before still asks after the guest left.
    """
    number = outbox.sms_number(recipient)
    if reservation.request_id is None or number is None:
        return False
    if delivery.is_opted_out(session, number):
        return False
    care_request = session.get(CareRequest, reservation.request_id)
    if care_request is None:
        return False
    key = dedupe_key(reservation.id)
    if not outbox.queue(
        session,
        recipient=number,
        template=TEMPLATE,
        context={"departure": reservation.departure.isoformat()},
        dedupe_key=key,
        send_after=max(now, clock.local_midnight_utc(reservation.departure)),
        now=now,
        region_id=care_request.region_id,
    ):
        return False
    message_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    session.add(
        SatisfactionSurvey(
            reservation_id=reservation.id,
            outbox_message_id=message_id,
            municipality_id=care_request.municipality_id,
            provider_id=reservation.unit.location.provider_id,
            departure=reservation.departure,
            asked_at=now,
        )
    )
    session.flush()
    return True


@dataclass(frozen=True)
class Reply:
    outcome: str  # recorded, out_of_range, late, already_answered
    text: str
    reservation_id: int | None


def parse_score(body: str) -> int | None:
    """The number a message consists of, or None when it is anything else."""
    match = _NUMBER.match(body)
    return int(match.group(1)) if match else None


def handle_reply(
    session: DbSession, *, from_number: str, body: str, now: datetime, reply_days: int
) -> Reply | None:
    """A message that is only a number, from a number we asked: record it or say why not.

    None when the message is no number or the sender was never asked: the caller goes on
    with its other handlers. The reply window counts from when the question was sent; the
    most recently asked open stay takes the answer.
    """
    value = parse_score(body)
    if value is None:
        return None
    number = outbox.sms_number(from_number) or from_number
    asked = session.execute(
        select(SatisfactionSurvey, OutboxMessage.sent_at)
        .join(OutboxMessage, OutboxMessage.id == SatisfactionSurvey.outbox_message_id)
        .where(
            OutboxMessage.recipient == number,
            OutboxMessage.template == TEMPLATE,
            OutboxMessage.status.in_(_ASKED),
        )
        .order_by(OutboxMessage.sent_at.desc(), SatisfactionSurvey.id.desc())
    ).all()
    if not asked:
        return None
    window_start = now - timedelta(days=reply_days)
    open_surveys = [
        survey
        for survey, sent_at in asked
        if survey.score is None and sent_at is not None and sent_at >= window_start
    ]
    if not open_surveys:
        latest, sent_at = asked[0]
        answered_in_window = latest.score is not None and (sent_at or now) >= window_start
        if answered_in_window:
            return Reply("already_answered", ALREADY, latest.reservation_id)
        return Reply("late", LATE, latest.reservation_id)
    survey = open_surveys[0]
    if value not in SCORES:
        return Reply("out_of_range", OUT_OF_RANGE, survey.reservation_id)
    recorded = session.execute(
        update(SatisfactionSurvey)
        .where(SatisfactionSurvey.id == survey.id, SatisfactionSurvey.score.is_(None))
        .values(score=value, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if not recorded.rowcount:  # type: ignore[attr-defined]
        return Reply("already_answered", ALREADY, survey.reservation_id)
    return Reply("recorded", THANKS.format(score=value), survey.reservation_id)


# --- the KPI --------------------------------------------------------------------------------


def satisfaction_kpi(session: DbSession, f: Any, s: Any, now: datetime) -> dict[str, Any]:
    """The KPI `satisfaction` (claims.kpis): answers for stays that ended (departure day) in
    the period, their mean and the count per score, through the report's suppression. The
    `municipality` filter is the client's gemeente; `provider` the provider of the stay."""
    query = select(SatisfactionSurvey.score).where(
        SatisfactionSurvey.score.is_not(None),
        SatisfactionSurvey.departure >= f.night_from,
        SatisfactionSurvey.departure < f.night_to,
        municipality_in_visible_regions(f.regions, SatisfactionSurvey.municipality_id),
    )
    if f.municipality:
        query = query.join(
            Municipality, Municipality.id == SatisfactionSurvey.municipality_id
        ).where(Municipality.code == f.municipality)
    if f.provider_id is not None:
        query = query.where(SatisfactionSurvey.provider_id == f.provider_id)
    scores = [score for score in session.scalars(query) if score is not None]
    answers = len(scores)
    return {
        "answers": s.count("satisfaction.answers", answers),
        "mean": s.statistic(
            "satisfaction.mean", answers, round(statistics.mean(scores), 2) if scores else None
        ),
        "distribution": s.breakdown(
            "satisfaction.distribution",
            {str(score): scores.count(score) for score in SCORES},
        ),
    }
