"""The admin's page for API tokens: the list (never a secret), a new token whose secret is
shown once, and revoking one. The rules are those of `respijt token …`
(`people.tokens.create_token`, `revoke_token`): a provider or meldpunt token belongs to one
provider, a coordinator token to regions or to a person (then the person's regions), an admin
token is national. Each creation and revocation is a line in the security log (no secret).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.errors import InvalidInput
from respijt.extensions import db
from respijt.models import ApiToken, Provider, Region, User
from respijt.people.caller import ROLES
from respijt.people.tokens import create_token, list_tokens, revoke_token
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web.admin import role_label
from respijt.web.admin_forms import TokenForm
from respijt.web.security import current_principal, login_required

security_log = logging.getLogger("respijt.security")
# The command line's option names in a rule's message ("(--provider)") mean nothing on a page.
_OPTION = re.compile(r" \(--[a-z-]+\)")


def _fill_choices(form: TokenForm) -> None:
    form.rol.choices = {role: role_label(role) for role in ROLES}
    providers = db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name))
    form.aanbieder.choices = {"": "Geen aanbieder", **{str(i): n for i, n in providers}}
    people = db.session.execute(
        select(User.id, User.name, User.email).where(User.disabled_at.is_(None)).order_by(User.name)
    )
    form.gebruiker.choices = {
        "": "Geen: een systeem",
        **{str(i): f"{n} ({e})" for i, n, e in people},
    }
    regions = db.session.execute(select(Region.code, Region.name).order_by(Region.name))
    form.regios.choices = {code: f"{name} ({code})" for code, name in regions}


def token_status(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "ingetrokken"
    if token.expires_at is not None and token.expires_at <= clock.now():
        return "verlopen"
    return "actief"


def _page(form: TokenForm, status: int = 200, **extra: Any) -> ResponseReturnValue:
    return render_template(
        "admin/tokens.html",
        form=form,
        tokens=list_tokens(db.session),
        providers=dict(db.session.execute(select(Provider.id, Provider.name)).all()),
        people=dict(db.session.execute(select(User.id, User.name)).all()),
        role_label=role_label,
        token_status=token_status,
        **extra,
    ), status


@blp.route("/beheer/tokens", methods=["GET", "POST"])
@login_required("admin")
def admin_tokens() -> ResponseReturnValue:
    form = TokenForm()
    _fill_choices(form)
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 400)
    role = str(form.rol.data)
    if role not in ROLES:
        form.rol.errors = ["Kies een rol uit de lijst."]
        return _page(form, 400)
    now = clock.now()
    days = int(form.dagen.data) if form.dagen.data else None

    def work() -> tuple[int, str]:
        token, secret = create_token(
            db.session,
            role=role,
            name=str(form.naam.data).strip(),
            now=now,
            provider_id=parse_id(form.aanbieder.data),
            expires_at=now + timedelta(days=days) if days else None,
            user_id=parse_id(form.gebruiker.data),
            region_codes=list(form.regios.data or []),
        )
        return token.id, secret

    try:
        token_id, secret = edge.transaction(work)
    except InvalidInput as exc:
        # The rule's message names the role by its key ('coordinator'): the page says it in Dutch.
        problem = _OPTION.sub("", exc.detail).replace(f"'{role}'", f"'{role_label(role).lower()}'")
        return _page(form, 400, problem=problem)
    _log("created token", token_id)
    # The secret is on this answer only (no-store): it is not kept and never shown again.
    return render_template(
        "admin/token_created.html", secret=secret, token_id=token_id, name=form.naam.data
    ), 201


@blp.route("/beheer/tokens/<int:token_id>/intrekken", methods=["POST"])
@login_required("admin")
def admin_revoke_token(token_id: int) -> ResponseReturnValue:
    if edge.transaction(lambda: revoke_token(db.session, token_id, clock.now())):
        _log("revoked token", token_id)
        flash(f"Token {token_id} is ingetrokken en werkt niet meer.", "info")
    else:
        flash(f"Token {token_id} bestaat niet of was al ingetrokken.", "fout")
    return redirect(url_for("web.admin_tokens"))


def _log(what: str, token_id: int) -> None:
    principal = current_principal()
    assert principal is not None
    security_log.info("admin %s: %s %s", principal.user.id, what, token_id)
