"""The admin's pages for people: the list of accounts, an invitation, and per person their
roles, provider, organisation and regions, switching the account off and on, and a new second
factor after a lost phone. API tokens: `admin_tokens.py`.

Every rule is the one the command line follows (`respijt user …`): `people.accounts`
(`create_user`, `disable_user`, `enable_user`, `reset_second_factor`) and
`people.account_rules` (`update_account`). The invited person chooses a password through the
link in the mail (`/invitation/<token>`) and, for the roles that need it, enrols the second
factor by the QR code of `/account/2fa` at the first sign-in. Each change is a line in the
security log (who did what to which account id; no addresses, no secrets): accounts hold no
client data, so, as on the command line, they write no access-log row.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.errors import InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import Provider, Region, User
from respijt.people import account_rules, accounts
from respijt.people.accounts import ROLE_LABELS
from respijt.people.caller import ROLES
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web.admin_forms import AccountFields, InviteForm
from respijt.web.auth import send_link_mail
from respijt.web.security import current_principal, login_required

security_log = logging.getLogger("respijt.security")

# The domain's field names → the form's.
ACCOUNT_FIELDS = {
    "roles": "rollen",
    "provider": "aanbieder",
    "organisation": "organisatie",
    "regions": "regios",
    "email": "email",
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role).capitalize()


def _actor_id() -> int:
    principal = current_principal()
    assert principal is not None
    return int(principal.user.id)


def _audit(what: str, user_id: int) -> None:
    security_log.info("admin %s: %s user=%s", _actor_id(), what, user_id)


def _fill_choices(form: AccountFields) -> None:
    form.rollen.choices = {role: role_label(role) for role in ROLES}
    providers = db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name))
    form.aanbieder.choices = {"": "Geen aanbieder", **{str(i): n for i, n in providers}}
    regions = db.session.execute(select(Region.code, Region.name).order_by(Region.name))
    form.regios.choices = {code: f"{name} ({code})" for code, name in regions}


def _account_values(form: AccountFields) -> dict[str, Any]:
    return {
        "roles": [role for role in form.rollen.data or [] if role in ROLES],
        "provider_id": parse_id(form.aanbieder.data),
        "organisation": (form.organisatie.data or "").strip() or None,
        "region_codes": list(form.regios.data or []),
    }


def _show_errors(form: AccountFields, exc: InvalidInput) -> None:
    params = exc.params or [{"name": "roles", "reason": exc.detail}]
    for param in params:
        getattr(form, ACCOUNT_FIELDS.get(param["name"], "rollen")).errors = [param["reason"]]


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("Deze gebruiker bestaat niet.")
    return user


def status_label(user: User) -> str:
    if not user.active:
        return "uitgeschakeld"
    if not user.password_hash:
        return "uitgenodigd, nog geen wachtwoord"
    return "actief"


def _names() -> dict[str, dict[int, str]]:
    return {
        "providers": dict(db.session.execute(select(Provider.id, Provider.name)).all()),
        "regions": dict(db.session.execute(select(Region.id, Region.name)).all()),
    }


@blp.route("/beheer/gebruikers")
@login_required("admin")
def admin_users() -> ResponseReturnValue:
    return render_template(
        "admin/users.html",
        users=accounts.list_users(db.session),
        role_label=role_label,
        status_label=status_label,
        **_names(),
    )


@blp.route("/beheer/gebruikers/nieuw", methods=["GET", "POST"])
@login_required("admin")
def admin_invite() -> ResponseReturnValue:
    form = InviteForm()
    _fill_choices(form)
    if not form.validate_on_submit():
        return render_template("admin/invite.html", form=form), (
            400 if request.method == "POST" else 200
        )
    values = _account_values(form)
    try:
        user = edge.transaction(
            lambda: accounts.create_user(
                db.session,
                email=str(form.email.data),
                name=str(form.naam.data),
                now=clock.now(),
                **values,
            )
        )
    except InvalidInput as exc:
        if "e-mailadres" in exc.detail:
            form.email.errors = [exc.detail]
        else:
            _show_errors(form, exc)
        return render_template("admin/invite.html", form=form), 400
    # After the commit: the link is signed with the password stamp the user now has.
    send_link_mail(user, accounts.INVITATION)
    _audit("invited", user.id)
    flash(f"De uitnodiging is verstuurd naar {user.email}.", "info")
    return redirect(url_for("web.admin_user", user_id=user.id))


def _user_page(user: User, form: AccountFields, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "admin/user.html",
        person=user,
        form=form,
        role_label=role_label,
        status_label=status_label,
        is_me=user.id == _actor_id(),
        recovery_codes_left=accounts.unused_recovery_codes(db.session, user.id),
        **_names(),
    ), status


@blp.route("/beheer/gebruikers/<int:user_id>", methods=["GET", "POST"])
@login_required("admin")
def admin_user(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    if request.method == "GET":
        form = AccountFields(
            data={
                "rollen": list(user.roles),
                "aanbieder": str(user.provider_id or ""),
                "organisatie": user.organisation or "",
                "regios": [row.region.code for row in _region_rows(user)],
            }
        )
        _fill_choices(form)
        return _user_page(user, form)
    form = AccountFields()
    _fill_choices(form)
    if not form.validate_on_submit():
        return _user_page(user, form, 400)
    values = _account_values(form)
    actor = _actor_id()
    try:
        edge.transaction(
            lambda: account_rules.update_account(db.session, user, actor_id=actor, **values)
        )
    except InvalidInput as exc:
        db.session.rollback()
        _show_errors(form, exc)
        return _user_page(_user(user_id), form, 400)
    _audit("changed roles and regions of", user.id)
    flash("De rollen en regio's zijn opgeslagen.", "info")
    return redirect(url_for("web.admin_user", user_id=user.id))


def _region_rows(user: User) -> list[Any]:
    return list(
        db.session.scalars(
            select(Region).where(Region.id.in_(user.region_ids)).order_by(Region.name)
        )
    )


@blp.route("/beheer/gebruikers/<int:user_id>/uitschakelen", methods=["POST"])
@login_required("admin")
def admin_disable_user(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    actor = _actor_id()

    def work() -> None:
        account_rules.ensure_not_self(user, actor)
        accounts.disable_user(db.session, user, clock.now())

    try:
        edge.transaction(work)
    except InvalidInput as exc:
        flash(exc.detail, "fout")
        return redirect(url_for("web.admin_user", user_id=user_id))
    _audit("disabled", user_id)
    flash(
        f"{user.name} is uitgeschakeld: aanmelden kan niet meer, sessies en tokens werken niet "
        "meer.",
        "info",
    )
    return redirect(url_for("web.admin_user", user_id=user_id))


@blp.route("/beheer/gebruikers/<int:user_id>/inschakelen", methods=["POST"])
@login_required("admin")
def admin_enable_user(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    edge.transaction(lambda: accounts.enable_user(db.session, user))
    _audit("enabled", user_id)
    flash(
        f"{user.name} kan weer aanmelden. Oude tokens blijven ingetrokken; maak zo nodig een "
        "nieuw token.",
        "info",
    )
    return redirect(url_for("web.admin_user", user_id=user_id))


@blp.route("/beheer/gebruikers/<int:user_id>/tweestap-opnieuw", methods=["POST"])
@login_required("admin")
def admin_reset_second_factor(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    edge.transaction(lambda: accounts.reset_second_factor(db.session, user, clock.now()))
    _audit("reset the second factor of", user_id)
    flash(
        f"De tweestapsverificatie van {user.name} is gewist. Bij de volgende keer aanmelden "
        f"stelt {user.name} een nieuwe app in met de QR-code.",
        "info",
    )
    return redirect(url_for("web.admin_user", user_id=user_id))


@blp.route("/beheer/gebruikers/<int:user_id>/uitnodiging", methods=["POST"])
@login_required("admin")
def admin_resend_invitation(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    if not user.active or user.password_hash:
        flash("Deze persoon heeft al een wachtwoord of is uitgeschakeld.", "fout")
        return redirect(url_for("web.admin_user", user_id=user_id))
    db.session.rollback()
    send_link_mail(user, accounts.INVITATION)
    _audit("sent the invitation again to", user_id)
    flash(f"De uitnodiging is opnieuw verstuurd naar {user.email}.", "info")
    return redirect(url_for("web.admin_user", user_id=user_id))
