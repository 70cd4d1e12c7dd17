"""The NEN 7513 access log and retention. No Flask here.

Every read, search, create, change, export or print of client data calls `log_access()` in the
same transaction as the access itself. The table is append-only in the database: UPDATE,
TRUNCATE and rewriting an existing id are always refused by triggers, DELETE only through
`purge()` (PostgreSQL: the SECURITY DEFINER function access_log_purge(); SQLite: a connection
function the DELETE trigger asks, which answers yes only around the purge's own DELETE). ADR
0009 says what this protects against on each database, and what not.

Retention: `purge()` removes log rows older than RESPIJT_ACCESS_LOG_YEARS and hands every
registered anonymiser the cut-off for personal fields (RESPIJT_RETENTION_DAYS after a stay
ended or a request closed): reservations (a mark), care requests (names and mobile), SMS
(number and text) and satisfaction answers (their links to the stay and the SMS); more kinds
plug in with `register_anonymiser()`.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from respijt import clock
from respijt.database import (
    DbSession,
    execute_on_driver,
    permit_access_log_purge,
)
from respijt.models import (
    AccessLog,
    CareRequest,
    InboundMessage,
    Location,
    Municipality,
    OutboxMessage,
    Reservation,
    SatisfactionSurvey,
    Unit,
)
from respijt.people import feedback
from respijt.people.caller import Caller, in_visible_regions

EVENTS = ("read", "search", "create", "change", "export", "print")
_log = logging.getLogger(__name__)

# access_log.client_reference's length: what a caller typed is cut to fit, never refused.
CLIENT_REFERENCE_LENGTH = 60
OUTCOMES = ("success", "denied", "failed")

# The caller's address for the current request, set at the HTTP edge (respijt.web.security),
# so domain code can log the source without importing Flask.
request_source: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "respijt_request_source", default=None
)


# Built once: a fresh `insert().values(...)` per call cost more Python than the INSERT itself.
# inline(): no RETURNING of the new id, which nobody reads.
_INSERT_ACCESS = insert(AccessLog).inline()
# The same, with the region of a unit looked up by the INSERT (no loading of unit, location
# and municipality first).
_INSERT_ACCESS_FOR_UNIT = (
    insert(AccessLog)
    .inline()
    .values(
        region_id=select(Municipality.region_id)
        .join(Location, Location.municipality_id == Municipality.id)
        .join(Unit, Unit.location_id == Location.id)
        .where(Unit.id == bindparam("region_unit_id"))
        .scalar_subquery()
    )
)


def log_access(
    session: DbSession,
    *,
    action: str,
    caller: Caller,
    client_reference: str,
    outcome: str,
    purpose: str,
    source: str | None,
    now: datetime | None = None,
    event: str | None = None,
    region_id: int | None = None,
    region_of_unit: int | None = None,
) -> None:
    """Append one access-log row. `action` is "<object>.<verb>" (reservation.confirm); the
    event (read, change, …) is derived from the verb unless given. The region is `region_id`,
    or that of the unit `region_of_unit`."""
    values = access_values(
        action=action,
        caller=caller,
        outcome=outcome,
        purpose=purpose,
        source=source,
        now=now,
        event=event,
    )
    write_access(
        session,
        values,
        client_reference=client_reference,
        region_id=region_id,
        region_of_unit=region_of_unit,
    )


def access_values(
    *,
    action: str,
    caller: Caller,
    outcome: str,
    purpose: str,
    source: str | None,
    now: datetime | None = None,
    event: str | None = None,
) -> dict[str, Any]:
    """An access-log row's values but its client reference and region (`log_access`), for a
    writer that learns the reference only as it writes (`reservations.holds.place_plain_hold`)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    event = event or event_for_action(action)
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    return {
        "at": now or clock.now(),
        "event": event,
        "action": action,
        "actor": caller.key,
        "user_id": caller.user_id,
        "role": caller.role,
        "provider_id": caller.provider_id,
        "organisation": caller.organisation,
        "outcome": outcome,
        "source": (source or request_source.get() or "")[:64] or None,
        "purpose": purpose,
    }


def fit_reference(reference: str) -> str:
    """`reference` cut to the column's length (a longer one fails the INSERT on PostgreSQL,
    and with it the row that records the attempt)."""
    return reference[:CLIENT_REFERENCE_LENGTH]


def write_access(
    target: DbSession,
    values: dict[str, Any],
    *,
    client_reference: str,
    region_id: int | None = None,
    region_of_unit: int | None = None,
) -> None:
    """Insert the row of `access_values` in `target`'s transaction."""
    row = {**values, "client_reference": fit_reference(client_reference)}
    if region_of_unit is not None:
        row["region_unit_id"] = region_of_unit
        execute_on_driver(target, _INSERT_ACCESS_FOR_UNIT, row)
    else:
        row["region_id"] = region_id
        execute_on_driver(target, _INSERT_ACCESS, row)


_VERB_EVENTS = {
    "read": "read",
    "play": "read",  # listening to a voicemail
    "list": "search",
    "search": "search",
    "create": "create",
    "export": "export",
    "print": "print",
}


def event_for_action(action: str) -> str:
    return _VERB_EVENTS.get(action.rsplit(".", 1)[-1], "change")


def access_log_for(
    session: DbSession, client_reference: str, region_ids: frozenset[int] | None = None
) -> list[AccessLog]:
    """Who looked at this client's data, oldest first; narrowed to regions when given."""
    query = select(AccessLog).where(
        AccessLog.client_reference == client_reference,
        in_visible_regions(region_ids, AccessLog.region_id),
    )
    return list(session.scalars(query.order_by(AccessLog.at, AccessLog.id)))


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anonymiser:
    """Clears the personal fields of one kind of record whose retention ended before `cutoff`.

    `count` answers how many are due (for --dry-run); `run` clears them and returns how many.
    Both get the care-request statuses that count as open (such a request is kept whole).
    """

    name: str
    count: Callable[[DbSession, datetime, Collection[str]], int]
    run: Callable[[DbSession, datetime, datetime, Collection[str]], int]


_ANONYMISERS: list[Anonymiser] = []


def register_anonymiser(anonymiser: Anonymiser) -> None:
    if all(a.name != anonymiser.name for a in _ANONYMISERS):
        _ANONYMISERS.append(anonymiser)


def _reservations_due(cutoff: datetime) -> ColumnElement[bool]:
    last_day = cutoff.astimezone(clock.LOCAL_TZ).date()
    return (Reservation.departure <= last_day) & Reservation.anonymised_at.is_(None)


def _count_reservations(
    session: DbSession, cutoff: datetime, open_request_statuses: Collection[str]
) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Reservation).where(_reservations_due(cutoff))
        )
        or 0
    )


def _anonymise_reservations(
    session: DbSession, cutoff: datetime, now: datetime, open_request_statuses: Collection[str]
) -> int:
    # Reservations hold no personal fields yet (the contact lives on the care request); the
    # mark records that the retention pass has run, and new personal columns are cleared here.
    result = session.execute(
        update(Reservation).where(_reservations_due(cutoff)).values(anonymised_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


register_anonymiser(Anonymiser("reservation", _count_reservations, _anonymise_reservations))


def _requests_due(cutoff: datetime, open_statuses: Collection[str]) -> ColumnElement[bool]:
    """Closed (not open) requests whose stay ended, and which closed, before the cut-off."""
    last_day = cutoff.astimezone(clock.LOCAL_TZ).date()
    return (
        CareRequest.status.not_in(sorted(open_statuses))
        & (CareRequest.departure <= last_day)
        & (CareRequest.series_until.is_(None) | (CareRequest.series_until <= last_day))
        & (CareRequest.closed_at.is_(None) | (CareRequest.closed_at < cutoff))
        & CareRequest.anonymised_at.is_(None)
    )


def _count_requests(
    session: DbSession, cutoff: datetime, open_request_statuses: Collection[str]
) -> int:
    query = (
        select(func.count())
        .select_from(CareRequest)
        .where(_requests_due(cutoff, open_request_statuses))
    )
    return int(session.scalar(query) or 0)


def _anonymise_requests(
    session: DbSession, cutoff: datetime, now: datetime, open_request_statuses: Collection[str]
) -> int:
    # Names and the mobile number go; birth year, municipality, target group, dates, urgency,
    # reason and funding stay for the reports (doorlooptijd, placement rate, unmet demand).
    result = session.execute(
        update(CareRequest)
        .where(_requests_due(cutoff, open_request_statuses))
        .values(client_name="", contact_name="", contact_mobile="", anonymised_at=now)
        .values(contact_phone=None, contact_email=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


register_anonymiser(Anonymiser("care_request", _count_requests, _anonymise_requests))

_FINAL_MESSAGE = ("sent", "delivered", "undelivered", "failed", "skipped")


def _messages_due(cutoff: datetime) -> ColumnElement[bool]:
    return (
        OutboxMessage.status.in_(_FINAL_MESSAGE)
        & (OutboxMessage.created_at < cutoff)
        & (OutboxMessage.recipient != "")
    )


def _count_messages(
    session: DbSession, cutoff: datetime, open_request_statuses: Collection[str]
) -> int:
    outbound = select(func.count()).select_from(OutboxMessage).where(_messages_due(cutoff))
    inbound = (
        select(func.count())
        .select_from(InboundMessage)
        .where(InboundMessage.received_at < cutoff, InboundMessage.from_number != "")
    )
    return int(session.scalar(outbound) or 0) + int(session.scalar(inbound) or 0)


def _anonymise_messages(
    session: DbSession, cutoff: datetime, now: datetime, open_request_statuses: Collection[str]
) -> int:
    # The text and number of an SMS can name the client; the fact that it was sent stays.
    outbound = session.execute(
        update(OutboxMessage).where(_messages_due(cutoff)).values(recipient="", body="", context={})
    )
    inbound = session.execute(
        update(InboundMessage)
        .where(InboundMessage.received_at < cutoff, InboundMessage.from_number != "")
        .values(from_number="", body="")
    )
    return int(outbound.rowcount) + int(inbound.rowcount)  # type: ignore[attr-defined]


register_anonymiser(Anonymiser("sms", _count_messages, _anonymise_messages))


def _surveys_due(cutoff: datetime) -> ColumnElement[bool]:
    last_day = cutoff.astimezone(clock.LOCAL_TZ).date()
    return (SatisfactionSurvey.departure <= last_day) & SatisfactionSurvey.anonymised_at.is_(None)


def _count_surveys(
    session: DbSession, cutoff: datetime, open_request_statuses: Collection[str]
) -> int:
    query = select(func.count()).select_from(SatisfactionSurvey).where(_surveys_due(cutoff))
    return int(session.scalar(query) or 0)


def _anonymise_surveys(
    session: DbSession, cutoff: datetime, now: datetime, open_request_statuses: Collection[str]
) -> int:
    # An answer tied to a stay and an SMS tells what that family thought; the links go, the
    # score, gemeente, provider and departure date stay for the KPI.
    result = session.execute(
        update(SatisfactionSurvey)
        .where(_surveys_due(cutoff))
        .values(reservation_id=None, outbox_message_id=None, anonymised_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


register_anonymiser(Anonymiser("satisfaction", _count_surveys, _anonymise_surveys))


@dataclass
class PurgeReport:
    access_log_cutoff: datetime
    retention_cutoff: datetime
    complaint_cutoff: datetime
    access_log_rows: int = 0
    complaint_rows: int = 0
    anonymised: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def purge(
    session: DbSession,
    now: datetime,
    *,
    dry_run: bool,
    open_request_statuses: Collection[str],
    access_log_years: int = 5,
    retention_days: int = 365,
    complaint_retention_days: int = 365,
) -> PurgeReport:
    """Remove old access-log rows, anonymise records past retention and remove complaints
    older than `complaint_retention_days`. A care request whose status is in
    `open_request_statuses` is still being worked on and keeps its fields. Flushes, never
    commits; with dry_run it only counts."""
    log_cutoff = _years_before(now, access_log_years)
    retention_cutoff = now - timedelta(days=retention_days)
    complaint_cutoff = feedback.retention_cutoff(now, complaint_retention_days)
    report = PurgeReport(log_cutoff, retention_cutoff, complaint_cutoff, dry_run=dry_run)
    if dry_run:
        report.complaint_rows = feedback.count_due(session, complaint_cutoff)
    else:
        report.complaint_rows = feedback.purge_complaints(session, complaint_cutoff)
    old_rows = select(func.count()).select_from(AccessLog).where(AccessLog.at < log_cutoff)
    report.access_log_rows = int(session.scalar(old_rows) or 0)
    for anonymiser in _ANONYMISERS:
        if dry_run:
            report.anonymised[anonymiser.name] = anonymiser.count(
                session, retention_cutoff, open_request_statuses
            )
        else:
            report.anonymised[anonymiser.name] = anonymiser.run(
                session, retention_cutoff, now, open_request_statuses
            )
    if not dry_run and report.access_log_rows:
        report.access_log_rows = _purge_access_log_apart(session, log_cutoff)
    session.flush()
    return report


def _purge_access_log_apart(session: DbSession, cutoff: datetime) -> int:
    """Delete the old access-log rows inside a SAVEPOINT: when the database refuses (the app
    role lacks EXECUTE on access_log_purge()), only that step rolls back and the anonymising
    and other cleanups of the same transaction still commit; one error names the missing grant."""
    session.flush()
    try:
        with session.begin_nested():
            return _delete_access_log_before(session, cutoff)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == "42501":  # insufficient_privilege
            _log.error(
                "access log purge refused: this role lacks EXECUTE on access_log_purge(); the "
                "rest of the retention goes on. As the owner role run: GRANT EXECUTE ON "
                "FUNCTION access_log_purge(timestamp without time zone) TO <app role>;"
            )
        else:
            _log.error(
                "access log purge failed (%s); the rest of the retention goes on",
                type(error.orig).__name__,
            )
        return 0


def _years_before(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def _delete_access_log_before(session: DbSession, cutoff: datetime | None) -> int:
    """Delete access-log rows older than `cutoff` (None: every row, SQLite only), the one way
    the database lets through (ADR 0009).

    PostgreSQL: the SECURITY DEFINER function access_log_purge(), which deletes as its owner
    with the purge switch on; a role without EXECUTE on it gets an error, and it refuses a
    cutoff later than one year ago (or none) for everybody. SQLite: the DELETE
    trigger's function answers 1 on this connection for this statement only.
    """
    if session.get_bind().dialect.name == "postgresql":
        purge_call = text("SELECT access_log_purge(CAST(:cutoff AS timestamp))")
        naive = None if cutoff is None else cutoff.astimezone(UTC).replace(tzinfo=None)
        return int(session.execute(purge_call, {"cutoff": naive}).scalar_one())
    statement = delete(AccessLog)
    if cutoff is not None:
        statement = statement.where(AccessLog.at < cutoff)
    session.flush()
    driver = session.connection().connection.driver_connection
    permit_access_log_purge(driver, True)  # type: ignore[arg-type]
    try:
        result = session.execute(statement.execution_options(synchronize_session=False))
    finally:
        permit_access_log_purge(driver, False)  # type: ignore[arg-type]
    return int(result.rowcount)  # type: ignore[attr-defined]


def empty_access_log_for_tests(session: DbSession) -> None:
    """Remove every row (test fixtures only: they empty all tables between tests).

    PostgreSQL: access_log_purge() refuses a recent cutoff, so this switches the append-only
    triggers off for one statement with session_replication_role, which only a superuser (the
    test suite's connection) may set; the app role cannot take this way."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
        try:
            session.execute(delete(AccessLog).execution_options(synchronize_session=False))
        finally:
            session.execute(text("SET LOCAL session_replication_role = DEFAULT"))
        return
    _delete_access_log_before(session, None)
