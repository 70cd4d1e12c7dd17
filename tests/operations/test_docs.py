"""The docs a newcomer starts from stay true: links resolve, the glossary names identifiers that
exist, the architecture table names modules that exist, the ADR index lists every record, and
the README stays short."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import respijt.models
from respijt import PROJECT_ROOT
from respijt.config import BY_NAME

ROOT = Path(PROJECT_ROOT)
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
GLOSSARY_TERMS = (
    "aanbieder",
    "verwijzer",
    "mantelzorger",
    "meldpunt",
    "toerbeurt",
    "logeerbed",
    "leegstand",
    "declaratie",
    "Wmo",
    "ELV",
    "Wlz",
    "CBS code",
    "NEN 7513",
)


def _glossary_rows() -> dict[str, str]:
    """{term: its "in the code" cell} of every table row of docs/glossary.md."""
    rows = {}
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| \*\*(.+?)\*\*[^|]*\|[^|]*\|(.*)\|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def _resolves(dotted: str) -> bool:
    """`codes.FUNDING_ROUTES`, `respijt.edge.refusal_outcome`: the module imports and has it."""
    names = dotted.removeprefix("respijt.").split(".")
    for cut in range(len(names), 0, -1):
        try:
            found: Any = importlib.import_module("respijt." + ".".join(names[:cut]))
        except ModuleNotFoundError:
            continue
        for name in names[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_the_readme_stays_under_250_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 250


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)", doc.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://", "mailto:")):
                if not (doc.parent / target).exists():
                    broken.append(f"{doc.relative_to(ROOT)} → {target}")
    assert not broken, broken


def test_the_glossary_maps_every_term_of_respite_care():
    rows = _glossary_rows()
    missing = [term for term in GLOSSARY_TERMS if not any(term in row for row in rows)]
    assert not missing, missing


def test_the_identifiers_in_the_glossary_exist():
    tables = set(respijt.models.Base.metadata.tables)
    wrong = []
    for term, cell in _glossary_rows().items():
        for token in re.findall(r"`([^`]+)`", cell):
            name = token.split(" = ")[0]
            if re.fullmatch(r"[A-Z][A-Za-z]+", name):
                ok = isinstance(getattr(respijt.models, name, None), type)
            elif re.fullmatch(r"[A-Z][A-Za-z]+\.[a-z_]+", name):
                model, column = name.split(".")
                ok = hasattr(getattr(respijt.models, model, None), column)
            elif re.fullmatch(r"RESPIJT_[A-Z0-9_]+", name):
                ok = name in BY_NAME
            elif name.startswith(("respijt/", "docs/")):
                ok = (ROOT / name).exists()
            elif name.endswith(".py"):  # a module of the room the cell names
                ok = any((ROOT / "respijt").rglob(name))
            elif re.fullmatch(r"(respijt\.)?[a-z_]+(\.[A-Za-z_]+)+", name):
                ok = _resolves(name) or name.split(".")[0] == "reservation"  # an action name
            else:
                continue
            if not ok:
                wrong.append(f"{term}: {token}")
        named = re.findall(r"table `([a-z_]+)`", cell)
        for table_list in re.findall(r"tables ((?:`[a-z_]+`(?:, )?)+)", cell):
            named += re.findall(r"`([a-z_]+)`", table_list)
        wrong += [f"{term}: table {table}" for table in named if table not in tables]
    assert not wrong, wrong


def test_the_modules_in_the_architecture_table_exist():
    missing = []
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for line in text.split("## Frame, rooms and faces", 1)[1].split("\n## ", 1)[0].splitlines():
        match = re.match(r"\| `([a-z_/]+)`[^|]*\|[^|]*\|[^|]*\|(.*)\|$", line)
        if not match:
            continue
        folder = ROOT / "respijt" / match.group(1).removeprefix("respijt/").strip("/")
        for module in re.findall(r"`([a-z_]+\.py)", match.group(2)):
            if not (folder / module).exists():
                missing.append(f"{match.group(1)}{module}")
    assert not missing, missing


def test_the_adr_index_lists_every_record_and_every_missing_number():
    folder = ROOT / "docs" / "adr"
    index = (folder / "README.md").read_text(encoding="utf-8")
    records = {int(path.name[:4]): path.name for path in folder.glob("[0-9][0-9][0-9][0-9]-*.md")}
    for number in range(1, max(records) + 1):
        if number in records:
            assert f"]({records[number]})" in index, records[number]
        else:
            assert f"| {number:04d} | Never written" in index, number
