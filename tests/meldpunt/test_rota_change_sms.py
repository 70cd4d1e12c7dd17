"""Rota changes tell both sides by SMS (outbox rows through `meldpunt.notices`): a completed
swap the one who offered and the one who took over, a refused swap both, an override the
provider put on duty and the one whose duty it cut."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from respijt import clock
from respijt.meldpunt import changes
from respijt.messages import texts
from respijt.models import OutboxMessage
from tests.meldpunt.test_rota import T0, active, generate, pool_region

MOBILES = ("+31611110001", "+31611110002", "+31611110003")


def _setup(db, make, providers: int = 2):
    clock.freeze(T0)
    region, pool = pool_region(make, db, weights=(1,) * providers)
    for provider, mobile in zip(pool, MOBILES, strict=False):
        provider.staff_mobiles = [mobile]
    db.session.commit()
    generate(db, region)
    return region, pool


def _sms(db) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (m.template, m.recipient)
        for m in db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.template.like("rota_swap%")
                | OutboxMessage.template.like("rota_override%")
            )
            .order_by(OutboxMessage.id)
        )
    ]


def _mobile(pool, provider_id: int) -> str:
    return MOBILES[[p.id for p in pool].index(provider_id)]


def test_a_completed_swap_tells_the_one_who_offered_and_the_one_who_took_over(db, make):
    region, pool = _setup(db, make)
    shift = active(db, region)[1]
    offerer = shift.provider_id
    taker = next(p.id for p in pool if p.id != offerer)
    swap = changes.offer_swap(db.session, shift.id, provider_id=offerer, now=clock.now())
    changes.take_swap(
        db.session, swap.id, provider_id=taker, now=clock.now(), approval_required=True
    )
    assert _sms(db) == []  # taken, waiting for the coordinator: nothing has changed yet
    changes.approve_swap(db.session, swap.id, actor="user:1", now=clock.now())
    db.session.commit()
    assert _sms(db) == [
        ("rota_swap_done_offerer", _mobile(pool, offerer)),
        ("rota_swap_done_taker", _mobile(pool, taker)),
    ]
    bodies = [m.body for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    when = texts.format_datetime_nl(shift.starts_at)
    assert any("is overgenomen" in b and when in b for b in bodies)
    assert any("U heeft dienst van" in b and when in b for b in bodies)


def test_a_refused_swap_tells_both_sides_the_rota_stays(db, make):
    region, pool = _setup(db, make)
    shift = active(db, region)[2]
    offerer = shift.provider_id
    taker = next(p.id for p in pool if p.id != offerer)
    swap = changes.offer_swap(db.session, shift.id, provider_id=offerer, now=clock.now())
    changes.take_swap(
        db.session, swap.id, provider_id=taker, now=clock.now(), approval_required=True
    )
    changes.refuse_swap(db.session, swap.id, actor="user:1", now=clock.now())
    db.session.commit()
    assert _sms(db) == [
        ("rota_swap_refused", _mobile(pool, offerer)),
        ("rota_swap_refused", _mobile(pool, taker)),
    ]


def test_an_override_tells_who_takes_the_duty_and_whose_duty_was_cut(db, make):
    region, pool = _setup(db, make, providers=3)
    shift = active(db, region)[1]
    cut_off = shift.provider_id
    other = next(p.id for p in pool if p.id != cut_off)
    starts, ends = shift.starts_at + timedelta(days=2), shift.starts_at + timedelta(days=3)
    changes.apply_override(
        db.session,
        region.id,
        provider_id=other,
        starts_at=starts,
        ends_at=ends,
        actor="user:1",
        now=clock.now(),
    )
    db.session.commit()
    assert _sms(db) == [
        ("rota_override_on", _mobile(pool, other)),
        ("rota_override_off", _mobile(pool, cut_off)),
    ]
    off = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "rota_override_off")
    ).one()
    assert off.context["starts_at"] == starts.isoformat()
    assert off.context["ends_at"] == ends.isoformat()
    assert "geen dienst meer van" in off.body
