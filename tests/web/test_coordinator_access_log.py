"""The access log (inzage) on the coordinator's page: names and organisations instead of
`user:2`/`token:2`, actions in Dutch instead of `care_request.read`, a filter by person and by
request, and every reading of the log logged itself."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, ApiToken
from respijt.people.caller import Caller, caller_for_user
from respijt.privacy import access_log as privacy
from respijt.privacy import access_view
from tests.accounts_support import web_login


def _log(db, caller: Caller, action: str, reference: str, region_id: int) -> None:
    privacy.log_access(
        db.session,
        action=action,
        caller=caller,
        client_reference=reference,
        outcome="success",
        purpose="zorgbemiddeling",
        source=None,
        region_id=region_id,
    )


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_log_names_people_and_says_what_they_did_in_dutch(client, db, make):
    region = make.region(name="Haaglanden")
    provider = make.provider(name="Zorg Delft", regions=[region])
    meldpunt = make.user("meldpunt", provider=provider, name="Fatima Bakker")
    verwijzer = make.user("verwijzer", organisation="Wijkteam Noord", name="Kees Smit")
    coordinator = make.user("coordinator", regions=[region], name="Anna de Wit")
    make.token("provider", provider=provider)
    token = db.session.scalars(select(ApiToken)).one()
    token_caller = Caller(key=f"token:{token.id}", role="provider", provider_id=provider.id)
    _log(db, caller_for_user(verwijzer, "verwijzer"), "care_request.create", "R-AAAA11", region.id)
    _log(db, caller_for_user(meldpunt, "meldpunt"), "care_request.read", "R-AAAA11", region.id)
    _log(db, token_caller, "reservation.confirm", "R-AAAA11", region.id)
    _log(db, Caller(key="link:R-AAAA11", role="public"), "care_request.read", "R-AAAA11", region.id)
    _log(
        db,
        Caller(key="sms:+31612345678", role="provider", provider_id=provider.id),
        "reservation.decline",
        "R-AAAA11",
        region.id,
    )
    _log(db, caller_for_user(meldpunt, "meldpunt"), "care_request.read", "R-BBBB22", region.id)
    db.session.commit()

    web_login(client, coordinator)
    html = client.get("/coordinator/inzage?aanvraag=r-aaaa11").get_data(as_text=True)
    text = _text(html)
    assert "Kees Smit (Wijkteam Noord) verwijzer maakte aanvraag R-AAAA11" in text
    assert "Fatima Bakker (Zorg Delft) meldpunt bekeek aanvraag R-AAAA11" in text
    assert "API-sleutel 'test provider' (Zorg Delft)" in text
    assert "bevestigde reservering van aanvraag R-AAAA11" in text
    assert "De aanvrager, via de link in de sms" in text
    assert "Sms-antwoord van een medewerker (Zorg Delft)" in text and "+31612345678" not in html
    for raw in ("user:", "token:", "care_request.", "reservation.", "link:R-", "success"):
        assert raw not in text, raw
    assert "R-BBBB22" not in text

    # By person: everything Fatima looked at in the region, newest first.
    people = dict(access_view.people_in_log(db.session, frozenset({region.id})))
    key = f"user:{meldpunt.id}"
    assert people[key] == "Fatima Bakker (Zorg Delft)"
    html = client.get(f"/coordinator/inzage?persoon={key}").get_data(as_text=True)
    text = _text(html)
    assert "Inzage door Fatima Bakker (Zorg Delft)" in text
    assert text.index("bekeek aanvraag R-BBBB22") < text.index("bekeek aanvraag R-AAAA11")
    assert "Kees Smit" not in text.split("Inzage door")[1]
    # By person and request together.
    text = _text(client.get(f"/coordinator/inzage?persoon={key}&aanvraag=R-BBBB22").get_data(True))
    assert "bekeek aanvraag R-BBBB22" in text and "bekeek aanvraag R-AAAA11" not in text

    # Each reading of the log is logged, per request shown, by the coordinator.
    db.session.expire_all()
    reads = db.session.scalars(
        select(AccessLog).where(AccessLog.action == "access_log.read").order_by(AccessLog.id)
    ).all()
    assert [(r.client_reference, r.actor) for r in reads] == [
        ("R-AAAA11", f"user:{coordinator.id}"),
        ("R-AAAA11", f"user:{coordinator.id}"),
        ("R-BBBB22", f"user:{coordinator.id}"),
        ("R-BBBB22", f"user:{coordinator.id}"),
    ]
    assert all(r.at <= clock.now() for r in reads)


def test_a_person_of_another_region_is_not_a_choice_nor_a_filter(client, db, make):
    mine, other = make.region(), make.region()
    stranger = make.user("verwijzer", name="Piet Ander")
    _log(db, caller_for_user(stranger, "verwijzer"), "care_request.read", "R-CCCC33", other.id)
    db.session.commit()
    web_login(client, make.user("coordinator", regions=[mine]))
    html = client.get(f"/coordinator/inzage?persoon=user:{stranger.id}").get_data(as_text=True)
    assert "Piet Ander" not in html and "R-CCCC33" not in html


def test_action_words_cover_every_kind_of_action():
    words = access_view.action_words
    assert words("care_request.read", "read", "R-X") == "bekeek aanvraag R-X"
    assert words("care_request.list", "search", "R-X") == "zag in een lijst aanvraag R-X"
    assert words("care_request.search", "search", "search") == "zocht aanvragen"
    assert words("reservation.check_in", "change", "R-X") == (
        "meldde de aankomst van reservering van aanvraag R-X"
    )
    assert words("access_log.read", "read", "R-X") == "bekeek inzage van R-X"
    assert words("complaint.read", "read", "klachten") == "bekeek de klachten en reacties"
    assert words("something.new_verb", "export", "R-X") == "exporteerde gegevens van R-X"


def test_the_attendance_steps_read_with_the_words_of_the_glossary():
    assert access_view.action_words("reservation.no_show", "change", "R-AAAA11") == (
        "meldde 'niet verschenen' bij reservering van aanvraag R-AAAA11"
    )
    assert access_view.action_words("reservation.check_in", "change", "R-AAAA11") == (
        "meldde de aankomst van reservering van aanvraag R-AAAA11"
    )
