"""The forms of the public pages (Flask-WTF: each post carries a CSRF token).

Every message is Dutch and set here: wtforms' own messages are English. Fields that must
become a number or a date are text fields checked by our own validators, so a wrong value
gets a Dutch message beside the field and stays in the field as typed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import wtforms
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from respijt.codes import (
    CARE_LEVELS,
    DATE_MAX,
    DATE_MIN,
    FUNDING_ROUTES,
    LANGUAGES,
    REQUEST_FUNDING,
    REQUEST_REASONS,
    TARGET_GROUPS,
    URGENCIES,
)
from respijt.serving.input_limits import DATE_RANGE_TEXT, INT_MAX

REQUIRED = "Vul dit veld in."
CHOOSE = "Maak een keuze."
# How soon, in the words a form shows (the request form and the meldpunt's phone form).
URGENCY_CHOICES = {
    "planned": "Gepland, er is tijd",
    "soon": "Binnenkort, binnen een week",
    "urgent": "Spoed, zo snel mogelijk",
}


REPEAT_CHOICES = {
    "": "Nee, één keer",
    "weekend": "Ja, één weekend per maand",
    "weeks": "Ja, elke paar weken",
}
WEEKEND_CHOICES = {
    "1": "Het eerste weekend",
    "2": "Het tweede weekend",
    "3": "Het derde weekend",
    "4": "Het vierde weekend",
    "-1": "Het laatste weekend",
}
EVERY_WEEKS_CHOICES = {"1": "Elke week"} | {str(n): f"Elke {n} weken" for n in (2, 3, 4, 5, 6, 8)}


class LeanSelect(Select):
    """WTForms' <select> with the same HTML, written straight from a `{value: label}` dict whose
    values may be `{value: label}` groups (<optgroup>); other choices go through WTForms.

    WTForms parses the choices twice and builds each <option> through `html_params`: for the 342
    municipalities that took longer than the availability search the page shows.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        choices = field.choices
        if (
            self.multiple
            or not isinstance(choices, dict)
            or not all(isinstance(v, (str, dict)) for v in choices.values())
        ):
            return super().__call__(field, **kwargs)  # type: ignore[no-any-return]
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        coerce, data = field.coerce, field.data

        def option(value: Any, label: Any) -> str:
            selected = " selected" if coerce(value) == data else ""
            return f'<option{selected} value="{escape(value)}">{escape(label or value)}</option>'

        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for key, value in choices.items():
            if isinstance(value, dict):
                if not value:
                    continue  # as WTForms: no empty <optgroup>
                html.append(f"<optgroup {html_params(label=key)}>")
                html.extend(option(v, label) for v, label in value.items())
                html.append("</optgroup>")
            else:
                html.append(option(key, value))
        html.append("</select>")
        return Markup("".join(html))


class SelectField(wtforms.SelectField):
    widget = LeanSelect()


def required(message: str = REQUIRED) -> InputRequired:
    return InputRequired(message=message)


class IsoDate:
    """A date as the browser's date field sends it (JJJJ-MM-DD), also when typed by hand."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            day = date.fromisoformat(str(field.data).strip())
        except ValueError as exc:
            raise ValidationError("Vul een datum in als dd-mm-jjjj, bijv. 04-12-2026.") from exc
        if not DATE_MIN <= day <= DATE_MAX:
            raise ValidationError(DATE_RANGE_TEXT)


class OneOf:
    def __init__(self, choices: dict[str, str] | list[str], message: str = CHOOSE) -> None:
        self.choices = set(choices)
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and field.data not in self.choices:
            raise ValidationError(self.message)


class WholeNumber:
    """ASCII digits only (str.isdigit() also takes '²' or '٣', which int() then refuses or
    reads), at most `maximum` (PostgreSQL's integer), so the view's int() never fails."""

    def __init__(self, maximum: int = INT_MAX) -> None:
        self.maximum = maximum

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = str(field.data or "").strip()
        if value and not (value.isascii() and value.isdigit()):
            raise ValidationError("Vul een heel getal in, bijv. 3.")
        if value and (len(value) > len(str(self.maximum)) or int(value) > self.maximum):
            raise ValidationError("Vul een heel getal in, bijv. 3. Dit getal is te groot.")


class BirthYear:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = str(field.data or "").strip()
        if not (
            value.isascii()
            and value.isdigit()
            and len(value) == 4
            and 1900 <= int(value) <= date.today().year
        ):
            raise ValidationError("Vul het geboortejaar in met vier cijfers, bijv. 1941.")


def parse_date(value: str | None) -> date | None:
    """The date, or None when it is not JJJJ-MM-DD or outside the dates any page takes."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if DATE_MIN <= day <= DATE_MAX else None


def _choices(codes: dict[str, str], placeholder: str | None = None) -> dict[str, str]:
    """wtforms' shorthand: {value: label}, first an empty value for the placeholder."""
    return {"": placeholder, **codes} if placeholder else dict(codes)


class SearchForm(FlaskForm):
    """Availability search: a plain GET form, so it works without JavaScript and links."""

    class Meta:
        csrf = False

    van = StringField("Eerste nacht", validators=[Optional(), IsoDate()])
    tot = StringField("Vertrekdag", validators=[Optional(), IsoDate()])
    # The client's home: the search answers the places near it, nearest first.
    gemeente = SelectField("Gemeente waar hij of zij woont", choices={}, validate_choice=False)
    regio = SelectField("Regio van het logeeradres", choices={}, validate_choice=False)
    doelgroep = SelectField(
        "Voor wie",
        choices=_choices(TARGET_GROUPS, "Alle doelgroepen"),
        validators=[OneOf(TARGET_GROUPS)],
        validate_choice=False,
    )
    zorg = SelectField(
        "Hoeveel zorg is nodig?",
        choices=_choices(CARE_LEVELS, "Maakt niet uit"),
        validators=[OneOf(CARE_LEVELS)],
        validate_choice=False,
    )
    financiering = SelectField(
        "Wie betaalt?",
        choices=_choices(FUNDING_ROUTES, "Maakt niet uit"),
        validators=[OneOf(FUNDING_ROUTES)],
        validate_choice=False,
    )
    rolstoel = BooleanField("Alleen rolstoeltoegankelijk")


class RequestForm(FlaskForm):
    """A request for a logeerbed by a mantelzorger or a verwijzer."""

    requester = RadioField(
        "Wie vraagt aan?",
        choices={
            "mantelzorger": "Ik ben mantelzorger (ik zorg voor iemand)",
            "verwijzer": "Ik ben verwijzer (wijkteam, consulent, huisarts, casemanager)",
        },
        default="mantelzorger",
        validators=[required(CHOOSE), OneOf(["mantelzorger", "verwijzer"])],
        validate_choice=False,
    )
    first_name = StringField(
        "Voornaam of voorletters van wie komt logeren",
        validators=[required(), Length(max=40, message="Hooguit 40 tekens.")],
    )
    birth_year = StringField("Geboortejaar", validators=[required(), BirthYear()])
    municipality = SelectField(
        "Gemeente waar hij of zij woont",
        choices={},
        validators=[required(CHOOSE)],
        validate_choice=False,
    )
    target_group = SelectField(
        "Wat past het best?",
        choices=_choices(TARGET_GROUPS, "Kies…"),
        validators=[required(CHOOSE), OneOf(TARGET_GROUPS)],
        validate_choice=False,
    )
    care_level = RadioField(
        "Hoeveel zorg is nodig?",
        choices=dict(CARE_LEVELS),
        default="basic",
        validators=[required(CHOOSE), OneOf(CARE_LEVELS)],
        validate_choice=False,
    )
    wheelchair = BooleanField("Een rolstoeltoegankelijke kamer is nodig")
    language = SelectField(
        "Taal",
        choices=_choices(LANGUAGES, "Nederlands of maakt niet uit"),
        validators=[OneOf(LANGUAGES)],
        validate_choice=False,
    )
    arrival = StringField("Aankomst (eerste nacht)", validators=[required(), IsoDate()])
    departure = StringField("Vertrek", validators=[required(), IsoDate()])
    flexibility_days = SelectField(
        "Hoeveel dagen kunnen de data schuiven?",
        choices={"0": "Niet", "1": "1 dag", "2": "2 dagen", "3": "3 dagen", "7": "een week"},
        default="0",
        validators=[OneOf(["0", "1", "2", "3", "7"])],
        validate_choice=False,
    )
    urgency = RadioField(
        "Hoe snel?",
        choices=URGENCY_CHOICES,
        default="planned",
        validators=[required(CHOOSE), OneOf(URGENCIES)],
        validate_choice=False,
    )
    reason = SelectField(
        "Waarom logeren?",
        choices=_choices(REQUEST_REASONS, "Kies…"),
        validators=[required(CHOOSE), OneOf(REQUEST_REASONS)],
        validate_choice=False,
    )
    funding = SelectField(
        "Wie betaalt?",
        choices=dict(REQUEST_FUNDING),
        default="onbekend",
        validators=[OneOf(REQUEST_FUNDING)],
        validate_choice=False,
    )
    contact_name = StringField(
        "Uw naam", validators=[required(), Length(max=80, message="Hooguit 80 tekens.")]
    )
    # A mobile, or instead a landline and/or an e-mail address (the domain asks for one).
    contact_mobile = StringField(
        "Uw mobiele nummer", validators=[Optional(), Length(max=40, message="Hooguit 40 tekens.")]
    )
    contact_phone = StringField(
        "Vast telefoonnummer (als u geen mobiel hebt)",
        validators=[Optional(), Length(max=40, message="Hooguit 40 tekens.")],
    )
    contact_email = StringField(
        "E-mailadres (als u geen mobiel hebt)",
        validators=[Optional(), Length(max=254, message="Hooguit 254 tekens.")],
    )
    # The place chosen in the search (a location id): a preference, see web/request_preference.py.
    preferred_location = HiddenField(validators=[Optional(), WholeNumber()])
    # Continuity: the earlier request of the same client (its place is preferred).
    previous_request = StringField(
        "Kenmerk van een eerdere aanvraag",
        validators=[Optional(), Length(max=20, message="Hooguit 20 tekens.")],
    )
    # Recurring stays: none, one weekend a month, or every N weeks, until a date.
    repeat = RadioField(
        "Vaker logeren?",
        choices=REPEAT_CHOICES,
        default="",
        validators=[Optional(), OneOf(REPEAT_CHOICES)],
        validate_choice=False,
    )
    weekend_of_month = SelectField(
        "Welk weekend van de maand?",
        choices=WEEKEND_CHOICES,
        default="1",
        validators=[OneOf(WEEKEND_CHOICES)],
        validate_choice=False,
    )
    every_weeks = SelectField(
        "Om de hoeveel weken?",
        choices=EVERY_WEEKS_CHOICES,
        default="2",
        validators=[OneOf(EVERY_WEEKS_CHOICES)],
        validate_choice=False,
    )
    series_until = StringField("Tot en met (laatste aankomst)", validators=[IsoDate()])
    consent = BooleanField(
        "Ik geef toestemming om deze gegevens te gebruiken voor het vinden van een logeerbed",
        validators=[
            InputRequired(
                message="Zonder uw toestemming kunnen we de aanvraag niet in behandeling nemen."
            )
        ],
    )

    # Domain problem names (invalidParams) → the field they belong beside.
    DOMAIN_FIELDS = {
        "client.first_name": "first_name",
        "client.birth_year": "birth_year",
        "contact.mobile": "contact_mobile",
        "contact.phone": "contact_phone",
        "contact.email": "contact_email",
        "contact.name": "contact_name",
        "series.until": "series_until",
        "series.every_days": "every_weeks",
        "series.every_weeks": "every_weeks",
        "series": "repeat",
        "series.weekend_of_month": "weekend_of_month",
    }

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        if self.repeat.data and not self.series_until.data and not self.series_until.errors:
            self.series_until.errors = [*self.series_until.errors, REQUIRED]
            valid = False
        return valid

    def series_data(self) -> dict[str, Any] | None:
        """The series the form asks for (the API's `series` shape), or None for one stay."""
        until = parse_date(self.series_until.data)
        if not self.repeat.data or until is None:
            return None
        if self.repeat.data == "weekend":
            return {"weekend_of_month": int(self.weekend_of_month.data), "until": until}
        return {"every_weeks": int(self.every_weeks.data), "until": until}

    def as_request_data(self) -> dict[str, Any]:
        """The body `care_requests.create_request` takes (the API's shape)."""
        return {
            "requester": self.requester.data,
            "client": {
                "first_name": self.first_name.data or "",
                "birth_year": int(self.birth_year.data),
            },
            "municipality": self.municipality.data,
            "target_group": self.target_group.data,
            "care_level": self.care_level.data or "basic",
            "wheelchair": bool(self.wheelchair.data),
            "language": self.language.data or None,
            "arrival": parse_date(self.arrival.data),
            "departure": parse_date(self.departure.data),
            "flexibility_days": int(self.flexibility_days.data or 0),
            "urgency": self.urgency.data,
            "reason": self.reason.data,
            "funding": self.funding.data or "onbekend",
            "contact": {
                "name": self.contact_name.data or "",
                "mobile": self.contact_mobile.data or "",
                "phone": self.contact_phone.data or "",
                "email": self.contact_email.data or "",
            },
            "consent": bool(self.consent.data),
            "preferred_location_id": int(self.preferred_location.data or 0) or None,
            "previous_request": (self.previous_request.data or "").strip() or None,
            "series": self.series_data(),
        }

    def add_domain_errors(self, params: list[dict[str, str]]) -> list[str]:
        """Put each domain problem beside its field; returns those without a field."""
        unplaced: list[str] = []
        for param in params:
            name = self.DOMAIN_FIELDS.get(param["name"], param["name"])
            field = self._fields.get(name)
            if field is None:
                unplaced.append(param["reason"])
            else:
                field.errors = [*field.errors, param["reason"]]
        return unplaced


class ActionForm(FlaskForm):
    """A button that changes something (accept, decline): only the CSRF token."""


class WithdrawForm(FlaskForm):
    sure = BooleanField(
        "Ja, ik wil mijn aanvraag intrekken",
        validators=[InputRequired(message="Vink aan dat u de aanvraag wilt intrekken.")],
    )


class ResendLinkForm(FlaskForm):
    mobile = StringField("Uw mobiele nummer", validators=[required()])


class FeedbackForm(FlaskForm):
    rating = RadioField(
        "Hoe tevreden bent u over deze website?",
        choices={"goed": "Tevreden", "matig": "Neutraal", "slecht": "Ontevreden"},
        validators=[Optional(), OneOf(["goed", "matig", "slecht"])],
        validate_choice=False,
    )
    message = TextAreaField(
        "Wat kan beter?",
        validators=[
            required("Schrijf kort wat er beter kan."),
            Length(max=2000, message="Hooguit 2000 tekens."),
        ],
    )
    page = StringField("Over welke pagina?", validators=[Optional(), Length(max=200)])
