"""Neutrality per duty shift and month (`claims.neutrality`), on the KPI tests' dataset: the
meldpunt provider P was on duty all of March 2027 and offered 5 beds, 3 of them its own, while
it had 54 of the region's 78 free bed-nights."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from respijt import clock
from respijt.claims import neutrality
from respijt.claims.months import Month
from respijt.models import Region, RotaShift
from tests.claims.test_kpis import build


def test_each_duty_provider_gets_its_own_beds_against_its_share_of_free_beds(db, make):
    data = build(db, make)
    region_id = db.session.scalar(select(Region.id))
    figures = neutrality.neutrality_month(db.session, region_id, Month(2027, 3))
    [p] = figures["providers"]
    assert p["provider"] == {"id": data.p.id, "name": "Pool Zorg"}
    assert p["shifts"] == 1
    assert (p["shown"], p["own_shown"], p["own_shown_share"]) == (10, 5, 0.5)
    # Five offers by P as meldpunt; three in its own beds: a count under 5 is hidden, the
    # share over five offers is shown.
    assert (p["offered"], p["own_offered"], p["own_offered_share"]) == (5, None, 0.6)
    assert (p["chosen"], p["confirmed"], p["own_confirmed_share"]) == (5, 5, 0.6)
    # Free bed-nights in March: UP 62 - 8 = 54 (P's), UQ 31 - 7 = 24.
    assert (p["free_bed_nights"], p["own_free_bed_nights"]) == (78, 54)
    assert p["own_free_share"] == round(54 / 78, 4)
    assert f"providers.{data.p.id}.own_offered" in figures["suppressed"]
    [shift] = figures["shifts"]
    assert shift["provider"]["name"] == "Pool Zorg"
    assert shift["starts_at"] == clock.local_midnight_utc(date(2027, 3, 1))


def test_a_month_split_between_two_providers_counts_each_shift_for_its_own_provider(db, make):
    data = build(db, make)
    region_id = db.session.scalar(select(Region.id))
    # Q takes over from 10 March: P's offers after that (none) would be Q's shift's, and Q
    # offered nothing as meldpunt.
    shift = db.session.scalars(select(RotaShift)).one()
    split = clock.local_midnight_utc(date(2027, 3, 10))
    db.session.add(
        RotaShift(
            region_id=region_id,
            provider_id=data.q.id,
            starts_at=split,
            ends_at=shift.ends_at,
            kind="override",
            status="active",
            created_at=clock.now(),
        )
    )
    shift.ends_at = split
    db.session.commit()
    figures = neutrality.neutrality_month(db.session, region_id, Month(2027, 3))
    by_name = {row["provider"]["name"]: row for row in figures["providers"]}
    assert set(by_name) == {"Pool Zorg", "Q Zorg"}
    # P made its offers on 1–4 March (in its shift); p5's options were shown on 14 March,
    # in Q's shift, but the offer was P's (made at the frozen clock, 1 March).
    assert by_name["Pool Zorg"]["offered"] == 5
    assert by_name["Q Zorg"]["offered"] == 0 and by_name["Q Zorg"]["own_offered_share"] is None
    assert by_name["Q Zorg"]["shown"] == 2 and by_name["Q Zorg"]["own_shown"] == 1
    # The free beds follow the nights of each shift: Q had UQ's free nights from 10 March.
    assert by_name["Q Zorg"]["own_free_bed_nights"] > 0
    assert len(figures["shifts"]) == 2
    assert figures["shifts"][1]["starts_at"] == split
    assert figures["shifts"][0]["ends_at"] - figures["shifts"][0]["starts_at"] < timedelta(days=10)
