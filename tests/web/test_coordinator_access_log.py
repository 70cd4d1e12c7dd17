"""The access log (inzage) on the coordinator's page: names and organisations instead of
`user:2`/`token:2`, actions in Dutch instead of `care_request.read`, a filter by person and by
request, and every reading of the log logged itself."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from respijt import clock
from respijt.models import AccessLog, ApiToken
from respijt.people.accounts import ROLE_LABELS
from respijt.people.caller import Caller, caller_for_user
from respijt.privacy import access_log as privacy
from respijt.privacy import access_view
from respijt.web.admin import role_label
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
    assert "Kees Smit (Wijkteam Noord) Verwijzer maakte aanvraag R-AAAA11 Toegestaan" in text
    assert "Fatima Bakker (Zorg Delft) Meldpunt bekeek aanvraag R-AAAA11" in text
    # An API token is named as the koppeling it is, by its name and provider.
    assert (
        "Koppeling 'test provider' (Zorg Delft) Aanbieder bevestigde reservering van aanvraag "
        "R-AAAA11"
    ) in text
    assert "API-sleutel" not in text and "Persoon of" not in text
    assert '<label class="utrecht-form-label" for="persoon">Wie</label>' in html

    # The role and outcome cells start with a capital, in the words the other pages use.
    def column(label: str) -> set[str]:
        return {unescape(c) for c in re.findall(rf'data-label="{label}">([^<]*)</td>', html)}

    assert column("Rol") == {"Verwijzer", "Meldpunt", "Aanbieder", "Aanvrager of websitebezoeker"}
    assert column("Uitkomst") == {"Toegestaan"}
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


def test_roles_read_as_on_the_other_pages_and_never_as_a_raw_key(db, make):
    for role in ROLE_LABELS:
        assert access_view.ROLE_WORDS[role] == role_label(role)  # the admin's pages' words
    region = make.region()
    _log(db, Caller(key="public", role="public"), "care_request.read", "R-DDDD44", region.id)
    db.session.flush()
    row = db.session.scalars(select(AccessLog).where(AccessLog.client_reference == "R-DDDD44"))
    entry = access_view.entries(db.session, list(row))[0]
    assert (entry.role, entry.outcome) == ("Aanvrager of websitebezoeker", "Toegestaan")
    # A role or outcome the page has no word for yet (never stored: a row made here).
    unknown = AccessLog(
        at=clock.now(),
        event="read",
        action="care_request.read",
        client_reference="R-DDDD44",
        actor="public",
        role="newrole",
        outcome="odd",
        purpose="zorgbemiddeling",
    )
    [odd] = access_view.entries(db.session, [unknown])
    assert (odd.role, odd.outcome) == ("Onbekende rol", "Onbekend")
