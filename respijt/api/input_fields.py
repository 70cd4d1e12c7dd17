"""The marshmallow fields every API input schema uses for numbers and dates.

marshmallow's own `Integer` turns `4.5` into 4 and takes any size; its `Date` takes year 1 and
year 9999, where the next day or month overflows. These refuse what the database or date
arithmetic cannot take, with a Dutch reason, so the answer is a 422 with invalidParams.
`StrictSchema` (respijt/api/schemas.py) refuses the plain marshmallow fields, so no input schema
can forget them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from respijt.api import dutch
from respijt.codes import DATE_MAX, DATE_MIN
from respijt.serving.input_limits import (
    DATE_RANGE_TEXT,
    ID_MAX,
    INT_MAX,
    INT_MIN,
)

_DIGITS = re.compile(r"[+-]?\d{1,19}")


class Integer(fields.Integer):
    """A whole number between `minimum` and `maximum` (default: PostgreSQL's integer).

    A JSON number must be integral (4.5, 4.0 and true are refused); a query string or path
    gives digits, which are accepted."""

    default_error_messages = {"invalid": "Geen geheel getal."}

    def __init__(self, *, minimum: int = INT_MIN, maximum: int = INT_MAX, **kwargs: Any) -> None:
        kwargs.pop("strict", None)
        super().__init__(**kwargs)
        self.validators.insert(
            0,
            dutch.Range(
                min=minimum,
                max=maximum,
                error=f"Kies een geheel getal van {minimum} tot {maximum}.",
            ),
        )

    def _validated(self, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            return int(value)
        raise self.make_error("invalid", input=value)


class Id(Integer):
    """The id of a row: 1 up to the largest value the id columns hold."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(minimum=1, maximum=ID_MAX, **kwargs)


class _WithinDates(validate.Validator):
    """DATE_MIN..DATE_MAX; not a `validate.Range`, which apispec would write into the document
    as a date object."""

    def __call__(self, value: date) -> date:
        day = value.date() if isinstance(value, datetime) else value
        if not DATE_MIN <= day <= DATE_MAX:
            raise ValidationError(DATE_RANGE_TEXT)
        return value


class Date(fields.Date):
    """A YYYY-MM-DD date between DATE_MIN and DATE_MAX."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, _WithinDates())


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 moment with its offset, on a day between DATE_MIN and DATE_MAX."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, _WithinDates())


# The plain marshmallow fields an input schema may not use: they take what the database or the
# date arithmetic cannot.
UNSAFE_FIELDS = (
    fields.Integer,
    fields.Date,
    fields.DateTime,
    fields.AwareDateTime,
    fields.NaiveDateTime,
)
SAFE_FIELDS = (Integer, Date, AwareDateTime)


def check_input_field(name: str, field: fields.Field) -> None:
    """TypeError at start-up for an input field of an unsafe plain type (also in a list)."""
    if isinstance(field, fields.List):
        check_input_field(name, field.inner)
    if field.dump_only:
        return
    dutch.check_validators(name, field)
    if isinstance(field, fields.List):
        return
    if isinstance(field, UNSAFE_FIELDS) and not isinstance(field, SAFE_FIELDS):
        raise TypeError(
            f"input field {name!r} is a plain marshmallow {type(field).__name__}: "
            "use respijt.api.input_fields (bounded ids, numbers and dates)"
        )
