"""The admin's pages for people and API tokens (issue 23): the CLI's rules, on the web.

An admin invites a provider user, who sets a password through the mailed link and enrols the
second factor by the QR code; changes roles and regions under the rules of `create_user`;
switches an account off (its sessions and tokens stop) and on; wipes a lost second factor;
makes a token whose secret is shown once and works, and revokes it.
"""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from respijt import clock
from respijt.messages import mail
from respijt.models import ApiToken, User, WebSession
from respijt.web.qr_code import QR_TITLE
from tests.accounts_support import csrf_token, web_login
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "lange-zin-voor-het-logeerhuis"


def _admin(client, make):
    admin = make.user("admin", name="Ada Beheer")
    web_login(client, admin)
    return admin


def _post(client, path: str, data: dict | None = None, form_page: str | None = None):
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**(data or {}), "csrf_token": token})


def _mailed_path() -> str:
    body = mail.outbox[-1].get_content()
    return re.search(r"http://127\.0\.0\.1(/\S+)", body).group(1)


def test_an_admin_invites_a_provider_user_who_enrols_the_second_factor(client, app, db, make):
    provider = make.provider(name="Zorghuis De Linde")
    _admin(client, make)
    mail.outbox.clear()
    invite = {
        "naam": "Nina Nieuw",
        "email": "Nina@Example.nl",
        "rollen": ["provider"],
        "aanbieder": str(provider.id),
    }
    # A provider role without a provider: the reason beside the field, nothing typed lost.
    refused = _post(client, "/beheer/gebruikers/nieuw", {**invite, "aanbieder": ""})
    assert refused.status_code == 400
    assert "horen bij één bestaande aanbieder" in refused.text
    assert 'value="Nina Nieuw"' in refused.text and mail.outbox == []
    done = _post(client, "/beheer/gebruikers/nieuw", invite)
    assert done.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nina@example.nl"))
    assert user.roles == ["provider"] and user.provider_id == provider.id
    assert user.password_hash is None
    assert done.headers["Location"] == f"/beheer/gebruikers/{user.id}"
    page = client.get(done.headers["Location"]).text
    assert "De uitnodiging is verstuurd naar nina@example.nl." in page
    assert "uitgenodigd, nog geen wachtwoord" in page
    twice = _post(client, "/beheer/gebruikers/nieuw", invite)
    assert twice.status_code == 400 and "Er bestaat al een gebruiker" in twice.text

    # The invited person: the link, a password, the first sign-in, the QR code.
    path = _mailed_path()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    response = client.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    response = web_login(client, user, password=NEW_PASSWORD)
    assert response.headers["Location"] == "/account/2fa"
    setup = client.get("/account/2fa").text
    assert QR_TITLE in setup and "<svg" in setup
    secret = re.search(r'<code class="sleutel">([A-Z2-7 ]+)</code>', setup).group(1)
    secret = secret.replace(" ", "")
    confirmed = client.post(
        "/account/2fa",
        data={
            "code": pyotp.TOTP(secret).at(clock.now()),
            "csrf_token": csrf_token(client, "/account/2fa"),
        },
    )
    assert "herstelcode" in confirmed.text.lower()
    assert client.get("/aanbieder").status_code == 200


def test_roles_and_regions_follow_the_rules_of_the_command_line(client, db, make):
    admin = _admin(client, make)
    region = make.region(name="Regio Oost")
    person = make.user("verwijzer", name="Vera")
    path = f"/beheer/gebruikers/{person.id}"
    page = client.get(path)
    assert page.status_code == 200 and "Vera" in page.text
    no_role = _post(client, path, {"organisatie": "Wijkteam"})
    assert no_role.status_code == 400 and "Kies een of meer rollen: aanbieder" in no_role.text
    no_region = _post(client, path, {"rollen": ["coordinator"]})
    assert no_region.status_code == 400
    assert "Een coördinator hoort bij een of meer regio" in no_region.text
    saved = _post(client, path, {"rollen": ["coordinator"], "regios": [region.code]})
    assert saved.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.roles == ["coordinator"] and person.region_ids == [region.id]
    assert person.organisation is None
    # An admin does not take their own admin role away.
    own = _post(client, f"/beheer/gebruikers/{admin.id}", {"rollen": ["verwijzer"]})
    assert own.status_code == 400 and "eigen rol beheerder" in own.text
    assert "Regio Oost" in client.get("/beheer/gebruikers").text


def test_disable_stops_sessions_and_tokens_and_enable_lets_the_person_in(client, app, db, make):
    admin = _admin(client, make)
    person = make.user("verwijzer", name="Vera")
    other = app.test_client()
    web_login(other, person)
    assert other.get("/account").status_code == 200
    headers = make.token("admin")
    token = db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
    token.user_id = person.id
    token.role = "verwijzer"
    db.session.commit()
    page = f"/beheer/gebruikers/{person.id}"
    disabled = _post(client, f"{page}/uitschakelen", form_page=page)
    assert disabled.status_code == 302
    assert other.get("/account").status_code == 302  # back to the login page
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert client.get(f"/beheer/gebruikers/{person.id}").text.count("uitgeschakeld") >= 1
    assert client.get("/api/v1/access-log", headers=headers).status_code == 401
    # Not oneself.
    mine = f"/beheer/gebruikers/{admin.id}"
    assert "Account uitschakelen" not in client.get(mine).text
    assert (
        "eigen account niet"
        in client.post(
            f"{mine}/uitschakelen",
            data={"csrf_token": csrf_token(client, mine)},
            follow_redirects=True,
        ).text
    )
    db.session.expire_all()
    assert db.session.get(User, admin.id).active
    enabled = _post(client, f"{page}/inschakelen", form_page=page)
    assert enabled.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).active
    web_login(other, db.session.get(User, person.id))
    assert other.get("/account").status_code == 200


def test_a_lost_second_factor_is_wiped_and_enrolled_again(client, app, db, make):
    _admin(client, make)
    person = make.user("provider", name="Piet")
    other = app.test_client()
    web_login(other, person)
    page = f"/beheer/gebruikers/{person.id}"
    assert "Tweestapsverificatie wissen" in client.get(page).text
    reset = _post(client, f"{page}/tweestap-opnieuw", form_page=page)
    assert reset.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.totp_secret is None and person.totp_confirmed_at is None
    live = db.session.scalars(
        select(WebSession).where(WebSession.user_id == person.id, WebSession.revoked_at.is_(None))
    ).all()
    assert live == []
    again = app.test_client()
    assert web_login(again, person).headers["Location"] == "/account/2fa"


def test_a_token_is_shown_once_works_and_is_revoked(client, db, make):
    _admin(client, make)
    provider = make.provider(name="Zorghuis De Linde")
    refused = _post(client, "/beheer/tokens", {"naam": "Koppeling", "rol": "coordinator"})
    assert refused.status_code == 400
    assert "hoort bij één of meer regio" in refused.text and "--region" not in refused.text
    national = _post(
        client, "/beheer/tokens", {"naam": "x", "rol": "admin", "aanbieder": str(provider.id)}
    )
    assert "Een token met rol &#39;beheerder&#39; hoort niet bij een aanbieder." in national.text
    made = _post(
        client,
        "/beheer/tokens",
        {"naam": "Planningssysteem", "rol": "provider", "aanbieder": str(provider.id)},
    )
    assert made.status_code == 201
    secret = re.search(r'data-testid="secret">(rsp_[^<]+)<', made.text).group(1)
    assert made.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/tariffs", headers=headers).status_code == 200
    listing = client.get("/beheer/tokens").text
    assert "Planningssysteem" in listing and secret not in listing
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "Planningssysteem"))
    assert token.provider_id == provider.id
    revoked = _post(client, f"/beheer/tokens/{token.id}/intrekken", form_page="/beheer/tokens")
    assert revoked.status_code == 302
    assert client.get("/api/v1/tariffs", headers=headers).status_code == 401
    assert "ingetrokken" in client.get("/beheer/tokens").text


def test_only_an_admin_opens_the_admin_pages(client, db, make):
    web_login(client, make.user("coordinator"))
    for path in ("/beheer/gebruikers", "/beheer/gebruikers/nieuw", "/beheer/tokens"):
        assert client.get(path).status_code == 403
    assert TEST_PASSWORD
