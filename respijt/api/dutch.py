"""Dutch validation messages, from the schemas themselves.

marshmallow's field messages ("Missing data for required field.", "Not a valid integer.") are
replaced once, here, before any API schema is made (respijt/api/__init__.py imports this module
first). The validators `Range`, `Length`, `OneOf` and `Regexp` below carry Dutch messages;
`check_validators` (called for every input field by `StrictSchema`) refuses at start-up a
marshmallow validator that would answer in English. So no translation afterwards: what a schema
says is what the client reads in `invalidParams[].reason`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from respijt.serving.problems import CHOICE_PREFIX, NULL, REQUIRED, UNKNOWN

WRONG_TYPE = "Verkeerd type: verwacht een object."

# field class → its messages in Dutch (marshmallow collects them along the class hierarchy).
FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": REQUIRED, "null": NULL, "validator_failed": "Ongeldige waarde."},
    fields.Nested: {"type": WRONG_TYPE},
    fields.List: {"invalid": "Verwacht een lijst."},
    fields.Tuple: {"invalid": "Verwacht een lijst."},
    fields.String: {"invalid": "Geen tekst.", "invalid_utf8": "Geen geldige UTF-8-tekst."},
    fields.UUID: {"invalid_uuid": "Geen geldige UUID."},
    fields.Number: {"invalid": "Geen getal.", "too_large": "Dit getal is te groot."},
    fields.Integer: {"invalid": "Geen geheel getal."},
    fields.Float: {"special": "Gebruik een gewoon getal (geen NaN of oneindig)."},
    fields.Decimal: {"special": "Gebruik een gewoon getal (geen NaN of oneindig)."},
    fields.Boolean: {"invalid": "Gebruik true of false."},
    fields.Date: {
        "invalid": "Geen geldige datum; gebruik JJJJ-MM-DD.",
        "format": "Deze datum kan niet worden weergegeven.",
    },
    fields.DateTime: {
        "invalid": "Geen geldig tijdstip; gebruik ISO 8601, bijv. 2026-12-05T14:30:00Z.",
        "invalid_awareness": "Geef het tijdstip met een tijdzone, bijv. Z of +01:00.",
        "format": "Dit tijdstip kan niet worden weergegeven.",
    },
    fields.Time: {"invalid": "Geen geldige tijd; gebruik UU:MM.", "format": "Ongeldige tijd."},
    fields.TimeDelta: {"invalid": "Geen geldige tijdsduur.", "format": "Ongeldige tijdsduur."},
    fields.Mapping: {"invalid": "Verwacht een object."},
    fields.Url: {"invalid": "Geen geldig webadres."},
    fields.Email: {"invalid": "Geen geldig e-mailadres."},
}
SCHEMA_MESSAGES = {"unknown": UNKNOWN, "type": WRONG_TYPE}


def install() -> None:
    """Make marshmallow's field messages Dutch, for every field made after this call."""
    for cls, messages in FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}


install()


class Range(validate.Range):
    message_min = "Moet {min_op} {{min}} zijn."
    message_max = "Moet {max_op} {{max}} zijn."
    message_all = "Moet {min_op} {{min}} en {max_op} {{max}} zijn."
    message_gte = "minstens"
    message_gt = "meer dan"
    message_lte = "hoogstens"
    message_lt = "minder dan"


class Length(validate.Length):
    message_min = "Te kort: minstens {min}."
    message_max = "Te lang: hoogstens {max}."
    message_all = "Lengte van {min} tot en met {max}."
    message_equal = "Lengte moet precies {equal} zijn."


class OneOf(validate.OneOf):
    default_message = CHOICE_PREFIX + " {choices}."


class Regexp(validate.Regexp):
    default_message = "Deze waarde heeft niet de goede vorm."


_DUTCH = (Range, Length, OneOf, Regexp)
_ENGLISH_DEFAULTS = (
    validate.Range,
    validate.Length,
    validate.OneOf,
    validate.Regexp,
    validate.Equal,
    validate.NoneOf,
    validate.ContainsOnly,
    validate.ContainsNoneOf,
    validate.URL,
    validate.Email,
    validate.Predicate,
)


def check_validators(name: str, field: fields.Field) -> None:
    """TypeError at start-up for a marshmallow validator that would answer in English: use the
    Dutch ones above, or give a Dutch `error=`."""
    for validator in field.validators:
        if not isinstance(validator, _ENGLISH_DEFAULTS) or isinstance(validator, _DUTCH):
            continue
        error: Any = getattr(validator, "error", None)
        default = getattr(type(validator), "default_message", None)
        if error is None or error == default:
            raise TypeError(
                f"input field {name!r} has a {type(validator).__name__} without a Dutch error=: "
                "use respijt.api.dutch.Range/Length/OneOf/Regexp or pass error='…'"
            )
