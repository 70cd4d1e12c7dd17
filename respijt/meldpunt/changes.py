"""Changes to the rota: coordinator overrides and swaps between providers, each in the history."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select

from respijt.database import DbSession
from respijt.errors import DomainError, Forbidden, InvalidInput, NotFound
from respijt.meldpunt import notices
from respijt.meldpunt.generation import record_event
from respijt.models import ProviderRegion, RotaShift, RotaSwap


class RotaConflict(DomainError):
    status = 409
    title = "Wijziging rooster niet mogelijk"
    code = "rota_conflict"


# --- overrides and swaps --------------------------------------------------------------------


def _shift_for_update(session: DbSession, shift_id: int) -> RotaShift:
    shift = session.scalars(
        select(RotaShift).where(RotaShift.id == shift_id).with_for_update()
    ).first()
    if shift is None:
        raise NotFound(f"Dienst {shift_id} bestaat niet.")
    return shift


def _ensure_serves(session: DbSession, provider_id: int, region_id: int) -> None:
    served = session.get(ProviderRegion, (provider_id, region_id))
    if served is None:
        raise InvalidInput(
            "Deze aanbieder werkt niet in deze regio.",
            [{"name": "provider_id", "code": "not_in_region", "reason": "Niet in deze regio."}],
        )


# A quarter: longer periods are the generated rota's work; a ten-year override is a typo or abuse.
MAX_OVERRIDE = timedelta(days=92)


def apply_override(
    session: DbSession,
    region_id: int,
    *,
    provider_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    now: datetime,
    reason: str | None = None,
    told: notices.Told | None = None,
) -> RotaShift | None:
    """The coordinator puts `provider_id` on duty for [starts_at, ends_at) (None: nobody).

    Shifts that overlap are shortened (the part before), continued by a new row (the part after),
    or replaced when covered entirely. The providers concerned get an SMS; who did, and who has
    no mobile, is added to `told` when given (for the page's message). A gap it opens (nobody on
    duty) is alerted to the coordinator at once.
    """
    if ends_at <= starts_at:
        raise InvalidInput(
            "Het einde moet na het begin liggen.",
            [{"name": "ends_at", "code": "before_start", "reason": "Vóór het begin."}],
        )
    if ends_at <= now:
        raise InvalidInput(
            "Een wijziging in het verleden is niet mogelijk.",
            [{"name": "ends_at", "code": "in_past", "reason": "Ligt in het verleden."}],
        )
    if ends_at - starts_at > MAX_OVERRIDE:
        days = MAX_OVERRIDE.days
        raise InvalidInput(
            f"Een wijziging van het rooster duurt hoogstens {days} dagen. "
            "Splits een langere periode in delen.",
            [
                {
                    "name": "ends_at",
                    "code": "too_long",
                    "reason": f"Meer dan {days} dagen na het begin.",
                }
            ],
        )
    if provider_id is not None:
        _ensure_serves(session, provider_id, region_id)
    overlapping = list(
        session.scalars(
            select(RotaShift)
            .where(
                RotaShift.region_id == region_id,
                RotaShift.status == "active",
                RotaShift.starts_at < ends_at,
                RotaShift.ends_at > starts_at,
            )
            .order_by(RotaShift.starts_at)
            .with_for_update()
        )
    )
    cut = [
        (s.provider_id, max(s.starts_at, starts_at), min(s.ends_at, ends_at)) for s in overlapping
    ]
    continuations: list[RotaShift] = []
    for shift in overlapping:
        if shift.ends_at > ends_at:
            continuations.append(
                RotaShift(
                    region_id=region_id,
                    provider_id=shift.provider_id,
                    starts_at=ends_at,
                    ends_at=shift.ends_at,
                    kind=shift.kind,
                    status="active",
                    holiday=shift.holiday,
                    replaces_id=shift.id,
                    created_at=now,
                )
            )
        if shift.starts_at < starts_at:
            shift.ends_at = starts_at
        else:
            shift.status = "replaced"
    session.flush()  # free the (region, start) slots before new rows take them
    created: RotaShift | None = None
    if provider_id is not None:
        created = RotaShift(
            region_id=region_id,
            provider_id=provider_id,
            starts_at=starts_at,
            ends_at=ends_at,
            kind="override",
            status="active",
            holiday=False,
            created_at=now,
        )
        session.add(created)
    session.add_all(continuations)
    session.flush()
    record_event(
        session,
        region_id,
        "override",
        actor,
        now,
        shift_id=created.id if created else None,
        provider_id=provider_id,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
        reason=reason,
        touched=[s.id for s in overlapping],
    )
    heard = notices.tell_override(
        session,
        region_id,
        provider_id=provider_id,
        starts_at=starts_at,
        ends_at=ends_at,
        cut=cut,
        now=now,
    )
    if told is not None:
        told += heard
    if provider_id is None:
        # An override to nobody opens a gap: the coordinator hears it now, not at the nightly
        # check (`notices.alert_gaps`, deduped by the gap's start, so that check adds nothing).
        session.flush()
        days = max(1, math.ceil((ends_at - now) / timedelta(days=1)))
        notices.alert_gaps(session, now=now, horizon_days=days, region_id=region_id)
    session.flush()
    return created


def offer_swap(
    session: DbSession, shift_id: int, *, provider_id: int, now: datetime, note: str | None = None
) -> RotaSwap:
    shift = _shift_for_update(session, shift_id)
    if shift.provider_id != provider_id:
        raise Forbidden("U kunt alleen een eigen dienst ter ruil aanbieden.")
    if shift.status != "active" or shift.starts_at <= now:
        raise RotaConflict("Alleen een dienst die nog moet beginnen kan worden geruild.")
    existing = session.scalars(
        select(RotaSwap).where(
            RotaSwap.shift_id == shift.id, RotaSwap.status.in_(("open", "taken"))
        )
    ).first()
    if existing is not None:
        raise RotaConflict("Voor deze dienst loopt al een ruilverzoek.", swap_id=existing.id)
    swap = RotaSwap(
        shift_id=shift.id,
        region_id=shift.region_id,
        offered_by_id=provider_id,
        status="open",
        note=note,
        created_at=now,
    )
    session.add(swap)
    session.flush()
    _swap_event(session, swap, "swap_offered", f"provider:{provider_id}", now)
    session.flush()
    return swap


def _swap_event(session: DbSession, swap: RotaSwap, kind: str, actor: str, now: datetime) -> None:
    """A rota event about `swap` and the shift it offers."""
    record_event(session, swap.region_id, kind, actor, now, shift_id=swap.shift_id, swap_id=swap.id)


def _swap_for_update(session: DbSession, swap_id: int) -> RotaSwap:
    swap = session.scalars(select(RotaSwap).where(RotaSwap.id == swap_id).with_for_update()).first()
    if swap is None:
        raise NotFound(f"Ruilverzoek {swap_id} bestaat niet.")
    return swap


def _complete_swap(
    session: DbSession,
    swap: RotaSwap,
    now: datetime,
    actor: str,
    told: notices.Told | None = None,
) -> RotaShift:
    shift = _shift_for_update(session, swap.shift_id)
    if shift.status != "active" or shift.provider_id != swap.offered_by_id or shift.ends_at <= now:
        swap.status = "refused"
        swap.decided_at = now
        session.flush()
        raise RotaConflict("De dienst is intussen gewijzigd; het ruilverzoek vervalt.")
    assert swap.taken_by_id is not None
    shift.status = "replaced"
    session.flush()
    replacement = RotaShift(
        region_id=shift.region_id,
        provider_id=swap.taken_by_id,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        kind="swap",
        status="active",
        holiday=shift.holiday,
        replaces_id=shift.id,
        created_at=now,
    )
    session.add(replacement)
    swap.status = "done"
    swap.decided_at = now
    session.flush()
    record_event(
        session,
        shift.region_id,
        "swap_done",
        actor,
        now,
        shift_id=replacement.id,
        swap_id=swap.id,
        from_provider=swap.offered_by_id,
        to_provider=swap.taken_by_id,
    )
    heard = notices.tell_swap_done(session, swap, replacement, now)
    if told is not None:
        told += heard
    session.flush()
    return replacement


def take_swap(
    session: DbSession, swap_id: int, *, provider_id: int, now: datetime, approval_required: bool
) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.status != "open":
        raise RotaConflict("Dit ruilverzoek staat niet meer open.")
    if swap.offered_by_id == provider_id:
        raise RotaConflict("U kunt uw eigen dienst niet overnemen.")
    member = session.get(ProviderRegion, (provider_id, swap.region_id))
    if member is None or not member.in_pool:
        raise Forbidden("Alleen aanbieders uit de pool van deze regio kunnen een dienst overnemen.")
    swap.taken_by_id = provider_id
    swap.status = "taken"
    session.flush()
    _swap_event(session, swap, "swap_taken", f"provider:{provider_id}", now)
    if not approval_required:
        _complete_swap(session, swap, now, f"provider:{provider_id}")
    session.flush()
    return swap


def approve_swap(
    session: DbSession,
    swap_id: int,
    *,
    actor: str,
    now: datetime,
    told: notices.Told | None = None,
) -> RotaSwap:
    """The coordinator approves a taken swap; both sides hear it (added to `told`, as in
    `apply_override`)."""
    swap = _swap_for_update(session, swap_id)
    if swap.status != "taken":
        raise RotaConflict("Alleen een overgenomen ruilverzoek kan worden goedgekeurd.")
    _complete_swap(session, swap, now, actor, told)
    return swap


def refuse_swap(
    session: DbSession,
    swap_id: int,
    *,
    actor: str,
    now: datetime,
    told: notices.Told | None = None,
) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.status not in ("open", "taken"):
        raise RotaConflict("Dit ruilverzoek is al afgehandeld.")
    swap.status = "refused"
    swap.decided_at = now
    _swap_event(session, swap, "swap_refused", actor, now)
    heard = notices.tell_swap_refused(session, swap, now)
    if told is not None:
        told += heard
    session.flush()
    return swap


def withdraw_swap(session: DbSession, swap_id: int, *, provider_id: int, now: datetime) -> RotaSwap:
    swap = _swap_for_update(session, swap_id)
    if swap.offered_by_id != provider_id:
        raise Forbidden("Alleen de aanbieder die de dienst aanbood kan het verzoek intrekken.")
    if swap.status != "open":
        raise RotaConflict("Een ruilverzoek kan alleen worden ingetrokken zolang niemand het nam.")
    swap.status = "withdrawn"
    swap.decided_at = now
    _swap_event(session, swap, "swap_withdrawn", f"provider:{provider_id}", now)
    session.flush()
    return swap
