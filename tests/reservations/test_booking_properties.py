"""Property: any sequence of capacity changes, holds, confirms, cancels and expiries keeps
invariants 1 and 2 (0 <= reserved <= capacity; reserved = active reservations per night)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from respijt import clock
from respijt.beds import capacity
from respijt.database import run_in_transaction
from respijt.errors import DomainError
from respijt.models import NightInventory, Reservation, ReservationEvent, Unit
from respijt.people.caller import Caller
from respijt.reservations import holds, steps
from respijt.reservations.check import find_inventory_mismatches
from respijt.reservations.expiry import expire_overdue_holds

EXAMPLES = int(os.environ.get("RESPIJT_TEST_HYPOTHESIS_EXAMPLES", "25"))
START = datetime(2027, 3, 1, 10, tzinfo=UTC)
CALLER = Caller("token:1", "meldpunt")

day = st.integers(min_value=1, max_value=8)
operation = st.one_of(
    st.tuples(st.just("hold"), day, st.integers(1, 4), st.booleans()),
    st.tuples(st.just("capacity"), day, st.integers(1, 4), st.integers(0, 3)),
    st.tuples(st.just("confirm"), st.integers(0, 20)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("move"), st.integers(0, 20), day, st.integers(1, 4)),
    st.tuples(st.just("tick"), st.integers(1, 40)),
    st.tuples(st.just("sweep")),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_random_operations_never_break_the_inventory_invariants(db, make, ops):
    clock.freeze(START)
    unit = make.unit(capacity=2, requires_provider_confirmation=True, max_nights=10)
    today = clock.today()
    s = db.session
    ids: list[int] = []
    try:
        for op in ops:
            now = clock.now()
            try:
                if op[0] == "hold":
                    _, offset, nights, confirm = op
                    a = today + timedelta(days=offset)
                    r, _ = run_in_transaction(
                        s,
                        lambda: holds.place_hold(
                            s,
                            unit_id=unit.id,
                            arrival=a,
                            departure=a + timedelta(days=nights),
                            caller=CALLER,
                            now=now,
                            today=today,
                            hold_minutes=15,
                            provider_confirm_hours=1,
                            confirm=confirm,
                        ),
                    )
                    ids.append(r.id)
                elif op[0] == "capacity":
                    _, offset, nights, cap = op
                    a = today + timedelta(days=offset)
                    run_in_transaction(
                        s,
                        lambda: capacity.publish_capacity(
                            s,
                            s.get(Unit, unit.id),
                            [capacity.CapacityRange(a, a + timedelta(days=nights), cap)],
                            actor="t",
                            channel="api",
                            now=now,
                            today=today,
                            horizon_days=60,
                            max_capacity=10,
                        ),
                    )
                elif op[0] in ("confirm", "cancel", "move") and ids:
                    r = s.get(Reservation, ids[op[1] % len(ids)])
                    if op[0] == "confirm":
                        fn = steps.confirm_by_provider if r.status == "awaiting_provider" else None
                        if fn:
                            run_in_transaction(s, lambda: fn(s, r, caller=CALLER, now=now))
                        else:
                            run_in_transaction(
                                s,
                                lambda: steps.confirm_by_requester(
                                    s, r, caller=CALLER, now=now, provider_confirm_hours=1
                                ),
                            )
                    elif op[0] == "cancel":
                        run_in_transaction(
                            s,
                            lambda: steps.cancel(
                                s, r, party="requester", caller=CALLER, now=now, reason="test"
                            ),
                        )
                    else:
                        a = today + timedelta(days=op[2])
                        run_in_transaction(
                            s,
                            lambda: steps.change_dates(
                                s,
                                r,
                                arrival=a,
                                departure=a + timedelta(days=op[3]),
                                caller=CALLER,
                                now=now,
                                today=today,
                            ),
                        )
                elif op[0] == "tick":
                    clock.freeze(now + timedelta(minutes=op[1]))
                elif op[0] == "sweep":
                    run_in_transaction(s, lambda: expire_overdue_holds(s, now))
            except DomainError:
                s.rollback()
            s.rollback()
            assert find_inventory_mismatches(s) == [], op
            rows = s.query(NightInventory).filter_by(unit_id=unit.id).all()
            assert all(0 <= r.reserved <= r.capacity for r in rows)
    finally:
        s.rollback()
        s.execute(delete(ReservationEvent))
        s.execute(delete(Reservation))
        s.execute(update(NightInventory).values(reserved=0))  # the next example starts clean
        s.commit()
