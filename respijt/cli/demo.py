"""Demo data: the three regions of the seeds, ~15 providers, ~30 locations, their units.

Deterministic (fixed random seed), so screenshots and walkthroughs look the same each time.
Providers and addresses are invented.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from respijt.beds import registry
from respijt.database import DbSession
from respijt.models import Municipality, Region, Tariff

REGIONS: list[dict[str, Any]] = [
    {
        "code": "H5",
        "name": "H5 (Delft, Midden-Delfland, Pijnacker-Nootdorp, Rijswijk, Westland)",
        "meldpunt_number": "+31881234500",
        "municipalities": [
            ("GM0503", "Delft", 52.0116, 4.3571),
            ("GM1842", "Midden-Delfland", 51.9737, 4.3077),
            ("GM1926", "Pijnacker-Nootdorp", 52.0183, 4.4301),
            ("GM0603", "Rijswijk", 52.0363, 4.3251),
            ("GM1783", "Westland", 51.9934, 4.2090),
        ],
    },
    {
        "code": "LEI",
        "name": "Leidse regio",
        "meldpunt_number": "+31881234600",
        "municipalities": [
            ("GM0546", "Leiden", 52.1601, 4.4970),
            ("GM0547", "Leiderdorp", 52.1584, 4.5290),
            ("GM0579", "Oegstgeest", 52.1803, 4.4691),
            ("GM0626", "Voorschoten", 52.1275, 4.4486),
            ("GM0638", "Zoeterwoude", 52.1181, 4.4965),
        ],
    },
    {
        "code": "NV",
        "name": "Noord-Veluwe",
        "meldpunt_number": "+31881234700",
        "municipalities": [
            ("GM0269", "Oldebroek", 52.4469, 5.9016),
            ("GM0273", "Putten", 52.2594, 5.6069),
            ("GM0233", "Ermelo", 52.2989, 5.6206),
            ("GM0243", "Harderwijk", 52.3412, 5.6206),
            ("GM0050", "Zeewolde", 52.3302, 5.5414),
            ("GM0302", "Nunspeet", 52.3787, 5.7853),
            ("GM0230", "Elburg", 52.4480, 5.8356),
        ],
    },
]

# (name, region codes served, pool regions, number of locations)
PROVIDERS = [
    ("Zorggroep De Linde", ["H5"], ["H5"], 4),
    ("Stichting Kustzorg Westland", ["H5"], ["H5"], 3),
    ("Huize Buitenzorg", ["H5"], [], 1),
    ("Thuishaven Rijswijk", ["H5"], ["H5"], 2),
    ("Logeerhuis Het Anker", ["H5", "LEI"], [], 1),
    ("Sleutelbos Zorg", ["LEI"], ["LEI"], 3),
    ("Stichting Rijnland Wonen", ["LEI"], ["LEI"], 3),
    ("Zorghoeve De Klaproos", ["LEI"], [], 1),
    ("Oegstgeester Zorgcollectief", ["LEI"], ["LEI"], 2),
    ("Veluwezoom Zorggroep", ["NV"], ["NV"], 3),
    ("Zorgboerderij Het Wilgenhof", ["NV"], [], 1),
    ("Stichting Zuiderzee Zorg", ["NV"], ["NV"], 2),
    ("Het Logeerhuys Elburg", ["NV"], [], 1),
    ("Dagelijks Leven Noord-Veluwe", ["NV"], ["NV"], 2),
    ("Kleinschalig Wonen Harderwijk", ["NV"], [], 1),
]

LOCATION_WORDS = [
    "De Linde",
    "Het Baken",
    "De Eik",
    "Rozenhof",
    "Het Duin",
    "De Molen",
    "Zonnehuis",
    "De Horst",
    "Het Veer",
    "De Boomgaard",
    "Lindenhof",
    "De Bron",
    "Het Hofje",
    "De Wielewaal",
    "Klaverweide",
    "De Kapel",
    "Bloesemhof",
    "Het Trefpunt",
    "De Vlinder",
    "Waterrijk",
    "De Hoeve",
    "Het Gouden Hart",
    "De Schakel",
    "Parkzicht",
    "De Zevensprong",
    "Het Lichtpunt",
    "Dijkzicht",
    "De Wingerd",
    "Het Kompas",
    "De Zandloper",
    "Heideweg",
    "De Parel",
]

STREETS = [
    "Dorpsstraat",
    "Kerkweg",
    "Molenlaan",
    "Parklaan",
    "Stationsweg",
    "Wilhelminastraat",
    "Julianalaan",
    "Beatrixstraat",
    "Schoolstraat",
    "Nieuwe Weg",
]

UNIT_KINDS = [
    # name, target groups, care level, wheelchair, needs confirmation, min, max, weekdays, funding
    ("Logeerkamers ouderen", ["ouderen"], "basic", True, False, 1, 14, "1234567", ["wmo"]),
    (
        "Logeren bij dementie",
        ["dementie", "ouderen"],
        "supervision_24h",
        True,
        True,
        2,
        21,
        "1234567",
        ["wmo", "elv"],
    ),
    (
        "Weekendlogeren",
        ["verstandelijk", "jongvolwassenen"],
        "extra_care",
        False,
        True,
        2,
        3,
        "5",
        ["wmo", "wlz"],
    ),
    (
        "Logeerbed lichamelijk",
        ["lichamelijk", "nah"],
        "extra_care",
        True,
        False,
        1,
        21,
        "1234567",
        ["wmo", "elv"],
    ),
    ("Respijtkamer ggz", ["ggz"], "basic", False, True, 1, 7, "12345", ["wmo"]),
]


# Invented product codes and prices per night (cents): demo only, not a gemeente's real tariff.
DEMO_TARIFFS = {
    "wmo": ("DEMO-WMO-LOG", 12500),
    "elv": ("DEMO-ELV", 17500),
    "wlz": ("DEMO-WLZ", 16000),
}


def add_demo_tariffs(
    session: DbSession, municipality: Municipality, *, now: datetime, today: date
) -> None:
    """One open-ended tariff per funding route from the start of this year."""
    for funding, (product_code, price_cents) in DEMO_TARIFFS.items():
        session.add(
            Tariff(
                municipality_id=municipality.id,
                funding=funding,
                product_code=product_code,
                price_cents=price_cents,
                valid_from=date(today.year, 1, 1),
                created_at=now,
            )
        )


def demo_present(session: DbSession) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Region)))


def load_demo(
    session: DbSession,
    *,
    now: datetime,
    today: date,
    horizon_days: int,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, int]:
    """Load the demo regions and providers. Caller commits."""
    rng = random.Random(20261122)
    counts = {"regions": 0, "municipalities": 0, "providers": 0, "locations": 0, "units": 0}
    municipalities_by_region: dict[str, list[Municipality]] = {}
    for spec in REGIONS:
        region = Region(
            code=spec["code"], name=spec["name"], meldpunt_number=spec["meldpunt_number"]
        )
        session.add(region)
        counts["regions"] += 1
        municipalities_by_region[spec["code"]] = []
        for code, name, lat, lon in spec["municipalities"]:
            municipality = Municipality(
                code=code, name=name, region=region, latitude=lat, longitude=lon
            )
            session.add(municipality)
            municipalities_by_region[spec["code"]].append(municipality)
            counts["municipalities"] += 1
    session.flush()
    for municipalities in municipalities_by_region.values():
        for municipality in municipalities:
            add_demo_tariffs(session, municipality, now=now, today=today)
    progress(f"{counts['regions']} regio's en {counts['municipalities']} gemeenten")

    words = iter(LOCATION_WORDS)
    for index, (name, served, pool, n_locations) in enumerate(PROVIDERS):
        provider = registry.create_provider(
            session,
            name=name,
            now=now,
            agb_code=f"7300{index:04d}",
            kvk_number=f"4100{index:04d}",
            duty_phone=f"+3115{2120000 + index * 7:07d}",
            staff_mobiles=[f"+3161234{index:04d}"],
            regions=[
                registry.RegionMembership(code, code in pool, pool_weight=max(1, n_locations))
                for code in served
            ],
        )
        counts["providers"] += 1
        for n in range(n_locations):
            municipality = rng.choice(municipalities_by_region[served[n % len(served)]])
            location = registry.create_location(
                session,
                provider=provider,
                now=now,
                name=next(words),
                address=f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                postcode=f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGHJK')}"
                f"{rng.choice('LMNPRST')}",
                municipality=municipality.code,
                latitude=(municipality.latitude or 52.0) + rng.uniform(-0.02, 0.02),
                longitude=(municipality.longitude or 5.0) + rng.uniform(-0.02, 0.02),
                contact_mobile=f"+3162{index:03d}{n:04d}",
                languages=["nl"]
                + (["en"] if rng.random() < 0.4 else [])
                + (["tr"] if rng.random() < 0.15 else [])
                + (["ar"] if rng.random() < 0.1 else []),
            )
            counts["locations"] += 1
            kinds = rng.sample(UNIT_KINDS, k=1 + (n_locations > 1) + (rng.random() < 0.3))
            for kind in kinds:
                label, groups, care, wheelchair, confirm, min_n, max_n, weekdays, funding = kind
                registry.create_unit(
                    session,
                    location=location,
                    now=now,
                    today=today,
                    horizon_days=horizon_days,
                    name=label,
                    target_groups=groups,
                    care_level=care,
                    wheelchair=wheelchair,
                    requires_provider_confirmation=confirm,
                    min_nights=min_n,
                    max_nights=max_n,
                    arrival_weekdays=weekdays,
                    funding_routes=funding,
                    default_capacity=rng.choice([1, 2, 2, 3, 4]),
                )
                counts["units"] += 1
            # Most locations confirmed their figures recently; some have gone stale.
            age = (
                timedelta(days=rng.choice([4, 6, 9]))
                if rng.random() < 0.2
                else timedelta(hours=rng.randint(1, 48))
            )
            location.last_confirmed_at = now - age
        progress(f"aanbieder {counts['providers']}/{len(PROVIDERS)}: {name}")
    session.flush()
    return counts


def load_demo_rota(
    session: DbSession, *, now: datetime, horizon_days: int, pattern: str, holidays: str
) -> int:
    """Give each demo region a coordinator line and shifts covering the coming weeks."""
    from respijt.meldpunt import generation

    for region in session.scalars(select(Region)):
        if region.coordinator_phone is None and region.meldpunt_number:
            region.coordinator_phone = region.meldpunt_number[:-2] + "99"
    session.flush()
    return generation.generate_all(
        session,
        now=now,
        horizon_days=horizon_days,
        pattern=generation.parse_pattern(pattern),
        holiday_setting=holidays,
    )
