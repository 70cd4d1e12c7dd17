"""The provider's capacity forms: periods of beds and a whole week at once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, StringField
from wtforms.validators import Optional

from respijt.beds.capacity import CapacityRange
from respijt.web.forms import REQUIRED, IsoDate, WholeNumber, parse_date, required


class CapacityRangeForm(Form):
    """One period of the capacity form: first night, last night (inclusive), beds."""

    night_from = StringField("Eerste nacht", validators=[Optional(), IsoDate()])
    night_to = StringField("Laatste nacht", validators=[Optional(), IsoDate()])
    capacity = StringField("Bedden", validators=[Optional(), WholeNumber()])

    def is_empty(self) -> bool:
        return not (self.night_from.data or self.night_to.data or self.capacity.data)


class CapacityForm(FlaskForm):
    """Capacity per period; empty rows are skipped, a half-filled row says what is missing."""

    ranges = FieldList(FormField(CapacityRangeForm), min_entries=3, max_entries=3)
    maand = HiddenField()

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for entry in self.ranges.entries:
            sub = entry.form
            if sub.is_empty():
                continue
            for part in (sub.night_from, sub.night_to, sub.capacity):
                if not part.data and not part.errors:
                    part.errors = [REQUIRED]
                    valid = False
            first, last = parse_date(sub.night_from.data), parse_date(sub.night_to.data)
            if first and last and last < first:
                sub.night_to.errors = [
                    *sub.night_to.errors,
                    "De laatste nacht ligt vóór de eerste.",
                ]
                valid = False
        return valid

    def filled_ranges(self) -> tuple[list[int], list[CapacityRange]]:
        """Row indexes and the half-open ranges of the filled rows."""
        rows: list[int] = []
        ranges: list[CapacityRange] = []
        for index, entry in enumerate(self.ranges.entries):
            sub = entry.form
            if sub.is_empty():
                continue
            first, last = parse_date(sub.night_from.data), parse_date(sub.night_to.data)
            assert first is not None and last is not None
            rows.append(index)
            ranges.append(
                CapacityRange(first, last + timedelta(days=1), int(str(sub.capacity.data).strip()))
            )
        return rows, ranges


class WeekForm(FlaskForm):
    """'Hele week': one number for every night of a week."""

    monday = HiddenField(validators=[required(), IsoDate()])
    capacity = StringField("Bedden", validators=[required(), WholeNumber()])
    maand = HiddenField()

    def monday_date(self) -> date | None:
        return parse_date(self.monday.data)

    def first_error(self) -> str | None:
        for field in self:
            if field.errors:
                return str(field.errors[0])
        return None
