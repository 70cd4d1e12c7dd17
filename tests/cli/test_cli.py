"""The `respijt` command as an operator uses it: demo, token create, import, check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from respijt import clock
from respijt.models import (
    ApiToken,
    Location,
    Municipality,
    NightInventory,
    Provider,
    Region,
    Reservation,
    Unit,
)
from respijt.people import tokens


@pytest.fixture()
def cli(app, db):
    runner = app.test_cli_runner()

    def invoke(*args):
        result = runner.invoke(args=list(args), catch_exceptions=False)
        db.session.rollback()
        return result

    return invoke


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_three_regions_with_pools_confirmation_and_stale_locations(cli, db, app):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "aanbieder 15/15" in result.output  # progress is shown
    codes = set(db.session.scalars(select(Region.code)))
    assert codes == {"H5", "LEI", "NV"}
    assert (
        db.session.scalar(select(Municipality.name).where(Municipality.code == "GM0503")) == "Delft"
    )
    assert count(db, Provider) == 15 and count(db, Location) == 30
    units = db.session.scalars(select(Unit)).all()
    assert {u.requires_provider_confirmation for u in units} == {True, False}
    assert any(u.max_nights >= 21 for u in units)  # stays of three weeks
    horizon = app.config["RESPIJT_HORIZON_DAYS"]
    assert count(db, NightInventory) == len(units) * horizon
    stale_cut = clock.now() - timedelta(hours=app.config["RESPIJT_STALE_AFTER_HOURS"])
    stale = db.session.scalar(
        select(func.count()).select_from(Location).where(Location.last_confirmed_at < stale_cut)
    )
    assert 0 < stale < 30
    again = cli("demo")
    assert "al regio's" in again.output and count(db, Provider) == 15


def test_token_create_prints_the_secret_alone_on_the_last_line(cli, db, make):
    provider = make.provider()
    result = cli("token", "create", "--role", "provider", "--provider", str(provider.id))
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("rsp_") and " " not in secret
    caller = tokens.resolve_token(db.session, secret, clock.now())
    assert caller.role == "provider" and caller.provider_id == provider.id
    stored = db.session.scalars(select(ApiToken)).one()
    assert secret not in stored.digest and len(stored.digest) == 64
    refused = cli("token", "create", "--role", "provider")
    assert refused.exit_code != 0 and "aanbieder" in refused.output


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_dry_run_reports_every_bad_row_and_writes_nothing(cli, db, tmp_path):
    regions = _write(
        tmp_path, "regions.csv", "code;name;meldpunt_number\nZH;Zuid-Holland;088 123 4567\n"
    )
    assert cli("import", "regions", regions).exit_code == 0
    municipalities = _write(
        tmp_path,
        "m.csv",
        "code;name;region;latitude\nGM0503;Delft;ZH;52,01\nXX12;Fout;ZH;\nGM0518;Den Haag;QQ;\nGM0546;Leiden;ZH;noord\n",
    )
    result = cli("import", "municipalities", municipalities, "--dry-run")
    assert result.exit_code != 0
    assert "regel 3, kolom code" in result.output
    assert "regel 4, kolom region" in result.output
    assert "regel 5, kolom latitude" in result.output
    assert count(db, Municipality) == 0  # nothing written, not even the good row


def test_import_builds_a_region_from_csv_files(cli, db, tmp_path, app):
    files = {
        "regions": "code;name;meldpunt_number\nZH;Zuid-Holland;088 123 4567\n",
        "municipalities": "code;name;region;latitude;longitude\nGM0503;Delft;ZH;52,01;4,36\n",
        "providers": "name;agb_code;duty_phone;regions;pool_regions\nZorg BV;12345678;015 212 3456;ZH;ZH\n",
        "locations": "provider;name;address;postcode;municipality;contact_mobile;languages\n"
        "Zorg BV;De Linde;Laan 1;2611 AB;GM0503;06 12345678;nl,en\n",
        "units": "provider;location;name;target_groups;default_capacity;wheelchair;requires_provider_confirmation\n"
        "Zorg BV;De Linde;Kamers;dementie,ouderen;3;ja;nee\n",
    }
    for kind, text in files.items():
        dry = cli("import", kind, _write(tmp_path, f"{kind}.csv", text), "--dry-run")
        assert dry.exit_code == 0, dry.output
        real = cli("import", kind, _write(tmp_path, f"{kind}.csv", text))
        assert real.exit_code == 0 and "1 nieuw" in real.output, real.output
    unit = db.session.scalars(select(Unit)).one()
    assert unit.target_groups == ["dementie", "ouderen"] and unit.wheelchair
    assert unit.location.provider.regions[0].in_pool
    assert count(db, NightInventory) == app.config["RESPIJT_HORIZON_DAYS"]
    # Importing the same file again updates instead of duplicating.
    again = cli("import", "units", _write(tmp_path, "units.csv", files["units"]))
    assert "1 bijgewerkt" in again.output and count(db, Unit) == 1


def test_check_exits_non_zero_on_a_broken_night(cli, db, make):
    unit = make.unit(capacity=2)
    assert cli("check").exit_code == 0
    night = db.session.get(NightInventory, (unit.id, clock.today() + timedelta(days=3)))
    night.reserved = 1  # no reservation covers it
    db.session.commit()
    result = cli("check")
    assert result.exit_code != 0
    assert f"unit {unit.id}" in result.output and "verwacht 0" in result.output
    assert count(db, Reservation) == 0
