"""Forms of the account pages (Flask-WTF: each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

REQUIRED = "Dit veld is verplicht."


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("E-mailadres", validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("Wachtwoord", validators=[DataRequired(REQUIRED), Length(max=256)])


class SecondFactorForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        "Code uit uw app of een herstelcode",
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "Nieuw wachtwoord (minstens 12 tekens)",
        validators=[DataRequired(REQUIRED), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        "Herhaal het nieuwe wachtwoord",
        validators=[DataRequired(REQUIRED), EqualTo("password", "De wachtwoorden verschillen.")],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(NewPasswordForm):
    current = PasswordField(
        "Huidig wachtwoord",
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )


class ResetRequestForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("E-mailadres", validators=[DataRequired(REQUIRED), Length(max=254)])


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField("Werken als", choices=[])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button only (logout): the CSRF token is the content."""
