"""What a transport for outbox messages is: `send(message) -> SendResult`, and the `console`
transport that prints (development, demo, tests). `transports.py` says which one sends.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal, Protocol, TextIO

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
