"""Smoke test of the reporting benchmark: history is added consistently and every measured
report answers (the timings themselves are not tests; they go to docs/performance.md)."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.generate import generate
from bench.history import add_history
from bench.reports import run
from respijt import create_app
from respijt.claims.leegstand import total_occupancy, unit_occupancy
from respijt.extensions import db
from respijt.models import AccessLog, CareRequest, NightInventory, Reservation
from respijt.reservations.check import find_inventory_mismatches


def test_history_fills_a_year_and_every_report_of_the_benchmark_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    generate(url, scale=1, nights=10, regions=1, progress=lambda _msg: None)
    counts = add_history(url, years=1, stays_per_year=600, progress=lambda _msg: None)

    assert counts["reservation"] == counts["care_request"] == 600
    assert counts["access_log"] == 600 * 5
    # Every finished month is counted and kept, as the scheduler would have; the register
    # below reads those months from the kept figures.
    assert counts["months"] >= 12
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        session = db.session
        past = session.scalar(
            select(func.count()).select_from(Reservation).where(Reservation.request_id.is_not(None))
        )
        assert past == 600
        assert session.scalar(select(func.count()).select_from(AccessLog)) == 3000
        assert session.scalar(select(func.count()).select_from(CareRequest)) == 600
        # Past stays never overbook a night, and the register counts exactly their nights.
        assert not session.scalar(
            select(func.count())
            .select_from(NightInventory)
            .where(NightInventory.reserved > NightInventory.capacity)
        )
        assert find_inventory_mismatches(session) == []
        first, last = session.execute(
            select(func.min(NightInventory.night), func.max(NightInventory.night))
        ).one()
        stays = session.execute(
            select(Reservation.arrival, Reservation.departure).where(
                Reservation.request_id.is_not(None),
                Reservation.status.in_(("completed", "no_show")),
            )
        ).all()
        nights = sum((departure - arrival).days for arrival, departure in stays)
        # completed stays count as used; no-shows do not (USED_STATUSES)
        completed = session.execute(
            select(Reservation.arrival, Reservation.departure).where(
                Reservation.request_id.is_not(None), Reservation.status == "completed"
            )
        ).all()
        used = total_occupancy(unit_occupancy(session, first, last))["used_bed_nights"]
        assert used == sum((d - a).days for a, d in completed) + _generated_used(session)
        assert nights >= used - _generated_used(session)
        session.remove()
        db.engine.dispose()

    result = run(url, repeat=1, progress=lambda _msg: None)
    assert [row["name"] for row in result["rows"]][:2] == [
        "Kerncijfers regio, maand",
        "Kerncijfers regio, jaar",
    ]
    assert all(row["n"] >= 1 and row["p95"] > 0 for row in result["rows"])


def _generated_used(session) -> int:
    """Bed-nights of the registry generator's own confirmed stays (today onwards)."""
    rows = session.execute(
        select(Reservation.arrival, Reservation.departure).where(
            Reservation.request_id.is_(None), Reservation.status == "confirmed"
        )
    ).all()
    return sum((d - a).days for a, d in rows)
