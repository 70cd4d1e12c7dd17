"""The coordinator's rota pages: holidays marked, an override through the form (the SMS to the
provider put on duty and to the one whose duty it cut), swaps approved or refused (the SMS to
both sides), Dutch messages beside the fields, and nothing of another region."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

from sqlalchemy import select

from respijt import clock
from respijt import formatting as fmt
from respijt.meldpunt import changes, generation
from respijt.models import OutboxMessage, RotaShift, RotaSwap
from tests.accounts_support import web_login
from tests.browser.web_helpers import csrf_token
from tests.meldpunt.test_rota import active, pool_region

MOBILES = ("+31611110001", "+31611110002")


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _rota(db, make):
    region, pool = pool_region(make, db)
    for provider, mobile in zip(pool, MOBILES, strict=True):
        provider.staff_mobiles = [mobile]
    db.session.commit()
    # Weekly shifts from the last handover before now, three weeks ahead.
    generation.generate_shifts(
        db.session,
        region.id,
        now=clock.now(),
        horizon_days=21,
        pattern=generation.parse_pattern("weekly"),
    )
    db.session.commit()
    return region, pool


def _sms(db) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (m.template, m.recipient)
        for m in db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template.like("rota_%"))
            .where(OutboxMessage.template != "rota_gap")
            .order_by(OutboxMessage.id)
        )
    ]


def test_the_coordinator_puts_another_provider_on_duty_and_both_get_an_sms(client, db, make):
    region, pool = _rota(db, make)
    coordinator = make.user("coordinator", regions=[region])
    shift = active(db, region)[1]
    owner = shift.provider_id
    other = next(p for p in pool if p.id != owner)
    web_login(client, coordinator)
    page = client.get(f"/coordinator/rooster/wijziging?regio={region.code}")
    assert page.status_code == 200 and other.name in page.get_data(as_text=True)
    start = shift.starts_at.astimezone(clock.LOCAL_TZ) + timedelta(days=1)
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "regio": region.code,
        "aanbieder": str(other.id),
        "van": start.date().isoformat(),
        "van_tijd": "18:00",
        "tot": (start.date() + timedelta(days=1)).isoformat(),
        "tot_tijd": "09:00",
        "reden": "ziekte",
    }
    # The end before the start: a Dutch message beside the field, nothing typed lost.
    wrong = client.post(
        "/coordinator/rooster/wijziging", data={**data, "tot": data["van"], "tot_tijd": "08:00"}
    )
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert 'id="tot-error"' in html and "Het einde moet na het begin liggen" in html
    assert 'value="ziekte"' in html and _sms(db) == []
    done = client.post("/coordinator/rooster/wijziging", data=data)
    assert done.status_code == 303, done.get_data(as_text=True)[:1500]
    rota = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Het rooster is gewijzigd" in rota and "Gewijzigd door de coördinator" in _text(rota)
    assert _sms(db) == [
        ("rota_override_on", MOBILES[[p.id for p in pool].index(other.id)]),
        ("rota_override_off", MOBILES[[p.id for p in pool].index(owner)]),
    ]
    db.session.expire_all()
    override = db.session.scalars(select(RotaShift).where(RotaShift.kind == "override")).one()
    assert override.provider_id == other.id
    assert override.starts_at == datetime.combine(
        start.date(), datetime.min.time().replace(hour=18), clock.LOCAL_TZ
    )


def test_the_coordinator_approves_one_swap_and_refuses_another(client, app, db, make):
    region, pool = _rota(db, make)
    coordinator = make.user("coordinator", regions=[region])
    shifts = active(db, region)
    swaps = []
    for shift in shifts[1:3]:
        offerer = shift.provider_id
        taker = next(p.id for p in pool if p.id != offerer)
        swap = changes.offer_swap(db.session, shift.id, provider_id=offerer, now=clock.now())
        changes.take_swap(
            db.session, swap.id, provider_id=taker, now=clock.now(), approval_required=True
        )
        swaps.append((swap.id, offerer, taker))
    db.session.commit()
    web_login(client, coordinator)
    rota = client.get("/coordinator/rooster").get_data(as_text=True)
    assert rota.count('data-testid="ruilverzoek"') == 2
    assert "overgenomen, wacht op uw goedkeuring" in rota
    token = csrf_token(rota)
    (first, offerer, taker), (second, offerer2, taker2) = swaps
    answer = client.post(
        f"/coordinator/rooster/ruil/{first}/goedkeuren", data={"csrf_token": token}
    )
    assert answer.status_code == 303
    said = _text(client.get(answer.headers["Location"]).get_data(True))
    name = {p.id: p.name for p in pool}
    assert f"De ruil is goedgekeurd. {name[offerer]} en {name[taker]} krijgen een sms." in said
    answer = client.post(f"/coordinator/rooster/ruil/{second}/afwijzen", data={"csrf_token": token})
    assert answer.status_code == 303
    mobile = {p.id: m for p, m in zip(pool, MOBILES, strict=True)}
    assert _sms(db) == [
        ("rota_swap_done_offerer", mobile[offerer]),
        ("rota_swap_done_taker", mobile[taker]),
        ("rota_swap_refused", mobile[offerer2]),
        ("rota_swap_refused", mobile[taker2]),
    ]
    statuses = dict(db.session.execute(select(RotaSwap.id, RotaSwap.status)).all())
    assert statuses == {first: "done", second: "refused"}
    # Without the CSRF token nothing happens.
    assert client.post(f"/coordinator/rooster/ruil/{first}/afwijzen").status_code in (303, 400)
    assert db.session.get(RotaSwap, first).status == "done"


def test_a_swap_of_another_region_cannot_be_decided(client, db, make):
    region, pool = _rota(db, make)
    shift = active(db, region)[1]
    swap = changes.offer_swap(db.session, shift.id, provider_id=shift.provider_id, now=clock.now())
    db.session.commit()
    web_login(client, make.user("coordinator", regions=[make.region()]))
    rota = client.get("/coordinator/rooster").get_data(as_text=True)
    assert 'ruilverzoek"' not in rota
    answer = client.post(
        f"/coordinator/rooster/ruil/{swap.id}/afwijzen", data={"csrf_token": csrf_token(rota)}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(RotaSwap, swap.id).status == "open"


def test_public_holidays_are_marked_in_the_rota(client, db, make):
    region, _ = _rota(db, make)
    # A shift across Christmas: 24 to 27 December of this year.
    year = clock.today().year
    db.session.add(
        RotaShift(
            region_id=region.id,
            provider_id=active(db, region)[0].provider_id,
            starts_at=datetime(year, 12, 24, 10, 17, tzinfo=clock.LOCAL_TZ),  # no handover
            ends_at=datetime(year, 12, 27, 9, tzinfo=clock.LOCAL_TZ),
            kind="regular",
            status="active",
            holiday=True,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    web_login(client, make.user("coordinator", regions=[region]))
    html = client.get(f"/coordinator/rooster?van={date(year, 12, 20).isoformat()}").get_data(True)
    text = _text(html)
    assert "Feestdagen in deze periode" in text
    assert f"25 december {year}: Eerste kerstdag" in text
    assert "Feestdag: Eerste kerstdag (25 dec), Tweede kerstdag (26 dec)" in text


def test_a_provider_without_a_mobile_is_named_and_its_message_is_a_visible_failure(
    client, db, make
):
    region, pool = _rota(db, make)
    shift = active(db, region)[1]
    owner = db.session.get(type(pool[0]), shift.provider_id)
    other = next(p for p in pool if p.id != owner.id)
    owner.staff_mobiles = []  # a landline duty phone only: no SMS can reach it
    db.session.commit()
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/coordinator/rooster/wijziging?regio={region.code}").get_data(True)
    start = shift.starts_at.astimezone(clock.LOCAL_TZ) + timedelta(days=1)
    done = client.post(
        "/coordinator/rooster/wijziging",
        data={
            "csrf_token": csrf_token(page),
            "regio": region.code,
            "aanbieder": str(other.id),
            "van": start.date().isoformat(),
            "van_tijd": "18:00",
            "tot": (start.date() + timedelta(days=1)).isoformat(),
            "tot_tijd": "09:00",
        },
    )
    assert done.status_code == 303
    text = _text(client.get(done.headers["Location"]).get_data(as_text=True))
    assert f"{other.name} krijgt een sms." in text
    assert f"{owner.name} heeft geen mobiel nummer en krijgt geen sms: bel zelf." in text
    assert "hebben een sms gekregen" not in text
    db.session.expire_all()
    off = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "rota_override_off")
    ).one()
    # Not a quiet `skipped` to the landline: a failed alert the console and /health show.
    assert (off.status, off.recipient, off.error_code) == ("failed", "", "no_recipient")
    assert off.dedupe_key.startswith("alert:") and owner.name in (off.last_error or "")
    health = client.get("/health", headers=make.token("admin")).get_json()
    assert health["outbox"]["alerts_undelivered"] == 1


def test_an_override_to_nobody_alerts_the_gap_once_on_the_web_and_in_the_api(client, db, make):
    region, pool = _rota(db, make)
    shift = active(db, region)[1]
    web_login(client, make.user("coordinator", regions=[region]))
    page = client.get(f"/coordinator/rooster/wijziging?regio={region.code}").get_data(True)
    start = shift.starts_at.astimezone(clock.LOCAL_TZ) + timedelta(days=1)
    form = {
        "csrf_token": csrf_token(page),
        "regio": region.code,
        "aanbieder": "",
        "van": start.date().isoformat(),
        "van_tijd": "18:00",
        "tot": (start.date() + timedelta(days=1)).isoformat(),
        "tot_tijd": "09:00",
    }
    assert client.post("/coordinator/rooster/wijziging", data=form).status_code == 303
    db.session.expire_all()
    gaps = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "rota_gap"))
    [alert] = list(gaps)
    rota = f"/coordinator/rooster?regio={region.code}"
    assert "Let op: 1 gat in het rooster" in _text(client.get(rota).get_data(True))
    assert (
        alert.context["starts_at"]
        == datetime.combine(
            start.date(), datetime.min.time().replace(hour=18), clock.LOCAL_TZ
        ).isoformat()
    )
    # The API's override runs the same function: a second gap, one more alert.
    later = start + timedelta(days=3)
    body = {
        "region": region.code,
        "provider_id": None,
        "starts_at": later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ends_at": (later + timedelta(hours=3)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    answer = client.post(
        "/api/v1/rota/overrides", json=body, headers=make.token("coordinator", regions=[region])
    )
    assert answer.status_code == 201, answer.get_json()
    db.session.expire_all()
    count = select(OutboxMessage).where(OutboxMessage.template == "rota_gap")
    assert len(db.session.scalars(count).all()) == 2
    text = _text(client.get(rota).get_data(True))
    assert "Let op: 2 gaten in het rooster" in text
    # Across midnight each end in full; within one day the date once (handover is 09:00).
    night = f"{fmt.date_long(start.date())} om 18:00 tot "
    night += f"{fmt.date_long(start.date() + timedelta(days=1))} om 09:00"
    assert f"Geen dienst van {night}" in text
    assert f"Geen dienst van {fmt.date_long(later.date())}, 09:00 tot 12:00" in text
