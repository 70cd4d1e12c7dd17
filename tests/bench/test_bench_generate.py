"""Smoke test of the benchmark data generator (the benchmarks themselves are not tests)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench.generate import generate
from respijt import clock, create_app
from respijt.beds import availability
from respijt.extensions import db
from respijt.models import NightInventory, Region, Reservation, Unit
from respijt.reservations.check import find_inventory_mismatches


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
        assert find_inventory_mismatches(session) == []
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


def test_the_holds_benchmark_runs_every_way_without_overbooking(backend, tmp_path, monkeypatch):
    """bench.holds' floor runs booking_sql's own statements on a plain driver connection (one
    statement on PostgreSQL): both ways must hold beds and leave the inventory consistent, or
    the figures mean nothing. Over HTTP (gunicorn) it also says where the CPU went: the
    workers, the PostgreSQL server processes (not for SQLite, inside the workers), the client.
    The HTTP way runs on a copy of the dataset made before the first hold."""
    import psycopg
    from sqlalchemy import create_engine, text

    from bench import holds, run_all
    from bench.common import PG_ADMIN_DSN, postgres_cpu_snapshot, sqlalchemy_url
    from tests.conftest import make_database

    def count(database_url, sql):
        engine = create_engine(sqlalchemy_url(database_url))
        with engine.connect() as conn:
            found = conn.scalar(text(sql))
        engine.dispose()
        return found

    # What the copy held when it was dropped: none of the floor's holds, if it was made first.
    floor_holds_in_copy = []
    drop_copy = holds.drop_database

    def inspect_then_drop(copy_url):
        floor_holds_in_copy.append(
            count(copy_url, "SELECT count(*) FROM reservation WHERE caller = 'bench-raw'")
        )
        drop_copy(copy_url)

    monkeypatch.setattr(holds, "drop_database", inspect_then_drop)
    url, drop = make_database(backend, str(tmp_path))
    postgres_here = postgres_cpu_snapshot() is not None
    idle = None
    try:
        generate(url, scale=1, nights=40, regions=1, progress=lambda _msg: None)
        if backend == "postgresql":
            # A session left idle on the dataset (as an earlier benchmark's pool leaves one)
            # must not keep PostgreSQL from copying it.
            idle = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
            idle.execute("SELECT 1")
            idle.commit()
        result = holds.run(
            url,
            clients=[1],
            seconds=0.3,
            warmup=0.1,
            rounds=1,
            progress=lambda _m: None,
            ways=("domain", "http"),
        )
        # The HTTP way ran on the copy, and the copy is gone: here is only the domain way's
        # token, and no hold over HTTP logged its access.
        engine = create_engine(sqlalchemy_url(url))
        with engine.connect() as conn:
            tokens = conn.scalar(text("SELECT count(*) FROM api_token WHERE name = 'bench'"))
            logged = conn.scalar(
                text("SELECT count(*) FROM access_log WHERE action = 'reservation.create'")
            )
        engine.dispose()
        name, directory = holds._copy_place(url)
        if backend == "sqlite":
            copy_left = any(
                os.path.exists(os.path.join(directory, f"{name}.db{suffix}"))
                for suffix in ("", "-wal", "-shm")
            )
        else:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                copy_left = (
                    admin.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                    ).fetchone()
                    is not None
                )
    finally:
        if idle is not None:
            idle.close()
        drop()
    assert (tokens, logged, copy_left) == (1, 0, False)
    assert floor_holds_in_copy == [0]
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
    # At 1 client, both ways measured: the bound a hold over HTTP cannot pass.
    serial = result["serial"]
    noop, floor = http["requests_per_second"]["floor"], domain["requests_per_second"]["floor"]
    assert serial["ceiling"] == pytest.approx(floor / (floor + noop))
    assert serial["budget_ms"] == pytest.approx(1000 * (1 / noop - 1 / floor))


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


def test_the_holds_benchmark_says_what_0_5x_leaves_a_hold_at_one_client():
    """At 1 client a hold over HTTP waits for a no-op's work and the floor's SQL in turn: with
    2000 floor and 1000 no-op requests/s it reaches at most 2/3 of the no-op's rate, and 0.5×
    leaves it 1/1000 - 1/2000 s = 0.5 ms for the rest."""
    from bench import holds, run_all

    def row(kind, clients, rate, floor_rps):
        # Holds per second count no refusals; requests per second do (5 % refused here).
        return {
            "kind": kind,
            "clients": clients,
            "rate": rate * 0.95,
            "floor": floor_rps * 0.95,
            "ratio": rate / floor_rps,
            "cpu_ms": {
                side: {"server": 0.5, "database": None, "client": 0.2} for side in ("rate", "floor")
            },
            "requests_per_second": {"rate": rate, "floor": floor_rps},
        }

    rows = [row("domain", 1, 1500, 2000), row("http", 1, 400, 1000), row("http", 4, 500, 1500)]
    serial = holds.serial_budget(rows)
    assert serial == pytest.approx(
        {"noop": 1000, "floor": 2000, "ceiling": 2 / 3, "budget_ms": 0.5}
    )
    # Without both ways at 1 client there is no such bound.
    assert holds.serial_budget(rows[1:]) is None
    assert holds.serial_budget([rows[0], rows[2]]) is None

    result = {"backend": "sqlite", "overbooked": 0, "rows": rows, "serial": serial}
    assert "hoogstens 0.67x" in holds.describe(result)
    assert "blijft 0.500 ms over" in holds.describe(result)
    table = run_all.serial_table([result, {**result, "backend": "postgresql", "serial": None}])
    assert [line for line in table if line.startswith("| sqlite")] == [
        "| sqlite | 1000 | 2000 | 0.67× | 0.500 ms |"
    ]
    assert not any(line.startswith("| postgresql") for line in table)
    assert run_all.serial_table([{**result, "serial": None}]) == []


def test_the_hold_parts_benchmark_takes_each_part_away(backend, tmp_path):
    """bench.hold_parts measures a hold with one part taken away at a time: its figures mean
    something only if the kinds really skip what they say (no token read, no SQL)."""
    from bench import hold_parts
    from tests.conftest import make_database

    url, drop = make_database(backend, str(tmp_path))
    try:
        generate(url, scale=1, nights=40, regions=1, progress=lambda _msg: None)
        result = hold_parts.run(url, requests=20, rounds=2, progress=lambda _m: None)
    finally:
        drop()
    statuses, reads, written = result["statuses"], result["token_reads"], result["written"]
    assert statuses["noop"] == {200: 40}
    assert statuses["hold_no_sql"] == {201: 40}
    for kind in ("hold", "hold_known_caller"):
        assert set(statuses[kind]) <= {201, 409} and statuses[kind].get(201, 0) > 0
        # Every hold answered 201 wrote its reservation; a refusal wrote none.
        assert written[kind] == statuses[kind][201]
    assert written["noop"] == written["hold_no_sql"] == 0
    assert reads == {"noop": 0, "hold": 40, "hold_known_caller": 0, "hold_no_sql": 0}
    cpu, parts = result["cpu_ms"], result["parts"]
    assert parts["token"] == pytest.approx(cpu["hold"] - cpu["hold_known_caller"])
    assert parts["hold_sql"] == pytest.approx(cpu["hold_known_caller"] - cpu["hold_no_sql"])
    assert parts["rest"] == pytest.approx(cpu["hold_no_sql"] - cpu["noop"])
    assert "een hold boven de no-op: token lezen" in hold_parts.describe(result)
