"""Factories with defaults: each returns a committed object, ready for the test to use."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.beds import registry
from respijt.models import Location, Municipality, Provider, Region, RotaShift, Unit
from respijt.people import tokens

_seq = itertools.count(1)


class Factory:
    def __init__(self, session: Any, config: Any) -> None:
        self.session = session
        self.config = config

    def region(self, code: str | None = None, **kw: Any) -> Region:
        n = next(_seq)
        region = Region(
            code=code or f"R{n}",
            name=kw.get("name", f"Regio {n}"),
            meldpunt_number=kw.get("meldpunt_number", f"+3188123{n:04d}"),
        )
        self.session.add(region)
        self.session.commit()
        return region

    def municipality(
        self, code: str | None = None, region: Region | None = None, **kw: Any
    ) -> Municipality:
        n = next(_seq)
        municipality = Municipality(
            code=code or f"GM{9000 + n % 1000:04d}",
            name=kw.get("name", f"Gemeente {n}"),
            region=region or self.region(),
            latitude=kw.get("latitude"),
            longitude=kw.get("longitude"),
        )
        self.session.add(municipality)
        self.session.commit()
        return municipality

    def provider(
        self,
        name: str | None = None,
        regions: list[Region] | None = None,
        pool: bool = False,
        on_duty: bool | None = None,
        **kw: Any,
    ) -> Provider:
        """A provider; a pool member is also put on duty in its regions for the coming year
        (a long rota shift) unless `on_duty=False` — rota tests build their own shifts."""
        n = next(_seq)
        provider = registry.create_provider(
            self.session,
            name=name or f"Aanbieder {n}",
            now=clock.now(),
            regions=[registry.RegionMembership(r.code, pool) for r in (regions or [])],
            **kw,
        )
        self.session.flush()
        if pool if on_duty is None else on_duty:
            now = clock.now()
            for region in regions or []:
                self.session.add(
                    RotaShift(
                        region_id=region.id,
                        provider_id=provider.id,
                        # Distinct starts: one active shift may start at an instant per region.
                        starts_at=now - timedelta(days=1, seconds=provider.id),
                        ends_at=now + timedelta(days=400),
                        kind="override",
                        status="active",
                        created_at=now,
                    )
                )
        self.session.commit()
        return provider

    def location(
        self, provider: Provider | None = None, municipality: Municipality | None = None, **kw: Any
    ) -> Location:
        n = next(_seq)
        municipality = municipality or self.municipality()
        provider = provider or self.provider(
            regions=[municipality.region] if municipality.region else []
        )
        fields = {
            "name": f"Locatie {n}",
            "address": f"Dorpsstraat {n}",
            "postcode": "2611AB",
            "municipality": municipality.code,
        }
        fields.update(kw)
        location = registry.create_location(
            self.session, provider=provider, now=clock.now(), **fields
        )
        location.last_confirmed_at = clock.now()
        self.session.commit()
        return location

    def unit(self, location: Location | None = None, capacity: int = 2, **kw: Any) -> Unit:
        n = next(_seq)
        fields: dict[str, Any] = {
            "name": f"Eenheid {n}",
            "target_groups": ["ouderen"],
            "default_capacity": capacity,
            "max_nights": 60,
        }
        fields.update(kw)
        unit = registry.create_unit(
            self.session,
            location=location or self.location(),
            now=clock.now(),
            today=clock.today(),
            horizon_days=self.config["RESPIJT_HORIZON_DAYS"],
            **fields,
        )
        self.session.commit()
        return unit

    def token(
        self,
        role: str,
        provider: Provider | None = None,
        expires_in: timedelta | None = None,
        regions: list[Region] | None = None,
    ) -> dict[str, str]:
        """Authorization header for a new token. A coordinator token is bound to `regions`,
        by default to every region that exists now (a new one when there is none)."""
        now = clock.now()
        codes = None
        if role == "coordinator":
            if regions is None:
                regions = list(self.session.scalars(select(Region))) or [self.region()]
            codes = [region.code for region in regions]
        _, secret = tokens.create_token(
            self.session,
            role=role,
            name=f"test {role}",
            now=now,
            provider_id=provider.id if provider else None,
            expires_at=now + expires_in if expires_in else None,
            region_codes=codes,
        )
        self.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    # --- accounts ---

    def user(
        self,
        *roles: str,
        provider: Provider | None = None,
        regions: list[Region] | None = None,
        organisation: str | None = None,
        totp: bool | None = None,
        **kw: Any,
    ) -> Any:
        """A user with TEST_PASSWORD; provider/meldpunt get a provider, verwijzers an
        organisation, coordinators a region when none is given. `totp` enrols the second factor
        (default: when a role requires it). The TOTP secret is on `user.totp_secret`."""
        from respijt.models import User
        from respijt.people import accounts

        roles = roles or ("verwijzer",)
        if provider is None and any(r in ("provider", "meldpunt") for r in roles):
            provider = self.provider()
        if organisation is None and "verwijzer" in roles:
            organisation = "Wijkteam Test"
        if regions is None and "coordinator" in roles:
            regions = [self.region()]
        n = next(_seq)
        user = accounts.create_user(
            self.session,
            email=kw.get("email", f"gebruiker{n}@example.nl"),
            name=kw.get("name", f"Gebruiker {n}"),
            roles=list(roles),
            now=clock.now(),
            provider_id=provider.id if provider else None,
            organisation=organisation,
            region_codes=[r.code for r in regions or []],
        )
        user.password_hash = _test_password_hash()
        if totp if totp is not None else accounts.requires_second_factor(user):
            import pyotp

            user.totp_secret = pyotp.random_base32()
            user.totp_confirmed_at = clock.now()
        self.session.commit()
        assert isinstance(user, User)
        return user


TEST_PASSWORD = "lange zin als wachtwoord"
_hash_cache: list[str] = []


def _test_password_hash() -> str:
    """argon2 is slow on purpose; hash the shared test password once per run."""
    if not _hash_cache:
        from respijt.people import accounts

        _hash_cache.append(accounts.hash_password(TEST_PASSWORD))
    return _hash_cache[0]
