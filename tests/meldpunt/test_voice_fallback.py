"""`respijt voice fallback`: the TwiML a meldpunt number falls back to when respijt is down.

The printed document is read back with an XML parser and rebuilt from the twilio library's own
TwiML classes (an element Twilio's voice TwiML does not know fails the rebuild); the rebuilt
document must be the printed one, and its <Dial><Number>s the region's numbers in order.
"""

from __future__ import annotations

import inspect
import os
import stat
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import update
from twilio.twiml import TwiML
from twilio.twiml import voice_response as twilio_voice

from respijt.models import ProviderRegion, Region


@pytest.fixture()
def cli(app, db):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args), catch_exceptions=False)

    return invoke


def rebuild(element: ET.Element) -> TwiML:
    """The element as the twilio library's TwiML class of the same name."""
    name = "VoiceResponse" if element.tag == "Response" else element.tag
    cls = getattr(twilio_voice, name)
    assert isinstance(cls, type) and issubclass(cls, TwiML), element.tag
    positional = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]
    # Say(message), Number(phone_number), Dial(number): the text is the first argument.
    node = cls(element.text, **element.attrib) if positional else cls(**element.attrib)
    for child in element:
        node.nest(rebuild(child))
    return node


def region_with_pool(db, make, code="FB"):
    region = make.region(code, name="Regio Terugval")
    region.coordinator_phone = "+31881110000"
    light = make.provider("Licht", regions=[region], pool=True, duty_phone="+31881110001")
    heavy = make.provider("Zwaar", regions=[region], pool=True, duty_phone="+31881110002")
    same = make.provider("Zelfde", regions=[region], pool=True, duty_phone="+31881110000")
    make.provider("Geen pool", regions=[region], pool=False, duty_phone="+31881110009")
    make.provider("Geen nummer", regions=[region], pool=True)
    db.session.execute(
        update(ProviderRegion).where(ProviderRegion.provider_id == heavy.id).values(pool_weight=5)
    )
    db.session.commit()
    return region, light, heavy, same


def test_fallback_rings_the_coordinator_then_the_pool_in_turn_as_valid_twiml(cli, db, make):
    region_with_pool(db, make)
    make.region("ANDER").coordinator_phone = "+31887770000"
    db.session.commit()

    result = cli("voice", "fallback", "--region", "fb", "--ring-seconds", "20")
    assert result.exit_code == 0, result.stderr
    printed = result.stdout.strip()

    root = ET.fromstring(printed)
    assert str(rebuild(root)) == printed  # round trip through the twilio library's classes
    verbs = [child.tag for child in root]
    assert verbs == ["Say", "Dial", "Dial", "Dial", "Say", "Hangup"]
    greeting = root[0]
    assert greeting.get("language") == "nl-NL" and "meldpunt logeerzorg" in greeting.text
    dials = root.findall("Dial")
    # Coordinator first; then the pool by weight; the same number only once; nobody outside
    # the pool, nobody without a number, no other region.
    assert [d.find("Number").text for d in dials] == [
        "+31881110000",
        "+31881110002",
        "+31881110001",
    ]
    assert all(d.get("timeout") == "20" and d.get("action") is None for d in dials)
    assert all(len(list(d)) == 1 for d in dials)


def test_fallback_needs_a_region_when_there_are_several_and_writes_a_file(
    cli, db, make, app, tmp_path
):
    region_with_pool(db, make)
    make.region("ANDER")
    refused = cli("voice", "fallback")
    assert refused.exit_code == 2 and "--region" in refused.stderr
    assert cli("voice", "fallback", "--region", "NIETS").exit_code == 2

    target = tmp_path / "fallback-FB.xml"
    written = cli("voice", "fallback", "--region", "FB", "--output", str(target))
    assert written.exit_code == 0 and written.stdout == ""
    text = target.read_text()
    dials = ET.fromstring(text).findall("Dial")
    ring = str(app.config["RESPIJT_MELDPUNT_RING_SECONDS"])
    assert [d.get("timeout") for d in dials] == [ring] * 3
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert [p for p in os.listdir(tmp_path) if p.startswith(".respijt-fallback-")] == []


def test_fallback_refuses_a_region_with_nobody_to_ring(cli, db, make):
    region = make.region("LEEG")
    assert isinstance(region, Region)
    result = cli("voice", "fallback")
    assert result.exit_code == 1 and "niemand om te bellen" in result.stderr
