"""Transports for outbox messages. Keep the interface small: `send(message) -> SendResult`.

`console` prints (development, demo, tests). The SMS issue adds `twilio` here, the one module
that will import the Twilio client.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TextIO

from respijt.models import OutboxMessage

Outcome = Literal["sent", "transient", "permanent"]


@dataclass(frozen=True)
class SendResult:
    """`sent`; `transient` (retry later); `permanent` (never retry: bad number, opted out)."""

    outcome: Outcome
    provider_message_id: str | None = None
    error_code: str | None = None
    error: str | None = None


class Backend(Protocol):
    def send(self, message: OutboxMessage) -> SendResult: ...


class ConsoleBackend:
    """Prints each message on one line instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: OutboxMessage) -> SendResult:
        stream = self.stream or sys.stdout
        print(f"SMS #{message.id} aan {message.recipient}: {message.body}", file=stream, flush=True)
        return SendResult("sent", provider_message_id=f"console-{message.id}")


BackendFactory = Callable[[Mapping[str, Any]], Backend]
_BACKENDS: dict[str, BackendFactory] = {"console": lambda config: ConsoleBackend()}


def register_backend(name: str, factory: BackendFactory) -> None:
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
