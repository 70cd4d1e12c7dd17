"""The provider's forms for its locations and units: the fields the API's `LocationInput` and
`UnitInput` accept, with Dutch messages beside the field. The rules the registry checks itself
(postcode, gemeente, mobile number, codes) are left to it (`beds.registry`); its refusal is put
beside the field it names (`place_domain_errors`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectMultipleField, StringField
from wtforms.validators import Length, ValidationError

from respijt import formatting
from respijt.codes import CARE_LEVELS, FUNDING_ROUTES, LANGUAGES, TARGET_GROUPS, WEEKDAYS_NL
from respijt.errors import DomainError, InvalidInput
from respijt.web.forms import CHOOSE, OneOf, SelectField, WholeNumber, required

WEEKDAY_CHOICES = {str(number): name for number, name in enumerate(WEEKDAYS_NL, start=1)}


class Choices:
    """Every ticked value is one of `choices`; at least one when `needed` is given."""

    def __init__(self, choices: dict[str, str], needed: str | None = None) -> None:
        self.choices, self.needed = set(choices), needed

    def __call__(self, form: FlaskForm, field: Field) -> None:
        values = field.data or []
        if any(value not in self.choices for value in values):
            raise ValidationError(CHOOSE)
        if self.needed and not values:
            raise ValidationError(self.needed)


class Between:
    """A whole number (digits only) from `low` to `high`."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = str(field.data or "").strip()
        number = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
        if number is not None and not self.low <= number <= self.high:
            raise ValidationError(f"Vul een getal in van {self.low} tot en met {self.high}.")


class Degrees:
    """A coordinate in degrees, with a comma or a point, from `low` to `high` (the Netherlands)."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = parse_degrees(field.data)
        if str(field.data or "").strip() and value is None:
            raise ValidationError("Vul een getal in, bijv. 52,01.")
        if value is not None and not self.low <= value <= self.high:
            low, high = (formatting.number(n, 1) for n in (self.low, self.high))
            raise ValidationError(f"Vul een getal in tussen {low} en {high} (Nederland).")


def parse_degrees(raw: Any) -> float | None:
    text = str(raw or "").strip().replace(",", ".")
    if not text or len(text) > 20:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) < 1000 else None  # no NaN, no infinity


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered by the template); no English choice message."""

    def pre_validate(self, form: Any) -> None:
        return None


def _text(label: str, maximum: int, *, needed: bool = True) -> StringField:
    length = Length(max=maximum, message=f"Hooguit {maximum} tekens.")
    return StringField(label, validators=[required(), length] if needed else [length])


class LocationForm(FlaskForm):
    name = _text("Naam van de locatie", 200)
    address = _text("Adres (straat en huisnummer)", 200)
    postcode = _text("Postcode", 7)
    municipality = SelectField(
        "Gemeente", choices={}, validators=[required(CHOOSE)], validate_choice=False
    )
    contact_mobile = _text("Mobiel nummer voor de sms-herinnering", 20, needed=False)
    latitude = StringField("Breedtegraad", validators=[Degrees(50.5, 53.7)])
    longitude = StringField("Lengtegraad", validators=[Degrees(3.2, 7.3)])
    languages = MultiCheckboxField(
        "Talen die uw medewerkers spreken",
        choices=dict(LANGUAGES),
        validators=[Choices(LANGUAGES)],
    )

    def values(self) -> dict[str, Any]:
        """The fields as the registry takes them (`create_location`, `update_location`)."""
        values: dict[str, Any] = {
            "name": self.name.data.strip(),
            "address": self.address.data.strip(),
            "postcode": self.postcode.data.strip(),
            "municipality": self.municipality.data,
            "latitude": parse_degrees(self.latitude.data),
            "longitude": parse_degrees(self.longitude.data),
            "languages": list(self.languages.data or []) or ["nl"],
            # Empty clears the number (`beds.registry`: "" is emptied, None is kept).
            "contact_mobile": (self.contact_mobile.data or "").strip(),
        }
        return values


class UnitForm(FlaskForm):
    name = _text("Naam van de eenheid", 200)
    target_groups = MultiCheckboxField(
        "Voor wie",
        choices=dict(TARGET_GROUPS),
        validators=[Choices(TARGET_GROUPS, "Kies minstens één doelgroep.")],
    )
    care_level = SelectField(
        "Zorg",
        choices=dict(CARE_LEVELS),
        default="basic",
        validators=[OneOf(CARE_LEVELS)],
        validate_choice=False,
    )
    wheelchair = BooleanField("Geschikt voor iemand in een rolstoel")
    funding_routes = MultiCheckboxField(
        "Betaald uit",
        choices=dict(FUNDING_ROUTES),
        default=["wmo"],
        validators=[Choices(FUNDING_ROUTES, "Kies minstens één manier van betalen.")],
    )
    min_nights = StringField(
        "Minimaal aantal nachten",
        default="1",
        validators=[required(), WholeNumber(), Between(1, 366)],
    )
    max_nights = StringField(
        "Maximaal aantal nachten",
        default="28",
        validators=[required(), WholeNumber(), Between(1, 366)],
    )
    arrival_weekdays = MultiCheckboxField(
        "Aankomst mogelijk op",
        choices=dict(WEEKDAY_CHOICES),
        default=list(WEEKDAY_CHOICES),
        validators=[Choices(WEEKDAY_CHOICES, "Kies minstens één dag.")],
    )
    requires_provider_confirmation = BooleanField("Wij bevestigen elke reservering eerst zelf")
    default_capacity = StringField(
        "Aantal bedden per nacht (standaard)",
        default="0",
        validators=[required(), WholeNumber(), Between(0, 200)],
    )

    def validate_max_nights(self, field: Field) -> None:
        low, high = str(self.min_nights.data or ""), str(field.data or "")
        if low.isdigit() and high.isdigit() and low.isascii() and high.isascii():
            if int(high) < int(low):
                raise ValidationError("Het maximum mag niet lager zijn dan het minimum.")

    def values(self) -> dict[str, Any]:
        """The fields as the registry takes them (`create_unit`, `update_unit`)."""
        return {
            "name": self.name.data.strip(),
            "target_groups": list(self.target_groups.data),
            "care_level": self.care_level.data,
            "wheelchair": bool(self.wheelchair.data),
            "funding_routes": list(self.funding_routes.data),
            "min_nights": int(self.min_nights.data),
            "max_nights": int(self.max_nights.data),
            "arrival_weekdays": "".join(sorted(self.arrival_weekdays.data)),
            "requires_provider_confirmation": bool(self.requires_provider_confirmation.data),
            "default_capacity": int(self.default_capacity.data),
        }


def place_domain_errors(form: FlaskForm, exc: DomainError) -> list[str]:
    """The registry's refusal beside the fields it names; what names no field, for the summary."""
    params = exc.params if isinstance(exc, InvalidInput) else []
    unplaced = [] if params else [exc.detail]
    for param in params:
        field = getattr(form, str(param.get("name")), None)
        if isinstance(field, Field):
            field.errors = [*field.errors, param["reason"]]
        else:
            unplaced.append(param["reason"])
    return unplaced
