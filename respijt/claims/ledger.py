"""Claim lines as a provider sees them: exported (frozen) lines plus what is pending.

Line ids are stable: `<reservation>-<YYYYMM>-v<version>-<DD>` (DD = the first night of the
segment), and a credit line is the credited line's id plus `-C`. Recomputing a month that did not
change gives the same ids; a stay changed after export credits every open exported line of that
stay-month and reissues its segments under the next version. Provisional lines are exported too
(the provider sees what is coming); when such a stay is delivered unchanged nothing is corrected,
and the month view shows the line's current `provisional` state (an export batch shows the state
it was exported with).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select

from respijt.claims.lines import PAYERS, Segment, financial_key, month_segments
from respijt.claims.months import Month
from respijt.database import DbSession
from respijt.errors import InvalidInput, NotFound
from respijt.models import ClaimExport, ClaimLine, Provider
from respijt.people.caller import municipality_in_visible_regions

NOTE = (
    "Deze regels zijn een specificatie: neem ze over in uw eigen declaratiesysteem (iWmo of de "
    "declaratie aan zorgverzekeraar/zorgkantoor). respijt bewaart geen BSN en verstuurt daarom "
    "zelf geen declaraties."
)


@dataclass(frozen=True)
class LineView:
    line_id: str
    kind: str  # claim | credit
    credits: str | None
    version: int
    month: str
    reservation_id: int
    provider_id: int
    municipality_id: int
    location_id: int
    client_reference: str
    funding: str
    product_code: str | None
    price_cents: int | None
    period_from: date
    period_to: date
    nights: int
    amount_cents: int | None
    provisional: bool
    export_id: int | None = None
    export_seq: int | None = None
    exported_at: datetime | None = None

    @property
    def payer(self) -> str | None:
        return PAYERS.get(self.funding)

    @property
    def is_gemeente_claim(self) -> bool:
        return self.funding == "wmo"

    def key(self) -> tuple[object, ...]:
        return financial_key(self)


def line_id(reservation_id: int, month: Month, version: int, first_night: date) -> str:
    return f"{reservation_id}-{month.compact}-v{version}-{first_night.day:02d}"


def _from_segment(segment: Segment, month: Month, version: int) -> LineView:
    return LineView(
        line_id=line_id(segment.reservation_id, month, version, segment.period_from),
        kind="claim",
        credits=None,
        version=version,
        month=str(month),
        reservation_id=segment.reservation_id,
        provider_id=segment.provider_id,
        municipality_id=segment.municipality_id,
        location_id=segment.location_id,
        client_reference=segment.client_reference,
        funding=segment.funding,
        product_code=segment.product_code,
        price_cents=segment.price_cents,
        period_from=segment.period_from,
        period_to=segment.period_to,
        nights=segment.nights,
        amount_cents=segment.amount_cents,
        provisional=segment.provisional,
    )


def _from_row(row: ClaimLine, export: ClaimExport, credited: dict[int, str]) -> LineView:
    return LineView(
        line_id=row.line_id,
        kind=row.kind,
        credits=credited.get(row.credits_line_id) if row.credits_line_id else None,
        version=row.version,
        month=row.month,
        reservation_id=row.reservation_id,
        provider_id=row.provider_id,
        municipality_id=row.municipality_id,
        location_id=row.location_id,
        client_reference=row.client_reference,
        funding=row.funding,
        product_code=row.product_code,
        price_cents=row.price_cents,
        period_from=row.period_from,
        period_to=row.period_to,
        nights=row.nights,
        amount_cents=row.amount_cents,
        provisional=row.provisional,
        export_id=export.id,
        export_seq=export.seq,
        exported_at=export.exported_at,
    )


def _credit_of(line: LineView) -> LineView:
    return replace(
        line,
        line_id=f"{line.line_id}-C",
        kind="credit",
        credits=line.line_id,
        nights=-line.nights,
        amount_cents=None if line.amount_cents is None else -line.amount_cents,
        provisional=False,
        export_id=None,
        export_seq=None,
        exported_at=None,
    )


def _stored(
    session: DbSession,
    month: Month,
    provider_id: int | None,
    export_id: int | None = None,
    regions: frozenset[int] | None = None,
) -> list[LineView]:
    query = (
        select(ClaimLine, ClaimExport)
        .join(ClaimExport, ClaimExport.id == ClaimLine.export_id)
        .where(
            ClaimLine.month == str(month),
            municipality_in_visible_regions(regions, ClaimLine.municipality_id),
        )
        .order_by(ClaimLine.id)
    )
    if provider_id is not None:
        query = query.where(ClaimLine.provider_id == provider_id)
    if export_id is not None:
        query = query.where(ClaimLine.export_id == export_id)
    rows = session.execute(query).all()
    ids = {line.id: line.line_id for line, _ in rows}
    missing = {line.credits_line_id for line, _ in rows if line.credits_line_id} - ids.keys()
    if missing:
        ids.update(
            session.execute(
                select(ClaimLine.id, ClaimLine.line_id).where(ClaimLine.id.in_(missing))
            ).all()
        )
    return [_from_row(line, export, ids) for line, export in rows]


def month_lines(
    session: DbSession,
    month: Month,
    *,
    today: date,
    provider_id: int | None = None,
    regions: frozenset[int] | None = None,
) -> list[LineView]:
    """All lines of a month: exported ones first (in export order), then pending ones; only
    lines whose municipality lies in `regions` when given (`auth.visible_regions()`)."""
    stored = _stored(session, month, provider_id, regions=regions)
    live: dict[int, list[Segment]] = defaultdict(list)
    segments = month_segments(session, month, today=today, provider_id=provider_id, regions=regions)
    for segment in segments:
        live[segment.reservation_id].append(segment)
    by_reservation: dict[int, list[LineView]] = defaultdict(list)
    for line in stored:
        by_reservation[line.reservation_id].append(line)
    pending: list[LineView] = []
    current: dict[str, bool] = {}  # exported line id -> provisional now
    for reservation_id in sorted(live.keys() | by_reservation.keys()):
        history = by_reservation.get(reservation_id, [])
        segments = live.get(reservation_id, [])
        credited = {line.credits for line in history if line.kind == "credit"}
        open_claims = [
            line for line in history if line.kind == "claim" and line.line_id not in credited
        ]
        # A fresh version whenever the previous lines were all credited, so ids never repeat.
        latest = max((line.version for line in history), default=0)
        version = max((line.version for line in open_claims), default=latest + 1)
        live_by_key = {s.key(): s for s in segments}
        if all(line.key() in live_by_key for line in open_claims):
            exported_keys = {line.key() for line in open_claims}
            for line in open_claims:
                current[line.line_id] = live_by_key[line.key()].provisional
            pending.extend(
                _from_segment(s, month, version) for s in segments if s.key() not in exported_keys
            )
        else:
            pending.extend(_credit_of(line) for line in open_claims)
            pending.extend(_from_segment(s, month, latest + 1) for s in segments)
    stored = [
        replace(line, provisional=current.get(line.line_id, line.provisional)) for line in stored
    ]
    return stored + pending


def _next_seq(session: DbSession, provider_id: int, month: Month) -> int:
    current = session.scalar(
        select(func.max(ClaimExport.seq)).where(
            ClaimExport.provider_id == provider_id, ClaimExport.month == str(month)
        )
    )
    return int(current or 0) + 1


def latest_export(session: DbSession, provider_id: int, month: Month) -> ClaimExport | None:
    return session.scalar(
        select(ClaimExport)
        .where(ClaimExport.provider_id == provider_id, ClaimExport.month == str(month))
        .order_by(ClaimExport.seq.desc())
        .limit(1)
    )


def export_month(
    session: DbSession,
    month: Month,
    *,
    provider_id: int,
    actor: str,
    now: datetime,
    today: date,
) -> tuple[ClaimExport | None, bool]:
    """Freeze the provider's pending lines of `month` (credits, corrections, new and
    provisional lines) in a new export batch.

    Returns (batch, created). With nothing pending, the latest batch is returned unchanged, so
    exporting twice gives the same answer.
    """
    # One export per provider at a time: on PostgreSQL the row lock makes a second export wait
    # and then see the first one's lines (READ COMMITTED); SQLite writes one at a time anyway.
    locked = select(Provider.id).where(Provider.id == provider_id).with_for_update()
    if session.scalar(locked) is None:
        raise NotFound("Deze aanbieder bestaat niet.")
    if month.first > today:
        raise InvalidInput(
            "Een maand die nog niet begonnen is, kan niet worden geëxporteerd.",
            [{"name": "month", "code": "future", "reason": "Kies deze of een eerdere maand."}],
        )
    lines = month_lines(session, month, today=today, provider_id=provider_id)
    todo = [line for line in lines if line.export_id is None]
    if not todo:
        return latest_export(session, provider_id, month), False
    export = ClaimExport(
        provider_id=provider_id,
        month=str(month),
        seq=_next_seq(session, provider_id, month),
        exported_at=now,
        exported_by=actor,
    )
    session.add(export)
    session.flush()
    db_ids = dict(
        session.execute(
            select(ClaimLine.line_id, ClaimLine.id).where(
                ClaimLine.month == str(month), ClaimLine.provider_id == provider_id
            )
        ).all()
    )
    for line in todo:
        session.add(
            ClaimLine(
                line_id=line.line_id,
                export_id=export.id,
                kind=line.kind,
                credits_line_id=db_ids[line.credits] if line.credits else None,
                version=line.version,
                month=line.month,
                reservation_id=line.reservation_id,
                provider_id=line.provider_id,
                municipality_id=line.municipality_id,
                location_id=line.location_id,
                client_reference=line.client_reference,
                funding=line.funding,
                product_code=line.product_code,
                price_cents=line.price_cents,
                period_from=line.period_from,
                period_to=line.period_to,
                nights=line.nights,
                amount_cents=line.amount_cents,
                provisional=line.provisional,
            )
        )
    session.flush()
    return export, True


def export_lines(
    session: DbSession, export: ClaimExport, regions: frozenset[int] | None = None
) -> list[LineView]:
    """The lines of one export batch, exactly as they were frozen (only those whose
    municipality lies in `regions` when given)."""
    return _stored(session, Month.parse(export.month), export.provider_id, export.id, regions)
