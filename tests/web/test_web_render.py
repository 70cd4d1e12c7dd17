"""The lean pieces of the search page write the HTML the plain versions wrote."""

from __future__ import annotations

import itertools

import wtforms
from wtforms.validators import InputRequired

from respijt.web import format as fmt
from respijt.web.forms import SelectField

CHOICES = [
    {"": "Alle gemeenten", "Haaglanden <H5>": {"GM0503": "Delft & co", "GM0518": 'Den "Haag"'}},
    {"": "Kies…", "Lege regio": {}, "Leiden": {"GM0546": "Leiden"}},
    {"ouderen": "Ouderen", "dementie": ""},
    ["y", "n"],  # not a dict: WTForms itself writes it
]


def test_the_lean_select_writes_what_wtforms_writes():
    for choices, default in itertools.product(CHOICES, ["GM0518", "", None, "dementie", "n"]):

        class Plain(wtforms.Form):
            f = wtforms.SelectField(choices=choices, default=default, validators=[InputRequired()])

        class Lean(wtforms.Form):
            f = SelectField(choices=choices, default=default, validators=[InputRequired()])

        assert Lean().f() == Plain().f()
        assert Lean().f(class_="x", required=False) == Plain().f(class_="x", required=False)
    html = Lean().f()
    assert "<optgroup" not in html


def test_the_calendar_says_free_or_full_for_every_night():
    unit = {
        "name": 'Kamer "Tuin" & <zon>',
        "nights": [{"date": "2026-12-04", "free": 2}, {"date": "2026-12-05", "free": 0}],
    }
    html = str(fmt.calendar(unit))
    assert html == (
        '<ol class="calendar" aria-label="Vrije bedden per nacht, Kamer &#34;Tuin&#34; &amp; '
        '&lt;zon&gt;"><li class="cal"><span>vr 4 dec</span> <strong>2</strong> vrij</li>'
        '<li class="cal cal--full"><span>za 5 dec</span> vol</li></ol>'
    )
