"""Login, second factor, logout, account, password change, reset and invitation pages.

Views are thin: parse the form → call respijt.people.accounts in `respijt.edge.transaction` →
then send mail. The sign-in flow commits more than once on purpose; each commit point says why.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from respijt import clock, edge
from respijt.errors import InvalidInput
from respijt.extensions import db
from respijt.messages import mail
from respijt.models import User, WebSession
from respijt.people import accounts, login_throttle
from respijt.people.tokens import list_tokens
from respijt.web import account_forms as forms
from respijt.web.qr_code import qr_svg
from respijt.web.security import SessionPrincipal, current_principal, login_required

bp = Blueprint("auth", __name__)

# Failed logins and second factors, without passwords or codes (docs/security.md).
security_log = logging.getLogger("respijt.security")
DEVICE_COOKIE = "respijt_device"
DEVICE_DAYS = 90


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


# --- failed sign-ins: a growing delay, never a lockout (respijt.people.login_throttle) -----------


def _throttled() -> bool:
    """The delay follows RESPIJT_RATELIMIT like every other limit (off only for benchmarks)."""
    return bool(current_app.config["RESPIJT_RATELIMIT"])


def _device_cookie_name() -> str:
    return "__Host-respijt-device" if current_app.config["RESPIJT_COOKIE_SECURE"] else DEVICE_COOKIE


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="respijt-device")


def _account_key(email: str) -> str:
    return login_throttle.account_key(str(current_app.config["SECRET_KEY"]), email)


def _device_nonce(email: str) -> str | None:
    """The nonce of this browser's known-device cookie, when it was set by a full sign-in to
    this very account and has not expired; else None."""
    raw = request.cookies.get(_device_cookie_name())
    if not raw:
        return None
    try:
        payload = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != _account_key(email):
        return None
    nonce = payload.get("n")
    return nonce if isinstance(nonce, str) and nonce else None


def _throttle_keys(email: str) -> tuple[list[str], list[str]]:
    """(the keys a full sign-in clears, every key an attempt counts under): a known device
    only under itself; anyone else under (account, address), the address and the account."""
    nonce = _device_nonce(email)
    if nonce is not None:
        device = login_throttle.device_key(nonce)
        return [device], [device]
    account = _account_key(email)
    pair = login_throttle.pair_key(str(current_app.config["SECRET_KEY"]), email, _source())
    return [account, pair], [pair, login_throttle.address_key(_source()), account]


def _remember_device(response: BaseResponse, email: str) -> BaseResponse:
    """After a full sign-in: mark this browser as a known device of the account."""
    nonce = _device_nonce(email) or secrets.token_urlsafe(16)
    response.set_cookie(
        _device_cookie_name(),
        _device_serializer().dumps({"a": _account_key(email), "n": nonce}),
        max_age=DEVICE_DAYS * 86400,
        secure=bool(current_app.config["RESPIJT_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return response


def _user_ref(email: str) -> str:
    """Who, for the security log: the user id, never the address typed (people type their
    password into the e-mail field)."""
    user_id = db.session.scalar(
        select(User.id).where(User.email == accounts.normalise_email(email))
    )
    return str(user_id) if user_id is not None else "unknown"


def _wait_in_words(seconds: int) -> str:
    if seconds < 60:
        return "1 seconde" if seconds == 1 else f"{seconds} seconden"
    minutes = -(-seconds // 60)
    return "1 minuut" if minutes == 1 else f"{minutes} minuten"


def _refused_while_waiting(template: str, wait: int, **context: Any) -> ResponseReturnValue:
    flash(
        "Er is te vaak een verkeerd wachtwoord of een verkeerde code gegeven. Probeer het over "
        f"{_wait_in_words(wait)} opnieuw.",
        "fout",
    )
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _begin_attempt(
    keys: list[str], email: str, what: str
) -> tuple[login_throttle.Attempt | None, int]:
    """Count one attempt (committed at once, so it counts whatever happens next)."""
    if not _throttled():
        return None, 0
    settings = login_throttle.ThrottleSettings.from_config(current_app.config)
    # A transaction of its own: the attempt stays counted even when the request then fails.
    attempt, wait = edge.transaction(
        lambda: login_throttle.begin(db.session, keys, clock.now(), settings)
    )
    if attempt is None:
        security_log.warning(
            "%s refused while waiting %ss: user=%s source=%s",
            what,
            wait,
            _user_ref(email),
            _source(),
        )
    return attempt, wait


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = forms.LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        subjects, keys = _throttle_keys(email)
        attempt, wait = _begin_attempt(keys, email, "login")
        if wait:
            return _refused_while_waiting("login.html", wait, form=form)

        def sign_in() -> tuple[User, WebSession, str] | None:
            user = accounts.authenticate(db.session, email, form.password.data)
            if user is None:
                return None
            if attempt is not None:
                login_throttle.give_back(db.session, attempt, keys)
                if not accounts.requires_second_factor(user):
                    login_throttle.clear(db.session, subjects)
            return user, *accounts.start_session(db.session, user, clock.now(), _source())

        signed_in = edge.transaction(sign_in)
        if signed_in is None:
            security_log.warning("login failed: user=%s source=%s", _user_ref(email), _source())
            flash("E-mailadres of wachtwoord onjuist, of het account is uitgeschakeld.", "fout")
            return _page("login.html", 200, form=form)
        user, web_session, secret = signed_in
        target = _safe_next(request.args.get("next"))
        session.clear()  # a fresh cookie session: nothing carried over from before login
        login_user(SessionPrincipal(secret, web_session))
        if accounts.requires_second_factor(user):
            session["after_second_factor"] = target
            if user.totp_confirmed_at is None:
                return redirect(url_for("auth.totp_setup"))
            return redirect(url_for("auth.second_factor"))
        return _remember_device(redirect(target), user.email)
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
        user = principal.user
        subjects, keys = _throttle_keys(user.email)
        attempt, wait = _begin_attempt(keys, user.email, "second factor")
        if wait:
            return _refused_while_waiting("second_factor.html", wait, form=form)
        now = clock.now()
        web_session = principal.web_session
        max_failures = int(current_app.config["RESPIJT_SECOND_FACTOR_MAX_FAILURES"])

        def check_code() -> int | None:
            """None when the code is right; else the number of wrong codes in this session."""
            if accounts.verify_second_factor(db.session, web_session, form.code.data, now):
                if attempt is not None:
                    login_throttle.give_back(db.session, attempt, keys)
                    login_throttle.clear(db.session, subjects)
                return None
            wrong = login_throttle.count_failure(
                db.session, login_throttle.session_key(web_session.id), now
            )
            if wrong >= max_failures:
                # This half-signed-in session is over: back to the password.
                accounts.end_session(web_session, now)
            return wrong

        wrong = edge.transaction(check_code)
        if wrong is None:
            target = _safe_next(session.pop("after_second_factor", None))
            return _remember_device(redirect(target), user.email)
        security_log.warning(
            "second factor failed: user=%s source=%s session=%s wrong=%s",
            user.id,
            _source(),
            web_session.id,
            wrong,
        )
        if wrong >= max_failures:
            security_log.warning(
                "second factor: session %s ended after %s wrong codes: user=%s source=%s",
                web_session.id,
                wrong,
                user.id,
                _source(),
            )
            _end_browser_session()
            flash("Te vaak een verkeerde code. Meld u opnieuw aan.", "fout")
            return redirect(url_for("auth.login"))
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
    # A transaction of its own: the secret shown on the page must stay valid even when the
    # code typed next is wrong.
    secret = edge.transaction(lambda: accounts.begin_totp_enrolment(db.session, user))
    form = forms.SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = edge.transaction(
                lambda: accounts.confirm_totp_enrolment(
                    db.session, user, principal.web_session, form.code.data, clock.now()
                )
            )
        except InvalidInput as exc:
            flash(exc.detail, "fout")
        else:
            return _page("recovery_codes.html", codes=codes)
    uri = accounts.provisioning_uri(user)
    return _page("totp_setup.html", form=form, secret=secret, uri=uri, qr=qr_svg(uri))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    form = forms.ConfirmForm()
    principal = current_principal()
    if request.method == "POST":
        if principal is not None:
            # Logging out ends every session of this person, on every device.
            user_id = principal.user.id
            edge.transaction(lambda: accounts.revoke_all_sessions(db.session, user_id, clock.now()))
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
        web_session, role = principal.web_session, form.role.data

        def switch() -> None:
            web_session.role = role

        edge.transaction(switch)
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
            edge.transaction(
                lambda: accounts.set_password(db.session, user, form.password.data, clock.now())
            )
        except InvalidInput as exc:
            flash(exc.detail, "fout")
            return _page("password_change.html", form=form)
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
            edge.transaction(
                lambda: accounts.set_password(db.session, user, form.password.data, clock.now())
            )
        except InvalidInput as exc:
            flash(exc.detail, "fout")
        else:
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
