"""The top level of `respijt/` holds only the frame; everything else lives in a room or a face;
no module is longer than about 500 lines.

The import rules between rooms and faces are import-linter contracts (`.importlinter`, run by
`make lint`); this test keeps the folder listing itself the table of contents.
"""

from __future__ import annotations

from pathlib import Path

from respijt import PROJECT_ROOT

PACKAGE = Path(PROJECT_ROOT) / "respijt"

# The frame: app factory, settings, extensions, database, clock, errors, code lists and the edge.
FRAME = {"__init__", "config", "extensions", "database", "clock", "errors", "codes", "edge"}
ROOMS = {"beds", "reservations", "care_requests", "meldpunt", "claims", "messages", "people"}
ROOMS |= {"privacy", "models"}
FACES = {"api", "web", "scheduler", "cli"}
# Not a room: the frame's database package, the serving helpers the app factory installs, and
# package data.
OTHER = {"database", "serving", "data", "formatting"}

# A module past this many lines is split within its room (a package or sibling modules).
MAX_LINES = 500


def test_the_top_level_holds_only_the_frame():
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert modules <= FRAME, sorted(modules - FRAME)
    assert len(modules) <= 10


def test_every_package_is_a_room_a_face_or_named_here():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= ROOMS | FACES | OTHER, sorted(folders - (ROOMS | FACES | OTHER))


def test_a_room_package_file_holds_only_its_docstring():
    # A room's __init__ re-exports nothing: importers name the module that defines a thing.
    for room in sorted(ROOMS - {"models"}):
        text = (PACKAGE / room / "__init__.py").read_text(encoding="utf-8")
        code = [
            line
            for line in text.split('"""')[-1].splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert code == [], (room, code)


def test_no_module_is_longer_than_the_limit():
    lengths = {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    over = {name for name, lines in lengths.items() if lines > MAX_LINES}
    assert not over, {name: lengths[name] for name in sorted(over)}
