"""Domain errors. Routes map each one to an HTTP status in one place (``http.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.store.port import IdempotencyRecord


class ClearloopError(Exception):
    """Base of every error a use case may raise on purpose."""

    code = "error"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})


class ValidationError(ClearloopError):
    """The input is malformed; ``fields`` names each bad field and why."""

    code = "validation_error"


class InvalidNumberError(ValidationError):
    """The ticket number is not well-formed (its check symbol catches typos)."""

    code = "invalid_number"


class NotFoundError(ClearloopError):
    code = "not_found"


class ConflictError(ClearloopError):
    """The change clashes with the stored state (stale version, illegal transition...)."""

    code = "conflict"


class IdempotencyMismatchError(ClearloopError):
    """An ``Idempotency-Key`` was reused with a different request body."""

    code = "idempotency_key_reused"


class PayloadTooLargeError(ClearloopError):
    code = "payload_too_large"


class UnsupportedMediaTypeError(ClearloopError):
    code = "unsupported_media_type"


class UnauthorizedError(ClearloopError):
    code = "unauthorized"


class ForbiddenError(ClearloopError):
    code = "forbidden"


class RateLimitedError(ClearloopError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailableError(ClearloopError):
    """The store could not be reached or is overloaded; the caller may retry later."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NumberTakenError(ClearloopError):
    """A freshly drawn ticket number already exists (the caller draws another)."""

    code = "number_taken"


class IdempotencyExistsError(ClearloopError):
    """Another request already holds this idempotency key (the caller replays its record).

    ``holder`` is the record that holds the key when the adapter learnt it from the refused write
    itself (so the caller needs no second read), else None.
    """

    code = "idempotency_exists"

    def __init__(self, message: str, holder: IdempotencyRecord | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class StaleVersionError(ConflictError):
    """The ticket changed since the caller read it (optimistic concurrency)."""

    code = "stale_version"


class RateChargeRefusedError(ClearloopError):
    """A write carrying a rate charge was refused because the counter is at its limit; nothing
    was written (the use case answers ``RateLimitedError``)."""

    code = "rate_charge_refused"
