"""The meldpunt duty rota: fair shares, holidays, DST, overrides, swaps, reminders, the access
window, gaps, handover notes and the iCal feed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.meldpunt import changes, duty, generation, notices
from respijt.models import OutboxMessage, ProviderRegion, Region, RotaEvent, RotaShift

LOCAL = clock.LOCAL_TZ
# Monday 4 January 2027, 10:00 local: just after a weekly handover.
T0 = datetime(2027, 1, 4, 10, 0, tzinfo=LOCAL)
HANDOVER = datetime(2027, 1, 4, 9, 0, tzinfo=LOCAL)  # a year from here is exactly 52 weeks
WEEKLY = generation.parse_pattern("weekly")
DAILY = generation.parse_pattern("daily")


def pool_region(make, db, weights=(1, 1), coordinator="+31881239999"):
    region = make.region(coordinator_phone=None)
    region.coordinator_phone = coordinator
    providers = []
    for i, weight in enumerate(weights):
        provider = make.provider(
            regions=[region], pool=True, on_duty=False, duty_phone=f"+3115111{i:04d}"
        )
        db.session.get(ProviderRegion, (provider.id, region.id)).pool_weight = weight
        providers.append(provider)
    db.session.commit()
    return region, providers


def generate(db, region, *, now=T0, days=56, pattern=WEEKLY, holidays=None) -> int:
    created = generation.generate_shifts(
        db.session, region.id, now=now, horizon_days=days, pattern=pattern, holidays=holidays
    )
    db.session.commit()
    return created


def active(db, region) -> list[RotaShift]:
    return list(
        db.session.scalars(
            select(RotaShift)
            .where(RotaShift.region_id == region.id, RotaShift.status == "active")
            .order_by(RotaShift.starts_at)
        )
    )


def hours(shift: RotaShift) -> float:
    return (shift.ends_at - shift.starts_at).total_seconds() / 3600


# --- generation -----------------------------------------------------------------------------


def test_shares_over_a_year_follow_the_pool_weights(db, make):
    region, providers = pool_region(make, db, weights=(3, 2, 1))
    assert generate(db, region, now=HANDOVER, days=364, pattern=DAILY) == 364
    per_provider = Counter(s.provider_id for s in active(db, region))
    # 364 days in 6 weight units: 182, 121⅓, 60⅔ — each within one shift of its share.
    for provider, weight in zip(providers, (3, 2, 1), strict=True):
        assert abs(per_provider[provider.id] - 364 * weight / 6) <= 1
    shifts = active(db, region)
    assert all(a.ends_at == b.starts_at for a, b in zip(shifts, shifts[1:], strict=False))


def test_weekly_shares_over_a_year_and_a_second_run_adds_nothing(db, make):
    region, providers = pool_region(make, db, weights=(2, 1, 1))
    generate(db, region, now=HANDOVER, days=364)
    assert generate(db, region, now=HANDOVER, days=364) == 0
    per_provider = Counter(s.provider_id for s in active(db, region))
    assert sum(per_provider.values()) == 52
    assert abs(per_provider[providers[0].id] - 26) <= 1
    assert abs(per_provider[providers[1].id] - 13) <= 1
    assert abs(per_provider[providers[2].id] - 13) <= 1


def test_public_holidays_rotate_fairly_over_the_pool(db, make):
    region, providers = pool_region(make, db, weights=(1, 1, 1))
    dates = generation.holiday_dates(None, [2027, 2028])
    generate(db, region, now=HANDOVER, days=364, pattern=DAILY, holidays=dates)
    holiday_days = Counter()
    for shift in active(db, region):
        local_day = shift.starts_at.astimezone(LOCAL).date()
        if local_day in dates:
            holiday_days[shift.provider_id] += 1
            assert shift.holiday
    assert sum(holiday_days.values()) == 10  # 2027 from 4 Jan: 10 of the 11 holidays
    assert max(holiday_days.values()) - min(holiday_days[p.id] for p in providers) <= 1


def test_holiday_set_is_configurable():
    default = generation.holiday_dates(None, [2026])
    assert datetime(2026, 12, 25).date() in default
    assert datetime(2026, 5, 5).date() not in default  # Bevrijdingsdag: only every fifth year
    chosen = generation.holiday_dates("Eerste kerstdag, bevrijdingsdag, 2026-12-31", [2026])
    assert chosen == {
        datetime(2026, 12, 25).date(),
        datetime(2026, 5, 5).date(),
        datetime(2026, 12, 31).date(),
    }
    with pytest.raises(ValueError):
        generation.holiday_dates("Sinterklaas", [2026])


def test_a_week_across_a_dst_change_is_exactly_one_local_week(db, make):
    region, _ = pool_region(make, db)
    generate(db, region, now=datetime(2027, 3, 15, 10, 0, tzinfo=LOCAL), days=240)
    shifts = active(db, region)
    for shift in shifts:
        start = shift.starts_at.astimezone(LOCAL)
        assert (start.weekday(), start.time()) == (0, time(9, 0))
    lengths = {
        shift.starts_at.astimezone(LOCAL).date().isoformat(): hours(shift) for shift in shifts
    }
    assert lengths["2027-03-22"] == 167  # clocks go forward on 28 March
    assert lengths["2027-10-25"] == 169  # and back on 31 October
    assert {v for k, v in lengths.items() if k not in ("2027-03-22", "2027-10-25")} == {168}


def test_patterns_daily_and_custom():
    assert generation.parse_pattern("daily@08:30") == [(d, time(8, 30)) for d in range(7)]
    assert generation.parse_pattern("ma 09:00, do 17:00") == [(0, time(9, 0)), (3, time(17, 0))]
    with pytest.raises(ValueError):
        generation.parse_pattern("MON 02:30")
    with pytest.raises(ValueError):
        generation.parse_pattern("fortnightly")


# --- duty/current, overrides and swaps ------------------------------------------------------


def duty_now(client, region) -> dict:
    response = client.get(f"/api/v1/duty/current?region={region.code}")
    assert response.status_code == 200
    [entry] = response.get_json()
    return entry


def test_overrides_and_swaps_are_reflected_in_duty_current(db, make, client, app):
    clock.freeze(T0)
    region, (a, b) = pool_region(make, db)
    generate(db, region)
    first, second = active(db, region)[:2]
    assert first.provider_id != second.provider_id
    entry = duty_now(client, region)
    assert entry["provider"]["id"] == first.provider_id
    assert entry["until"] == first.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    coordinator = make.token("coordinator")
    other = b if first.provider_id == a.id else a
    starts, ends = clock.now() - timedelta(minutes=5), clock.now() + timedelta(hours=2)
    response = client.post(
        "/api/v1/rota/overrides",
        json={
            "region": region.code,
            "provider_id": other.id,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "reason": "ziekte",
        },
        headers=coordinator,
    )
    assert response.status_code == 201, response.get_json()
    entry = duty_now(client, region)
    assert entry["provider"]["id"] == other.id
    # Two hours later the shift's own provider is back on duty until the weekly handover.
    clock.freeze(ends + timedelta(minutes=1))
    assert duty_now(client, region)["provider"]["id"] == first.provider_id

    # A swap of next week's shift: offered by its provider, taken by the other.
    owner = make.token("provider", provider=second.provider)
    taker = make.token("provider", provider=db.session.get(type(a), first.provider_id))
    offered = client.post(f"/api/v1/rota/shifts/{second.id}/swaps", json={}, headers=owner)
    assert offered.status_code == 201, offered.get_json()
    taken = client.post(f"/api/v1/rota/swaps/{offered.get_json()['id']}/take", headers=taker)
    assert taken.status_code == 200 and taken.get_json()["status"] == "done"
    clock.freeze(second.starts_at + timedelta(hours=1))
    assert duty_now(client, region)["provider"]["id"] == first.provider_id
    kinds = [e.kind for e in db.session.scalars(select(RotaEvent).order_by(RotaEvent.id))]
    assert kinds == ["generated", "override", "swap_offered", "swap_taken", "swap_done"]
    history = client.get(f"/api/v1/rota/history?region={region.code}", headers=coordinator)
    assert [e["kind"] for e in history.get_json()["items"]] == kinds


def test_swap_with_approval_waits_for_the_coordinator_and_can_be_withdrawn_before(
    db, make, client, app
):
    clock.freeze(T0)
    region, (a, b) = pool_region(make, db)
    generate(db, region)
    second = active(db, region)[1]
    owner_provider = second.provider
    other = b if owner_provider.id == a.id else a
    owner = make.token("provider", provider=owner_provider)
    taker = make.token("provider", provider=other)
    coordinator = make.token("coordinator")

    first_offer = client.post(f"/api/v1/rota/shifts/{second.id}/swaps", json={}, headers=owner)
    swap_id = first_offer.get_json()["id"]
    assert client.post(f"/api/v1/rota/swaps/{swap_id}/withdraw", headers=taker).status_code == 403
    assert client.post(f"/api/v1/rota/swaps/{swap_id}/withdraw", headers=owner).status_code == 200
    assert client.post(f"/api/v1/rota/swaps/{swap_id}/take", headers=taker).status_code == 409

    app.config["RESPIJT_ROTA_SWAP_APPROVAL"] = True
    try:
        offer = client.post(f"/api/v1/rota/shifts/{second.id}/swaps", json={}, headers=owner)
        swap_id = offer.get_json()["id"]
        taken = client.post(f"/api/v1/rota/swaps/{swap_id}/take", headers=taker)
        assert taken.get_json()["status"] == "taken"
        # Taken, not yet approved: too late to withdraw, and the duty has not moved.
        assert (
            client.post(f"/api/v1/rota/swaps/{swap_id}/withdraw", headers=owner).status_code == 409
        )
        assert (
            duty.shift_at(db.session, region.id, second.starts_at).provider_id == owner_provider.id
        )
        assert (
            client.post(f"/api/v1/rota/swaps/{swap_id}/approve", headers=taker).status_code == 403
        )
        approved = client.post(f"/api/v1/rota/swaps/{swap_id}/approve", headers=coordinator)
        assert approved.get_json()["status"] == "done"
    finally:
        app.config["RESPIJT_ROTA_SWAP_APPROVAL"] = False
    db.session.expire_all()
    assert duty.shift_at(db.session, region.id, second.starts_at).provider_id == other.id


# --- reminders and the access window --------------------------------------------------------


def reminders(db) -> list[tuple[str, str]]:
    return [
        (m.recipient, m.dedupe_key.rsplit(":", 1)[1])
        for m in db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template.like("rota_reminder_%"))
            .order_by(OutboxMessage.id)
        )
    ]


def test_reminders_go_to_whoever_has_the_shift_after_a_swap(db, make):
    region, (a, b) = pool_region(make, db)
    generate(db, region)
    first, second = active(db, region)[:2]
    incoming_before = second.provider
    other = b if incoming_before.id == a.id else a
    swap = changes.offer_swap(db.session, second.id, provider_id=incoming_before.id, now=T0)
    changes.take_swap(db.session, swap.id, provider_id=other.id, now=T0, approval_required=False)
    db.session.commit()

    eve = datetime.combine(
        second.starts_at.astimezone(LOCAL).date() - timedelta(days=1), time(18, 0), tzinfo=LOCAL
    )
    assert notices.send_reminders(db.session, now=eve - timedelta(minutes=1)) == 0
    assert notices.send_reminders(db.session, now=eve) == 1
    assert notices.send_reminders(db.session, now=eve + timedelta(minutes=5)) == 0  # deduped
    # At the handover: the outgoing provider hears the end, the incoming the start.
    assert notices.send_reminders(db.session, now=second.starts_at) == 2
    db.session.commit()
    assert reminders(db) == [
        (other.duty_phone, "eve"),
        (first.provider.duty_phone, "end"),
        (other.duty_phone, "start"),
    ]
    assert incoming_before.duty_phone not in {recipient for recipient, _ in reminders(db)}


def test_reminders_follow_an_override(db, make):
    region, (a, b) = pool_region(make, db)
    generate(db, region)
    first = active(db, region)[0]
    first_start, first_end = first.starts_at, first.ends_at
    other = b if first.provider_id == a.id else a
    # The coordinator gives tomorrow 12:00-20:00 to the other provider.
    starts = datetime(2027, 1, 5, 12, 0, tzinfo=LOCAL)
    ends = datetime(2027, 1, 5, 20, 0, tzinfo=LOCAL)
    changes.apply_override(
        db.session, region.id, provider_id=other.id, starts_at=starts, ends_at=ends,
        actor="token:1", now=T0, reason="ziekte",
    )  # fmt: skip
    db.session.commit()
    shifts = active(db, region)
    assert [(s.provider_id, s.starts_at, s.ends_at) for s in shifts[:3]] == [
        (first.provider_id, first_start, starts),
        (other.id, starts, ends),
        (first.provider_id, ends, first_end),
    ]
    sent = sum(
        notices.send_reminders(db.session, now=moment)
        for moment in (
            datetime(2027, 1, 4, 18, 0, tzinfo=LOCAL),  # the eve of the override
            starts,  # the original provider goes off duty, the other comes on
            ends,  # and the other way round
        )
    )
    db.session.commit()
    assert sent == 7
    assert reminders(db) == [
        (first.provider.duty_phone, "start"),  # the running shift, not reminded before
        (other.duty_phone, "eve"),
        (first.provider.duty_phone, "eve"),  # it resumes at 20:00
        (first.provider.duty_phone, "end"),
        (other.duty_phone, "start"),
        (other.duty_phone, "end"),
        (first.provider.duty_phone, "start"),
    ]


def test_meldpunt_access_window_is_the_shift_plus_grace(db, make):
    region, (a, b) = pool_region(make, db)
    generate(db, region)
    first = active(db, region)[0]
    on_duty, off_duty = first.provider_id, (b.id if first.provider_id == a.id else a.id)

    def regions(provider_id, at):
        return set(db.session.scalars(duty.on_duty_region_ids(provider_id, at)))

    grace = timedelta(minutes=60)
    assert regions(on_duty, T0) == {region.id}
    assert regions(off_duty, T0) == set()
    end = first.ends_at
    assert regions(on_duty, end + timedelta(minutes=59)) == {region.id}
    assert regions(on_duty, end + timedelta(minutes=61)) == set()
    assert regions(off_duty, end + timedelta(minutes=1)) == {region.id}
    assert (
        db.session.scalars(duty.on_duty_region_ids(on_duty, end + grace, grace=grace)).all() == []
    )


# --- gaps -----------------------------------------------------------------------------------


def test_a_gap_alerts_the_coordinator_once_and_shows_in_the_rota(db, make, client):
    clock.freeze(T0)
    region, _ = pool_region(make, db, coordinator="+31612349999")
    generate(db, region)
    assert notices.alert_gaps(db.session, now=T0, horizon_days=56) == 0
    gap_start = T0 + timedelta(days=2)
    changes.apply_override(
        db.session, region.id, provider_id=None, starts_at=gap_start,
        ends_at=gap_start + timedelta(hours=3), actor="test", now=T0,
    )  # fmt: skip
    db.session.commit()
    # The override itself alerted the gap it opened; the nightly check adds nothing.
    assert notices.alert_gaps(db.session, now=T0, horizon_days=56) == 0
    db.session.commit()
    [alert] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "rota_gap"))
    assert (alert.recipient, alert.channel, alert.status) == ("+31612349999", "sms", "pending")
    assert "gat" in alert.body

    coordinator = make.token("coordinator")
    day = T0.date()
    response = client.get(
        f"/api/v1/rota/shifts?region={region.code}&from={day}&to={day + timedelta(days=7)}",
        headers=coordinator,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["gaps"][0]["ends_at"] == "2027-01-04T08:00:00Z"  # before the rota began
    assert body["gaps"][1:] == [
        {
            "starts_at": gap_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (gap_start + timedelta(hours=3))
            .astimezone(UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    clock.freeze(gap_start + timedelta(hours=1))
    entry = duty_now(client, region)
    assert entry["provider"] is None
    assert entry["until"] == body["gaps"][1]["ends_at"]  # the rota resumes then


def test_rota_endpoints_need_the_right_role(db, make, client):
    region, _ = pool_region(make, db)
    verwijzer = make.token("verwijzer")
    url = f"/api/v1/rota/shifts?region={region.code}&from=2027-01-04&to=2027-01-11"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=verwijzer).status_code == 403
    body = {"region": region.code, "provider_id": None, "starts_at": "2027-01-05T10:00:00Z",
            "ends_at": "2027-01-05T12:00:00Z"}  # fmt: skip
    provider = make.token(
        "provider", provider=make.provider(regions=[region], pool=True, on_duty=False)
    )
    assert client.post("/api/v1/rota/overrides", json=body, headers=provider).status_code == 403


# --- handover notes and iCal ----------------------------------------------------------------


def test_the_incoming_provider_reads_the_outgoing_ones_handover_notes(db, make, client):
    clock.freeze(T0)
    region, _ = pool_region(make, db)
    generate(db, region)
    first, second = active(db, region)[:2]
    outgoing = make.token("meldpunt", provider=first.provider)
    incoming = make.token("meldpunt", provider=second.provider)
    clock.freeze(first.ends_at - timedelta(hours=1))
    for text in ("Mevrouw uit Delft belt terug over R-7K3P.", "Bed De Linde vrijdag bevestigen."):
        posted = client.post(
            "/api/v1/rota/handover-notes", json={"region": region.code, "body": text},
            headers=outgoing,
        )  # fmt: skip
        assert posted.status_code == 201, posted.get_json()
    url = f"/api/v1/rota/handover-notes?region={region.code}"
    assert client.get(url, headers=incoming).status_code == 403  # not on duty yet
    clock.freeze(second.starts_at + timedelta(minutes=1))
    notes = client.get(url, headers=incoming).get_json()
    assert [n["body"] for n in notes] == [
        "Bed De Linde vrijdag bevestigen.",
        "Mevrouw uit Delft belt terug over R-7K3P.",
    ]
    # The incoming provider now on duty may leave notes; the outgoing one no longer after grace.
    clock.freeze(second.starts_at + timedelta(minutes=61))
    late = client.post(
        "/api/v1/rota/handover-notes", json={"region": region.code, "body": "nog iets"},
        headers=outgoing,
    )  # fmt: skip
    assert late.status_code == 403


def test_ical_feed_at_a_secret_url_lists_the_providers_shifts(db, make, client):
    clock.freeze(T0)
    region, (a, _) = pool_region(make, db)
    generate(db, region)
    token = make.token("provider", provider=a)
    response = client.post("/api/v1/rota/ical-token", headers=token)
    assert response.status_code == 201
    url = response.get_json()["url"]
    path = url.removeprefix(app_url := "http://127.0.0.1")
    assert url.startswith(app_url + "/rota/ical/") and url.endswith(".ics")
    feed = client.get(path)
    assert feed.status_code == 200
    assert feed.headers["Content-Type"].startswith("text/calendar")
    text = feed.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    own = [s for s in active(db, region) if s.provider_id == a.id]
    assert text.count("BEGIN:VEVENT") == len(own) > 0
    assert f"DTSTART:{own[0].starts_at.strftime('%Y%m%dT%H%M%SZ')}" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    # A new link replaces the old one.
    client.post("/api/v1/rota/ical-token", headers=token)
    assert client.get(path).status_code == 404


def test_the_daily_job_fills_each_pool_region_to_the_horizon(db, make, app):
    from respijt.scheduler import jobs

    region, _ = pool_region(make, db)
    no_pool = make.region()
    created = jobs.generate_rota(db.session, T0, app.config)
    db.session.commit()
    assert created == 9  # the running week and eight more: 56 days ahead are covered
    assert generation.find_gaps(db.session, region.id, T0, T0 + timedelta(days=56)) == []
    assert generation.shifts_between(db.session, no_pool.id, T0, T0 + timedelta(days=56)) == []
    assert jobs.generate_rota(db.session, T0 + timedelta(hours=1), app.config) == 0


def test_the_demo_has_shifts_covering_the_coming_weeks(db, app):
    from respijt.cli import demo

    clock.freeze(T0)
    demo.load_demo(db.session, now=clock.now(), today=clock.today(), horizon_days=14)
    demo.load_demo_rota(db.session, now=clock.now(), horizon_days=56, pattern="weekly", holidays="")
    db.session.commit()
    regions = db.session.scalars(select(Region)).all()
    assert len(regions) == 3
    for region in regions:
        assert region.coordinator_phone
        assert generation.find_gaps(db.session, region.id, T0, T0 + timedelta(days=56)) == []
        assert duty.duty_provider(db.session, region.id, T0) is not None


def test_a_meldpunt_sees_the_regions_requests_while_on_duty_plus_the_grace(db, make, client):
    from tests import care_request_helpers

    region, _ = pool_region(make, db)
    generate(db, region)
    first, second = active(db, region)[:2]
    municipality = make.municipality(region=region)
    clock.freeze(T0)
    arrival = clock.today() + timedelta(days=20)
    request = care_request_helpers.create(
        db.session, care_request_helpers.body(municipality, arrival, arrival + timedelta(days=3))
    )
    db.session.commit()
    url = f"/api/v1/requests/{request.reference}"
    outgoing = make.token("meldpunt", provider=first.provider)
    incoming = make.token("meldpunt", provider=second.provider)

    assert client.get(url, headers=outgoing).status_code == 200
    assert client.get(url, headers=incoming).status_code == 404  # not on duty: as if absent
    clock.freeze(first.ends_at + timedelta(minutes=59))  # the grace after the handover
    assert client.get(url, headers=outgoing).status_code == 200
    assert client.get(url, headers=incoming).status_code == 200
    clock.freeze(first.ends_at + timedelta(minutes=61))
    assert client.get(url, headers=outgoing).status_code == 404
    assert client.get(url, headers=incoming).status_code == 200


def test_a_daily_shift_on_a_dst_day_lasts_23_or_25_hours(db, make):
    region, _ = pool_region(make, db)
    generate(db, region, now=datetime(2027, 3, 26, 10, 0, tzinfo=LOCAL), days=220, pattern=DAILY)
    lengths = {
        s.starts_at.astimezone(LOCAL).date().isoformat(): hours(s) for s in active(db, region)
    }
    assert lengths["2027-03-27"] == 23  # Saturday 09:00 to Sunday 09:00 across 02:00 → 03:00
    assert lengths["2027-10-30"] == 25
    assert lengths["2027-03-28"] == lengths["2027-10-31"] == 24
    assert all(s.starts_at.astimezone(LOCAL).time() == time(9, 0) for s in active(db, region))


def test_an_override_to_nobody_through_the_api_alerts_the_coordinator_at_once(db, make, client):
    clock.freeze(T0)
    region, _ = pool_region(make, db)  # the coordinator line is a landline (088): no SMS
    coordinator_user = make.user("coordinator", regions=[region])
    generate(db, region)
    response = client.post(
        "/api/v1/rota/overrides",
        json={
            "region": region.code,
            "provider_id": None,
            "starts_at": "2027-01-06T12:00:00Z",
            "ends_at": "2027-01-06T15:00:00Z",
        },
        headers=make.token("coordinator"),
    )
    assert response.status_code == 201 and response.get_json() == {"shift": None}
    [alert] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "rota_gap"))
    # ... so the alert goes by e-mail to the region's coordinator account.
    assert (alert.recipient, alert.channel, alert.status) == (
        coordinator_user.email, "email", "pending",
    )  # fmt: skip
    assert "6 jan 13:00 tot 6 jan 16:00" in alert.body
