"""Smoke test of the benchmark data generator (the benchmarks themselves are not tests)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench.generate import generate
from respijt import availability, booking, clock, create_app
from respijt.extensions import db
from respijt.models import NightInventory, Region, Reservation, Unit


def test_generator_builds_a_consistent_small_dataset_through_the_migrations(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    counts = generate(url, scale=1, nights=30, regions=1, progress=lambda _msg: None)

    assert (counts.regions, counts.municipalities, counts.units) == (1, 14, 240)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Region)) == 1
        live_units = session.scalar(
            select(func.count()).select_from(Unit).where(Unit.retired_at.is_(None))
        )
        assert counts.nights == live_units * 30
        assert session.scalar(select(func.count()).select_from(NightInventory)) == counts.nights
        assert session.scalar(select(func.count()).select_from(Reservation)) == counts.reservations
        # Invariant 2 holds for the generated reservations, and nothing is overbooked.
        assert booking.find_inventory_mismatches(session) == []
        assert not session.scalar(
            select(func.count())
            .select_from(NightInventory)
            .where(NightInventory.reserved > NightInventory.capacity)
        )
        # The benchmarked search finds units in the generated region.
        today = clock.today()
        answer = availability.search(
            session,
            availability.SearchFilters(region="R001"),
            today,
            today + timedelta(days=14),
            clock.now(),
            72,
        )
        assert sum(len(loc["units"]) for loc in answer["locations"]) == live_units
        session.remove()
        db.engine.dispose()


def test_generator_refuses_a_database_that_is_not_empty(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    generate(url, scale=1, nights=3, regions=1, progress=lambda _msg: None)
    try:
        generate(url, scale=1, nights=3, regions=1, progress=lambda _msg: None)
    except SystemExit as exc:
        assert "niet leeg" in str(exc)
    else:
        raise AssertionError("a second run on the same database must be refused")


def test_the_holds_benchmark_runs_every_way_without_overbooking(backend, tmp_path):
    """bench.holds' floor runs booking_sql's own statements on a plain driver connection (one
    statement on PostgreSQL): both ways must hold beds and leave the inventory consistent, or
    the figures mean nothing. Over HTTP (gunicorn) it also says where the CPU went: the
    workers, the PostgreSQL server processes (not for SQLite, inside the workers), the client."""
    from bench import holds, run_all
    from bench.common import postgres_cpu_snapshot
    from tests.conftest import make_database

    url, drop = make_database(backend, str(tmp_path))
    postgres_here = postgres_cpu_snapshot() is not None
    try:
        generate(url, scale=1, nights=40, regions=1, progress=lambda _msg: None)
        result = holds.run(
            url,
            clients=[2],
            seconds=0.3,
            warmup=0.1,
            rounds=1,
            progress=lambda _m: None,
            ways=("domain", "http"),
        )
    finally:
        drop()
    assert result["overbooked"] == 0
    domain, http = result["rows"]
    assert (domain["kind"], http["kind"]) == ("domain", "http")
    for row in (domain, http):
        assert row["rate"] > 0 and row["floor"] > 0 and row["errors"] == 0
    for cpu in http["cpu_ms"].values():
        assert cpu["server"] > 0 and cpu["client"] > 0
        # PostgreSQL's processes are read when its server runs on this machine (as in CI).
        assert (cpu["database"] is None) == (backend == "sqlite" or not postgres_here)
        assert cpu["database"] is None or cpu["database"] >= 0
    assert "CPU ms per verzoek: hold server" in holds.describe(result)
    # The README's table: one row for the HTTP measurement, its totals the sums of its parts.
    [row_line] = [line for line in run_all.cpu_table([result]) if line.startswith(f"| {backend}")]
    cells = [cell.strip() for cell in row_line.strip("|").split("|")]
    hold_parts = [0.0 if part == "–" else float(part) for part in cells[2].split(" + ")]
    assert float(cells[3]) == pytest.approx(sum(hold_parts), abs=0.011)
    assert float(cells[6]) == pytest.approx(sum(map(float, cells[5].split(" + "))), abs=0.011)
    assert 0 < float(cells[4]) <= 2.5 and 0 < float(cells[7]) <= 2.5  # cores busy, of 2


def test_the_holds_floor_draws_a_taken_short_code_anew(backend, tmp_path, monkeypatch):
    """As the domain way does: a short code already taken must not count as a failed hold."""
    from sqlalchemy import create_engine, text

    from bench import holds
    from bench.common import sqlalchemy_url
    from tests.conftest import make_database

    # The first three codes the floor draws are one already in use; then random ones.
    drawn = iter(["TAKEN001"] * 3)
    random_code = holds._floor_short_code
    monkeypatch.setattr(holds, "_floor_short_code", lambda: next(drawn, None) or random_code())
    url, drop = make_database(backend, str(tmp_path))
    try:
        generate(url, scale=1, nights=40, regions=1, progress=lambda _msg: None)
        engine = create_engine(sqlalchemy_url(url))
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE reservation SET short_code = 'TAKEN001' "
                    "WHERE id = (SELECT min(id) FROM reservation)"
                )
            )
        bench = holds.Bench(url, seconds=0.2, http_workers=1)
        try:
            result = bench.raw_floor(1)
        finally:
            bench.close()
        with engine.connect() as conn:
            taken = conn.scalar(
                text("SELECT count(*) FROM reservation WHERE short_code = 'TAKEN001'")
            )
        engine.dispose()
    finally:
        drop()
    assert next(drawn, None) is None  # the taken code was drawn three times
    assert taken == 1 and result.errors == 0 and result.holds > 0
