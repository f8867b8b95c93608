"""Edge dependencies injected into use cases: the clock and the random source."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class RandomSource(Protocol):
    def token_bytes(self, n: int) -> bytes:
        """``n`` cryptographically random bytes."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRandom:
    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)
