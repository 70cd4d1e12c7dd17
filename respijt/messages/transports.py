"""Which transport sends the outbox: `RESPIJT_SMS_BACKEND` names it, `console` or `twilio`.

Both are listed here, so no module registers itself by being imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from respijt.messages.backends import Backend, ConsoleBackend
from respijt.messages.twilio_backend import TwilioBackend

BackendFactory = Callable[[Mapping[str, Any]], Backend]
_BACKENDS: dict[str, BackendFactory] = {
    "console": lambda config: ConsoleBackend(),
    "twilio": TwilioBackend.from_config,
}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Add a transport under `name` (tests add scripted ones)."""
    _BACKENDS[name] = factory


def get_backend(config: Mapping[str, Any]) -> Backend:
    """The backend named by RESPIJT_SMS_BACKEND, built from the app config."""
    name = str(config.get("RESPIJT_SMS_BACKEND") or "console")
    factory = _BACKENDS.get(name)
    if factory is None:
        raise RuntimeError(
            f"RESPIJT_SMS_BACKEND={name!r} is onbekend; kies uit: {', '.join(sorted(_BACKENDS))}"
        )
    return factory(config)
