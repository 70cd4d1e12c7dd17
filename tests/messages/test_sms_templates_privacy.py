"""No SMS template can show a client's name, condition or target group on a lock screen.

Every template in templates/sms/ is checked twice:
- statically: no variable, attribute, key or string constant names a forbidden field;
- by rendering it with probe objects that stand in for whatever context it is given, recording
  every attribute path the template reads and putting a sentinel for each in the output.
Unit names are forbidden too: they often name the target group ("Logeerunit dementie").
"""

from __future__ import annotations

import glob
import importlib
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jinja2 import Environment, meta, nodes

from respijt import PROJECT_ROOT

SMS_DIR = os.path.join(PROJECT_ROOT, "templates", "sms")

FORBIDDEN = frozenset(
    {
        "client",
        "client_name",
        "first_name",
        "last_name",
        "initials",
        "birth_year",
        "birth_date",
        "bsn",
        "target_group",
        "target_groups",
        "target_group_label",
        "care_needs",
        "care_level",
        "diagnosis",
        "condition",
        "wheelchair",
        "reason",
        "notes",
    }
)
FORBIDDEN_PATHS = (("unit", "name"),)


def sms_templates() -> list[str]:
    if not os.path.isdir(SMS_DIR):
        return []
    return sorted(
        os.path.relpath(os.path.join(root, name), SMS_DIR)
        for root, _, files in os.walk(SMS_DIR)
        for name in files
        if not name.startswith(".")
    )


def _forbidden_path(path: tuple[str, ...]) -> bool:
    if any(part.lower() in FORBIDDEN for part in path):
        return True
    return any(path[i : i + len(p)] == p for p in FORBIDDEN_PATHS for i in range(len(path)))


def _dotted(node: nodes.Node) -> tuple[str, ...]:
    if isinstance(node, nodes.Name):
        return (node.name,)
    if isinstance(node, nodes.Getattr):
        return (*_dotted(node.node), node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return (*_dotted(node.node), str(node.arg.value))
    return ("?",)


def static_violations(env: Environment, source: str) -> set[str]:
    tree = env.parse(source)
    found: set[str] = set()
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Const)):
        if isinstance(node, nodes.Const):
            if isinstance(node.value, str) and node.value.lower() in FORBIDDEN:
                found.add(repr(node.value))
            continue
        path = _dotted(node)
        if _forbidden_path(path):
            found.add(".".join(path))
    return found


class Probe:
    """Stands in for any context value; remembers every path read through it."""

    def __init__(self, path: tuple[str, ...], seen: set[tuple[str, ...]]) -> None:
        self._path, self._seen = path, seen
        seen.add(path)

    def _child(self, name: str) -> Probe:
        return Probe((*self._path, name), self._seen)

    def __getattr__(self, name: str) -> Probe:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, key: Any) -> Probe:
        return self._child(str(key))

    def __call__(self, *args: Any, **kwargs: Any) -> Probe:
        return self._child("()")

    def __iter__(self) -> Iterator[Probe]:
        return iter([self._child("[]")])

    def __len__(self) -> int:
        return 1

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return "«" + ".".join(self._path) + "»"

    __html__ = __str__

    def __format__(self, spec: str) -> str:
        return str(self)


def _passthrough(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


def rendered_violations(env: Environment, source: str) -> set[str]:
    seen: set[tuple[str, ...]] = set()
    # Filters this environment does not know (the outbox registers its own) let values through.
    env = env.overlay()
    for node in env.parse(source).find_all(nodes.Filter):
        env.filters.setdefault(node.name, _passthrough)
    tree = env.parse(source)
    names = meta.find_undeclared_variables(tree) | {
        node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"
    }
    context = {name: Probe((name,), seen) for name in names}  # also shadows any globals
    output = ""
    try:
        output = env.from_string(source).render(**context)
    except Exception:  # a filter that cannot take a probe: what was read so far still counts
        pass
    found = {".".join(path) for path in seen if _forbidden_path(path)}
    # The sentinels of forbidden paths must never reach the text either.
    for path in seen:
        if _forbidden_path(path) and str(Probe(path, set())) in output:
            found.add("output:" + ".".join(path))
    return found


@pytest.fixture(scope="module")
def env() -> Environment:
    """The environment SMS are rendered with: the outbox's own when it has one."""
    try:
        outbox = importlib.import_module("respijt.messages.outbox")
    except ImportError:
        outbox = None
    own = getattr(outbox, "_env", None)
    if isinstance(own, Environment):
        return own
    return Environment(autoescape=False)


@pytest.mark.parametrize("name", sms_templates())
def test_sms_template_never_reads_client_name_condition_or_target_group(env, name):
    with open(os.path.join(SMS_DIR, name), encoding="utf-8") as fh:
        source = fh.read()
    assert static_violations(env, source) == set(), name
    assert rendered_violations(env, source) == set(), name


@pytest.mark.parametrize(
    "source",
    [
        "Voor {{ request.client.first_name }}: bed gevonden.",
        "Doelgroep: {{ reservation['target_group'] }}",
        "{% set r = reservation.request %}Zorg: {{ r.care_needs }}",
        "{{ reservation.unit.name }} heeft plek",
        "{{ reservation | attr('reason') }}",
        "{% for g in unit.target_groups %}{{ g }}{% endfor %}",
        "{{ client }}",
    ],
)
def test_the_check_catches_every_way_to_reach_a_forbidden_field(env, source):
    assert static_violations(env, source) or rendered_violations(env, source)


def test_the_check_passes_what_an_sms_may_say(env):
    source = (
        "Reservering {{ reservation.short_code }} bij {{ location.name }} "
        "({{ location.municipality.name }}) van {{ reservation.arrival }} is bevestigd. "
        "Vragen? Bel {{ region.meldpunt_number }}."
    )
    assert static_violations(env, source) == set()
    assert rendered_violations(env, source) == set()


def test_every_template_the_rules_queue_is_checked_here():
    """The check above must run on every template in use, never skip for want of files."""
    used: set[str] = set()
    for notices_source in glob.glob(os.path.join(PROJECT_ROOT, "respijt", "*", "notices.py")):
        with open(notices_source, encoding="utf-8") as fh:
            used |= set(re.findall(r'"((?:reservation|request|location)_[a-z_]+)"', fh.read()))
    checked = {name.removesuffix(".txt") for name in sms_templates()}
    assert len(used) >= 16
    assert used <= checked, used - checked
