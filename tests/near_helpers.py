"""Delft and around: the geography of the search near a client's home, for API, page and
browser tests. Delft has no coordinates in the registry (its centre comes from the shipped
table); the others have their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Around:
    delft: Any  # De Delftse Hof: Delft, H5
    westland: Any  # Het Westduin: Westland, H5, ~10 km
    leiden: Any  # Rijnzicht: Leiden, LEI, ~19 km
    harderwijk: Any  # Veluwerand: Harderwijk, NV, ~94 km
    no_wheelchair: Any  # Trapjeshuis: Rijswijk, H5, not wheelchair accessible


def dementia_unit(make: Any, location: Any, **kw: Any) -> Any:
    fields = {
        "target_groups": ["dementie", "ouderen"],
        "wheelchair": True,
        "care_level": "supervision_24h",
        "funding_routes": ["wmo", "elv"],
    }
    fields.update(kw)
    return make.unit(location=location, **fields)


def delft_and_around(make: Any) -> Around:
    h5 = make.region("H5", name="H5")
    lei = make.region("LEI", name="Leidse regio")
    nv = make.region("NV", name="Noord-Veluwe")
    delft = make.municipality("GM0503", region=h5, name="Delft")
    westland = make.municipality(
        "GM1783", region=h5, name="Westland", latitude=51.9934, longitude=4.2090
    )
    rijswijk = make.municipality(
        "GM0603", region=h5, name="Rijswijk", latitude=52.0363, longitude=4.3251
    )
    leiden = make.municipality(
        "GM0546", region=lei, name="Leiden", latitude=52.1601, longitude=4.4970
    )
    harderwijk = make.municipality(
        "GM0243", region=nv, name="Harderwijk", latitude=52.3412, longitude=5.6206
    )
    places = {}
    for key, name, municipality in [
        ("westland", "Het Westduin", westland),
        ("harderwijk", "Veluwerand", harderwijk),
        ("leiden", "Rijnzicht", leiden),
        ("delft", "De Delftse Hof", delft),
    ]:
        location = make.location(municipality=municipality, name=name)
        dementia_unit(make, location)
        places[key] = location
    trap = make.location(municipality=rijswijk, name="Trapjeshuis")
    dementia_unit(make, trap, wheelchair=False)
    return Around(no_wheelchair=trap, **places)
