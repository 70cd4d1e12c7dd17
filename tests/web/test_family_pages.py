"""The family's page through the signed SMS link: the fitting options in the meldpunt's words,
choose one (held at once), accept, follow the placed stay (address, arrival, what to bring,
phone) and cancel it with a reason; the form's own link may look but not choose; the
meldpunt's page shows what the family chose."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, CareRequest, FamilyNotice, OutboxMessage, Reservation
from tests.accounts_support import web_login
from tests.browser.web_helpers import csrf_token
from tests.care_request_helpers import freeze_start, json_body
from tests.outbox_support import text_as_sent


@pytest.fixture()
def family(make: Any, db: Any) -> dict[str, Any]:
    freeze_start()
    region = make.region(code="H5", name="Haaglanden")
    municipality = make.municipality(code="GM0503", name="Delft", region=region)
    pool = make.provider(name="Zorg Delft", regions=[region], pool=True)
    provider = make.provider(name="Zorg Rijswijk", regions=[region])
    unit = make.unit(
        location=make.location(
            provider=provider,
            municipality=municipality,
            name="Het Anker",
            address="Kade 4",
            contact_mobile="+31612000222",
        ),
        name="Respijtkamers",
    )
    return {"municipality": municipality, "unit": unit, "pool": pool}


def _request(client: Any, db: Any, municipality: Any) -> tuple[str, str]:
    today = clock.today()
    created = client.post(
        "/api/v1/requests",
        json=json_body(municipality, today + timedelta(days=10), today + timedelta(days=12)),
    )
    reference = created.get_json()["reference"]
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_received")
    ).one()
    return reference, text_as_sent(db.session, message).split("/a/", 1)[1].strip()


def test_family_chooses_accepts_follows_and_cancels_on_the_page(client, db, family):
    reference, token = _request(client, db, family["municipality"])
    assert client.get(f"/a/{token}").status_code == 303
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Passende plekken" in page and "Het Anker" in page
    assert 'Aanbieder: <span data-testid="aanbieder">Zorg Rijswijk</span>' in page
    assert "Waarom: past bij ouderen" in page and "zelfde gemeente" in page
    assert "gegevens van vandaag" in page and "Kies deze plek" in page
    assert db.session.scalar(select(CareRequest.link_opened_at)) is not None

    response = client.post(
        "/mijn-aanvraag/kiezen",
        data={"csrf_token": csrf_token(page), "unit_id": str(family["unit"].id)},
    )
    assert response.status_code == 303
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "We houden deze plek voor u vast" in page
    assert "Ja, dit aanbod neem ik aan" in page and "Kies deze plek" not in page
    reservation = db.session.scalars(select(Reservation)).one()
    assert reservation.status == "held" and reservation.caller == f"link:{reference}"

    client.post(
        f"/mijn-aanvraag/aanbod/{reservation.id}/aannemen", data={"csrf_token": csrf_token(page)}
    )
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Uw verblijf bij Het Anker" in page
    assert "Kade 4, 2611AB Delft" in page
    assert "06 12000222" in page and 'href="tel:+31612000222"' in page
    assert "Wat neemt u mee?" in page and "medicijnlijst" in page
    assert "Logeren annuleren" in page

    # Without a reason nothing changes; with one the stay is cancelled and the provider told.
    client.post(
        f"/mijn-aanvraag/verblijf/{reservation.id}/annuleren",
        data={"csrf_token": csrf_token(page), "reason": " "},
    )
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Geef een reden voor het annuleren." in page
    db.session.expire_all()
    assert db.session.get(Reservation, reservation.id).status == "confirmed"
    client.post(
        f"/mijn-aanvraag/verblijf/{reservation.id}/annuleren",
        data={"csrf_token": csrf_token(page), "reason": "Moeder is ziek"},
    )
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Het logeren is geannuleerd" in page
    db.session.expire_all()
    assert db.session.get(Reservation, reservation.id).status == "cancelled"
    told = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.template == "reservation_cancelled")
    ).all()
    assert "+31612000222" in told


def test_the_forms_own_link_shows_options_but_cannot_choose(client, db, family):
    created = client.post(
        "/api/v1/requests",
        json=json_body(
            family["municipality"],
            clock.today() + timedelta(days=10),
            clock.today() + timedelta(days=12),
        ),
    )
    client.get(f"/a/{created.get_json()['link_token']}")
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Het Anker" in page and "Kies deze plek" not in page
    assert "Zelf kiezen kan als u de link opent uit de sms" in page
    client.post(
        "/mijn-aanvraag/kiezen",
        data={"csrf_token": csrf_token(page), "unit_id": str(family["unit"].id)},
    )
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Open eerst de link in de sms" in page
    assert db.session.scalar(select(Reservation.id)) is None


def test_the_forms_link_cannot_choose_after_the_sms_link_was_opened_elsewhere(
    app, client, db, family
):
    created = client.post(
        "/api/v1/requests",
        json=json_body(
            family["municipality"],
            clock.today() + timedelta(days=10),
            clock.today() + timedelta(days=12),
        ),
    )
    sms_token = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_received")
    ).one()
    phone = app.test_client()
    phone.get("/a/" + text_as_sent(db.session, sms_token).split("/a/", 1)[1].strip())
    assert "Kies deze plek" in phone.get("/mijn-aanvraag").get_data(as_text=True)
    assert db.session.scalar(select(CareRequest.link_opened_at)) is not None

    client.get(f"/a/{created.get_json()['link_token']}")
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    assert "Het Anker" in page and "Kies deze plek" not in page
    client.post(
        "/mijn-aanvraag/kiezen",
        data={"csrf_token": csrf_token(page), "unit_id": str(family["unit"].id)},
    )
    assert "Open eerst de link in de sms" in client.get("/mijn-aanvraag").get_data(as_text=True)
    assert db.session.scalar(select(Reservation.id)) is None


def test_the_meldpunt_sees_what_the_family_chose(app, client, db, family, make):
    reference, token = _request(client, db, family["municipality"])
    client.get(f"/a/{token}")
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    client.post(
        "/mijn-aanvraag/kiezen",
        data={"csrf_token": csrf_token(page), "unit_id": str(family["unit"].id)},
    )
    desk = app.test_client()
    web_login(desk, make.user("meldpunt", provider=family["pool"]))
    page = desk.get(f"/meldpunt/aanvragen/{reference}").get_data(as_text=True)
    assert 'data-testid="keuze-familie"' in page
    assert "Gekozen en vastgehouden van de familie" in page and "Het Anker" in page


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_send_my_link_again_also_for_a_placed_stay_and_the_link_may_choose(client, db, family):
    reference, token = _request(client, db, family["municipality"])
    client.get(f"/a/{token}")
    page = client.get("/mijn-aanvraag").get_data(as_text=True)
    client.post(
        "/mijn-aanvraag/kiezen",
        data={"csrf_token": csrf_token(page), "unit_id": str(family["unit"].id)},
    )
    reservation_id = db.session.scalar(select(Reservation.id))
    client.post(
        f"/mijn-aanvraag/aanbod/{reservation_id}/aannemen",
        data={"csrf_token": csrf_token(page)},
    )
    db.session.expire_all()
    assert db.session.scalar(select(CareRequest.status)) == "placed"

    other = client.application.test_client()
    answers = []
    for mobile in ("06 12345678", "06 12121212"):
        form = csrf_token(other.get("/link-opnieuw").get_data(as_text=True))
        response = other.post("/link-opnieuw", data={"csrf_token": form, "mobile": mobile})
        assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
        answers.append(_main(other.get(response.headers["Location"]).get_data(as_text=True)))
    assert answers[0] == answers[1]  # the same answer whether or not a request exists
    (sent,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_link")
    ).all()
    assert sent.recipient == "+31612345678" and reference in sent.body
    assert "/a/" not in sent.body and "link" not in sent.context  # made when it is sent
    # The link sent again is the phone's link: it opens the placed stay.
    third = client.application.test_client()
    third.get("/a/" + text_as_sent(db.session, sent).split("/a/", 1)[1].split()[0])
    assert "Uw verblijf bij Het Anker" in third.get("/mijn-aanvraag").get_data(as_text=True)


def test_send_my_link_again_skips_a_request_whose_family_is_not_to_be_contacted(client, db, family):
    reference, _ = _request(client, db, family["municipality"])
    found = db.session.scalar(select(CareRequest).where(CareRequest.reference == reference))
    found.contact_family = False
    db.session.commit()
    other = client.application.test_client()
    answers = []
    for mobile in ("06 12345678", "06 12121212"):
        form = csrf_token(other.get("/link-opnieuw").get_data(as_text=True))
        response = other.post("/link-opnieuw", data={"csrf_token": form, "mobile": mobile})
        assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
        answers.append(_main(other.get(response.headers["Location"]).get_data(as_text=True)))
    assert answers[0] == answers[1]
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "request_link")
    ).all()
    assert sent == []


def test_the_meldpunt_calls_back_a_family_without_a_mobile(app, client, db, family, make):
    today = clock.today()
    created = client.post(
        "/api/v1/requests",
        json=json_body(
            family["municipality"],
            today + timedelta(days=10),
            today + timedelta(days=12),
            contact={"name": "Marja", "phone": "070 123 4567"},
        ),
    )
    reference = created.get_json()["reference"]
    desk = app.test_client()
    web_login(desk, make.user("meldpunt", provider=family["pool"]))
    page = desk.get("/meldpunt").get_data(as_text=True)
    task = page.split('data-testid="familie-terugbellen"', 1)[1].split("</ul>", 1)[0]
    assert reference in task and "070 123 4567" in task and "ontvangen" in task
    # The name and landline shown are client data: the listing is in the access log.
    listed = db.session.scalars(
        select(AccessLog.action).where(AccessLog.client_reference == reference)
    ).all()
    assert "care_request.list" in listed
    notice_id = db.session.scalar(select(FamilyNotice.id))
    response = desk.post(
        f"/meldpunt/familie-terugbellen/{notice_id}/gebeld", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(FamilyNotice, notice_id).status == "done"
    assert "Geen familie om terug te bellen." in desk.get("/meldpunt").get_data(as_text=True)


@pytest.mark.parametrize(
    ("contact", "kind", "words"),
    [
        ({"contact_email": "marja@voorbeeld.nl"}, "email", "U krijgt een e-mail"),
        ({"contact_phone": "070 123 4567"}, "callback", "Het meldpunt belt u"),
    ],
)
def test_the_public_form_takes_a_landline_or_an_email_instead_of_a_mobile(
    client, db, family, contact, kind, words
):
    page = client.get("/aanvragen").get_data(as_text=True)
    assert "Geen mobiel?" in page
    arrival = clock.today() + timedelta(days=14)
    data = {
        "csrf_token": csrf_token(page),
        "requester": "mantelzorger",
        "first_name": "Ans",
        "birth_year": "1938",
        "municipality": "GM0503",
        "target_group": "ouderen",
        "care_level": "basic",
        "language": "",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=3)).isoformat(),
        "flexibility_days": "0",
        "urgency": "planned",
        "reason": "vakantie",
        "funding": "onbekend",
        "contact_name": "Marja de Vries",
        "contact_mobile": "",
        "consent": "y",
    }
    refused = client.post("/aanvragen", data=data)
    assert refused.status_code == 422
    assert "of anders een vast nummer of e-mailadres" in refused.get_data(as_text=True)
    response = client.post("/aanvragen", data=data | contact)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    assert words in client.get(response.headers["Location"]).get_data(as_text=True)
    (notice,) = db.session.scalars(select(FamilyNotice)).all()
    assert notice.kind == kind and notice.template == "request_received"
    assert db.session.scalars(select(OutboxMessage)).all() == []
