"""Forms of the tariff page and the admin pages (Flask-WTF: each post carries a CSRF token).

Messages are Dutch and set here. Numbers and dates are text fields checked by our own
validators (`web.forms`), so a wrong value stays in the field with a Dutch message beside it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from respijt.web.forms import IsoDate, OneOf, WholeNumber, required

FUNDING_CHOICES = {
    "wmo": "Wmo (de gemeente betaalt)",
    "elv": "ELV (eerstelijnsverblijf, de zorgverzekeraar betaalt)",
    "wlz": "Wlz (het zorgkantoor betaalt)",
}
_PRICE = re.compile(r"^\d{1,6}([.,]\d{1,2})?$")


class Price:
    """Euros per night: '123', '123,45' or '123.45'."""

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        text = str(field.data or "").strip().removeprefix("€").strip()
        if text and not _PRICE.fullmatch(text):
            raise ValidationError("Vul een bedrag in euro in, bijv. 145,50.")


def price_cents(text: str) -> int:
    return int(Decimal(text.strip().removeprefix("€").strip().replace(",", ".")) * 100)


class TariffForm(FlaskForm):  # type: ignore[misc]
    gemeente = SelectField("Gemeente", choices={}, validate_choice=False)
    financiering = SelectField(
        "Financiering",
        choices=FUNDING_CHOICES,
        validators=[required(), OneOf(FUNDING_CHOICES)],
        validate_choice=False,
    )
    productcode = StringField(
        "Productcode", validators=[required(), Length(max=20, message="Hoogstens 20 tekens.")]
    )
    tarief = StringField(
        "Tarief per nacht in euro",
        validators=[required(), Price()],
        render_kw={"inputmode": "decimal"},
    )
    geldig_vanaf = StringField(
        "Geldig vanaf", validators=[required(), IsoDate()], render_kw={"type": "date"}
    )
    geldig_tot = StringField(
        "Geldig tot (niet meegeteld; leeg = geen einddatum)",
        validators=[Optional(), IsoDate()],
        render_kw={"type": "date"},
    )


class CheckboxList(SelectMultipleField):
    """Several choices as checkboxes (roles, regions): works without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AccountFields(FlaskForm):  # type: ignore[misc]
    """What an admin sets for a person: roles, provider, organisation, regions."""

    rollen = CheckboxList("Rollen", choices={}, validate_choice=False)
    aanbieder = SelectField(
        "Aanbieder (voor de rollen aanbieder en meldpunt)", choices={}, validate_choice=False
    )
    organisatie = StringField(
        "Organisatie (voor een verwijzer)",
        validators=[Length(max=200, message="Hoogstens 200 tekens.")],
    )
    regios = CheckboxList("Regio's (voor een coördinator)", choices={}, validate_choice=False)


class InviteForm(AccountFields):
    naam = StringField(
        "Naam", validators=[required(), Length(max=200, message="Hoogstens 200 tekens.")]
    )
    email = EmailField(
        "E-mailadres", validators=[required(), Length(max=254, message="Hoogstens 254 tekens.")]
    )


class TokenForm(FlaskForm):  # type: ignore[misc]
    naam = StringField(
        "Waarvoor is dit token?",
        validators=[required(), Length(max=100, message="Hoogstens 100 tekens.")],
    )
    rol = SelectField("Rol", choices={}, validate_choice=False)
    aanbieder = SelectField(
        "Aanbieder (voor de rollen aanbieder en meldpunt)", choices={}, validate_choice=False
    )
    gebruiker = SelectField(
        "Werkt namens gebruiker (leeg = een systeem)", choices={}, validate_choice=False
    )
    regios = CheckboxList(
        "Regio's (voor een coördinatortoken zonder gebruiker)", choices={}, validate_choice=False
    )
    dagen = StringField(
        "Verloopt na zoveel dagen (leeg = verloopt niet)",
        validators=[Optional(), WholeNumber(3650)],
        render_kw={"inputmode": "numeric"},
    )
