"""Print the arrows between the rooms, faces and frame of `respijt/` as a Markdown table.

Each row is one package or frame module and the others it imports directly, read from the code
by grimp (the graph import-linter checks). `docs/architecture.md` ("The arrows") shows the
table; run this after moving code and paste its output there:

    .venv/bin/python scripts/room_arrows.py
"""

from __future__ import annotations

import grimp

# In the order of the picture in docs/architecture.md, top to bottom: a room imports only rooms
# below it (meldpunt and privacy share a line and import neither each other).
ROOMS = (
    "claims",
    "care_requests",
    "beds",
    "reservations",
    "meldpunt",
    "privacy",
    "messages",
    "people",
    "models",
)
FACES = ("api", "web", "scheduler", "cli")
FRAME = ("serving", "edge", "config", "extensions", "database", "clock", "errors", "codes")
# Drawn between the faces and the rooms: only faces use them, and they may read the rooms.
FOR_FACES = ("serving", "edge", "extensions")


def part(module: str) -> str:
    """The room, face or frame module a module of `respijt` belongs to."""
    names = module.split(".")
    return names[1] if len(names) > 1 else "respijt"


def arrows() -> dict[str, set[str]]:
    graph = grimp.build_graph("respijt")
    found: dict[str, set[str]] = {}
    for module in graph.modules:
        source = part(module)
        for imported in graph.find_modules_directly_imported_by(module):
            target = part(imported)
            if imported.startswith("respijt") and target != source:
                found.setdefault(source, set()).add(target)
    return found


def main() -> None:
    """One row per face, room and frame module: what it imports, and which of those arrows point
    up the picture (a face into a face, a room into a room listed above it, the frame below the
    rooms into a room). `models/` and the frame are left out of the targets: anyone may import
    them."""
    found = arrows()
    order = (*FACES, *ROOMS, *FRAME)
    shown = (*FACES, *ROOMS[:-1], "serving", "respijt")
    print("| from | imports | against the order |")
    print("|---|---|---|")
    for name in order:
        targets = sorted(
            (t for t in found.get(name, ()) if t in shown),
            key=lambda t: (order.index(t) if t in order else len(order), t),
        )
        if name in FACES:
            upward = [t for t in targets if t in FACES or t == "respijt"]
        elif name in ROOMS:
            upward = [t for t in targets if t not in ROOMS or ROOMS.index(t) < ROOMS.index(name)]
        elif name in FOR_FACES:
            upward = [t for t in targets if t in FACES or t == "respijt"]
        else:
            upward = [t for t in targets if t in FACES or t in ROOMS or t == "respijt"]
        if name in FRAME and not targets:
            continue
        kind = "/" if name in FACES or name in ROOMS or name == "serving" else ".py"
        print(
            f"| `{name}{kind}` | {', '.join(f'`{t}`' for t in targets) or '—'} "
            f"| {', '.join(f'`{t}`' for t in upward) or '—'} |"
        )


if __name__ == "__main__":
    main()
