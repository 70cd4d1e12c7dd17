"""Login, second factor, logout, account, password change, reset and invitation pages.

Views are thin: parse the form → call respijt.accounts → commit → then send mail.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from respijt import accounts, clock, mail
from respijt.auth import list_tokens
from respijt.errors import InvalidInput
from respijt.extensions import db
from respijt.models import User
from respijt.web import account_forms as forms
from respijt.web.security import SessionPrincipal, current_principal, login_required

bp = Blueprint("auth", __name__)


def _source() -> str | None:
    return request.remote_addr


def _safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else the account page. Parsed, never prefix-
    matched: browsers drop tabs and newlines and read a backslash as a slash, so '/\t/evil'
    or '/\\evil' would leave the site. Anything doubtful is refused, not repaired."""
    default = url_for("auth.account")
    if not target or not target.isprintable() or "\\" in target:
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    if urlunsplit(parts) != target:  # urlsplit dropped something ('///host' → '/host')
        return default
    path = unquote(parts.path)
    if path.startswith("//") or "\\" in path or not path.isprintable():
        return default
    return target


def _page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(template, **context), status


def _end_browser_session() -> None:
    logout_user()
    session.clear()


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = forms.LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            flash("E-mailadres of wachtwoord onjuist, of het account is uitgeschakeld.", "fout")
            return _page("login.html", 200, form=form)
        web_session, secret = accounts.start_session(db.session, user, clock.now(), _source())
        db.session.commit()
        target = _safe_next(request.args.get("next"))
        session.clear()  # a fresh cookie session: nothing carried over from before login
        login_user(SessionPrincipal(secret, web_session))
        if accounts.requires_second_factor(user):
            session["after_second_factor"] = target
            if user.totp_confirmed_at is None:
                return redirect(url_for("auth.totp_setup"))
            return redirect(url_for("auth.second_factor"))
        return redirect(target)
    return _page("login.html", form=form)


@bp.route("/login/2fa", methods=["GET", "POST"])
@login_required(second_factor=False)
def second_factor() -> ResponseReturnValue:
    principal = current_principal()
    assert principal is not None
    if principal.fully_authenticated:
        return redirect(url_for("auth.account"))
    if principal.user.totp_confirmed_at is None:
        return redirect(url_for("auth.totp_setup"))
    form = forms.SecondFactorForm()
    if form.validate_on_submit():
        if accounts.verify_second_factor(
            db.session, principal.web_session, form.code.data, clock.now()
        ):
            db.session.commit()
            return redirect(_safe_next(session.pop("after_second_factor", None)))
        db.session.commit()
        flash("De code klopt niet.", "fout")
    return _page("second_factor.html", form=form)


@bp.route("/account/2fa", methods=["GET", "POST"])
@login_required(second_factor=False)
def totp_setup() -> ResponseReturnValue:
    principal = current_principal()
    assert principal is not None
    user = principal.user
    if user.totp_confirmed_at is not None:
        if not principal.fully_authenticated:
            return redirect(url_for("auth.second_factor"))
        flash("Tweestapsverificatie is al ingesteld.", "info")
        return redirect(url_for("auth.account"))
    secret = accounts.begin_totp_enrolment(db.session, user)
    db.session.commit()
    form = forms.SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = accounts.confirm_totp_enrolment(
                db.session, user, principal.web_session, form.code.data, clock.now()
            )
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.detail, "fout")
        else:
            db.session.commit()
            return _page("recovery_codes.html", codes=codes)
    return _page("totp_setup.html", form=form, secret=secret, uri=accounts.provisioning_uri(user))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    form = forms.ConfirmForm()
    principal = current_principal()
    if request.method == "POST":
        if principal is not None:
            # Logging out ends every session of this person, on every device.
            accounts.revoke_all_sessions(db.session, principal.user.id, clock.now())
            db.session.commit()
        _end_browser_session()
        flash("U bent afgemeld.", "info")
        return redirect(url_for("auth.login"))
    return _page("logout.html", form=form, signed_in=principal is not None)


@bp.route("/account", methods=["GET"])
@login_required()
def account() -> ResponseReturnValue:
    principal = current_principal()
    assert principal is not None
    user = principal.user
    role_form = forms.RoleForm(role=principal.web_session.role)
    role_form.role.choices = [(r, accounts.ROLE_LABELS[r]) for r in user.roles]
    return _page(
        "account.html",
        user=user,
        acting_role=principal.web_session.role,
        role_labels=accounts.ROLE_LABELS,
        role_form=role_form,
        recovery_codes_left=accounts.unused_recovery_codes(db.session, user.id),
        tokens=list_tokens(db.session, user.id),
    )


@bp.route("/account/role", methods=["POST"])
@login_required()
def switch_role() -> ResponseReturnValue:
    principal = current_principal()
    assert principal is not None
    form = forms.RoleForm()
    form.role.choices = [(r, r) for r in principal.user.roles]
    if form.validate_on_submit():
        principal.web_session.role = form.role.data
        db.session.commit()
        flash(f"U werkt nu als {accounts.ROLE_LABELS[form.role.data]}.", "info")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required()
def password_change() -> ResponseReturnValue:
    principal = current_principal()
    assert principal is not None
    form = forms.PasswordChangeForm()
    if form.validate_on_submit():
        user = principal.user
        if accounts.authenticate(db.session, user.email, form.current.data) is None:
            flash("Het huidige wachtwoord klopt niet.", "fout")
            return _page("password_change.html", form=form)
        try:
            accounts.set_password(db.session, user, form.password.data, clock.now())
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.detail, "fout")
            return _page("password_change.html", form=form)
        db.session.commit()
        _end_browser_session()
        flash("Uw wachtwoord is gewijzigd. Meld u opnieuw aan.", "info")
        return redirect(url_for("auth.login"))
    return _page("password_change.html", form=form)


@bp.route("/password/reset", methods=["GET", "POST"])
def password_reset_request() -> ResponseReturnValue:
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user(db.session, form.email.data)
        db.session.rollback()
        if user is not None and user.active and "@" in form.email.data:
            send_link_mail(user, accounts.PASSWORD_RESET)
        # The same answer either way: the page does not tell who has an account.
        return _page(
            "message.html",
            title="Kijk in uw mail",
            text="Als dit adres bij ons bekend is, ontvangt u een link om een nieuw "
            "wachtwoord in te stellen. De link werkt één keer en verloopt na "
            f"{current_app.config['RESPIJT_PASSWORD_RESET_MINUTES']} minuten.",
        )
    return _page("password_reset_request.html", form=form)


def _link_max_age(purpose: str) -> timedelta:
    config = current_app.config
    if purpose == accounts.INVITATION:
        return timedelta(hours=config["RESPIJT_INVITATION_HOURS"])
    return timedelta(minutes=config["RESPIJT_PASSWORD_RESET_MINUTES"])


def _set_password_by_link(token: str, purpose: str) -> ResponseReturnValue:
    try:
        user = accounts.read_link_token(
            db.session, current_app.config["SECRET_KEY"], token, purpose, _link_max_age(purpose)
        )
    except accounts.LinkInvalid as exc:
        db.session.rollback()
        return _page("message.html", 400, title="Link ongeldig", text=exc.detail)
    form = forms.NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(db.session, user, form.password.data, clock.now())
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.detail, "fout")
        else:
            db.session.commit()
            _end_browser_session()
            flash("Uw wachtwoord is ingesteld. Meld u aan.", "info")
            return redirect(url_for("auth.login"))
    title = "Welkom bij respijt" if purpose == accounts.INVITATION else "Nieuw wachtwoord"
    return _page("set_password.html", form=form, title=title, email=user.email)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str) -> ResponseReturnValue:
    return _set_password_by_link(token, accounts.PASSWORD_RESET)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    return _set_password_by_link(token, accounts.INVITATION)


def link_url(config: Any, user: User, purpose: str) -> str:
    token = accounts.make_link_token(config["SECRET_KEY"], user, purpose)
    path = "invitation" if purpose == accounts.INVITATION else "password/reset"
    return f"{config['RESPIJT_PUBLIC_URL']}/{path}/{token}"


def send_link_mail(user: User, purpose: str, config: Any = None) -> None:
    """The invitation or reset mail (after the commit that created or found the user)."""
    config = config or current_app.config
    url = link_url(config, user, purpose)
    if purpose == accounts.INVITATION:
        subject = "Uitnodiging voor respijt"
        hours = config["RESPIJT_INVITATION_HOURS"]
        body = (
            f"Beste {user.name},\n\nU bent uitgenodigd voor respijt, het systeem voor "
            f"logeerbedden. Kies uw wachtwoord via deze link (werkt één keer, {hours} uur "
            f"geldig):\n\n{url}\n"
        )
    else:
        subject = "Nieuw wachtwoord voor respijt"
        minutes = config["RESPIJT_PASSWORD_RESET_MINUTES"]
        body = (
            f"Beste {user.name},\n\nVia deze link kiest u een nieuw wachtwoord (werkt één keer, "
            f"{minutes} minuten geldig):\n\n{url}\n\nHeeft u dit niet aangevraagd? Dan kunt u "
            "deze mail negeren.\n"
        )
    mail.send_mail(mail.MailSettings.from_config(config), user.email, subject, body)
