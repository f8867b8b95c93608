"""Per-client rate limits: policies, fixed windows, verdicts and Retry-After (SPEC §7).

A *client* is the request's source address, normalised (an IPv6 host is its /64, the block one
subscriber usually holds) and then replaced by a keyed hash whose key changes every UTC day
(:func:`salt_purpose`), so counters cannot be joined across days and the address itself is never
stored. Each *action* has a :class:`Limit`: at most ``count`` requests per ``seconds``.

Windows are fixed and aligned to the Unix epoch (:func:`window_at`): one counter per (client,
action, window), incremented atomically by the store in one request, which is all a check
costs. The price of fixed windows is the boundary: a client may spend a whole window's allowance
at the end of one window and again at the start of the next, so at most twice ``count`` in any
span of ``seconds``; the defaults are set with that in mind. A sliding-window approximation
would need a second read per check. Window lengths divide a day, so windows never straddle UTC
midnight, where the client hash changes.

Failed key guesses (a wrong ``X-Ticket-Key``) are counted in a separate, much stricter
``key_failure`` bucket: once it is full, every request that presents a key is refused until the
window ends, whatever its own action's bucket says (:func:`lock_verdict`).

Example::

    limit = parse_limit("20/1h")                 # Limit(count=20, seconds=3600)
    window = window_at(limit, now)               # the hour now falls in
    verdict = admit_verdict(limit, 21, window, now)
    verdict.allowed, verdict.retry_after         # (False, seconds until the hour ends)
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

DAY_SECONDS: Final = 86_400

SUBMIT: Final = "submit"
LOOKUP: Final = "lookup"
MESSAGE: Final = "message"  # messages and ratings by the submitter
KEY_FAILURE: Final = "key_failure"
OPEN311_SUBMIT: Final = "open311_submit"
OPEN311_READ: Final = "open311_read"
ACTIONS: Final = (SUBMIT, LOOKUP, MESSAGE, KEY_FAILURE, OPEN311_SUBMIT, OPEN311_READ)
# Actions whose requests may present a ticket key (and so are checked against key failures).
KEYED_ACTIONS: Final = (LOOKUP, MESSAGE)

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": DAY_SECONDS}
_LIMIT_TEXT: Final = re.compile(r"^\s*(\d{1,9})\s*/\s*(\d{1,6})\s*([smhd])\s*$")
UNKNOWN_CLIENT: Final = "unknown"


class RateLimitConfigError(ValueError):
    """A limit is not ``<count>/<length><unit>`` or its window does not divide a day."""


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per fixed window of ``seconds``."""

    count: int
    seconds: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise RateLimitConfigError("a limit allows at least 1 request")
        if not 1 <= self.seconds <= DAY_SECONDS or DAY_SECONDS % self.seconds:
            raise RateLimitConfigError("a window must divide a day (e.g. 30s, 1m, 15m, 1h, 6h, 1d)")

    def __str__(self) -> str:
        for unit, size in (("d", DAY_SECONDS), ("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"{self.count}/{self.seconds // size}{unit}"
        return f"{self.count}/{self.seconds}s"


# Production-like defaults, per client address (see the module docstring for the 2x boundary).
DEFAULT_LIMITS: Final[Mapping[str, Limit]] = {
    SUBMIT: Limit(20, 3600),
    LOOKUP: Limit(60, 60),
    MESSAGE: Limit(30, 3600),
    KEY_FAILURE: Limit(10, 3600),
    OPEN311_SUBMIT: Limit(20, 3600),
    OPEN311_READ: Limit(120, 60),
}


def parse_limit(text: str) -> Limit:
    """``"20/1h"`` -> ``Limit(20, 3600)``; units ``s``, ``m``, ``h``, ``d``."""
    match = _LIMIT_TEXT.match(text)
    if match is None:
        raise RateLimitConfigError(f"{text!r} is not <count>/<length><unit>, e.g. 20/1h")
    count, length, unit = int(match[1]), int(match[2]), match[3]
    return Limit(count, length * _UNITS[unit])


@dataclass(frozen=True)
class Window:
    """One fixed window: ``start`` inclusive, ``end`` exclusive (both UTC)."""

    start: datetime
    end: datetime


def window_at(limit: Limit, now: datetime) -> Window:
    """The window of ``limit`` that ``now`` falls in (aligned to the epoch, so to UTC days)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    epoch = now.timestamp()
    start = math.floor(epoch / limit.seconds) * limit.seconds
    begins = datetime.fromtimestamp(start, UTC)
    return Window(begins, begins + timedelta(seconds=limit.seconds))


def retry_after(window: Window, now: datetime) -> int:
    """Whole seconds until ``window`` ends, at least 1 (the ``Retry-After`` header)."""
    return max(1, math.ceil((window.end - now).total_seconds()))


@dataclass(frozen=True)
class Verdict:
    """Whether a request may proceed; when not, how long to wait (seconds)."""

    allowed: bool
    retry_after: int = 0


def admit_verdict(limit: Limit, count: int, window: Window, now: datetime) -> Verdict:
    """The verdict on a request that brought its window's counter to ``count`` (itself included)."""
    if count <= limit.count:
        return Verdict(True)
    return Verdict(False, retry_after(window, now))


def lock_verdict(limit: Limit, failures: int, window: Window, now: datetime) -> Verdict:
    """The verdict on a keyed request when the client's window holds ``failures`` bad keys:
    refused once ``limit.count`` failures are spent."""
    if failures < limit.count:
        return Verdict(True)
    return Verdict(False, retry_after(window, now))


def salt_purpose(now: datetime) -> str:
    """The keyed-hash purpose for client identities on ``now``'s UTC day: a new key each day."""
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    return f"rate-limit-client/{now.astimezone(UTC).date().isoformat()}"


def client_address(source_ip: str | None) -> str:
    """The address a client is counted by: IPv4 as is, IPv6 as its /64 (an IPv4-mapped IPv6
    address as the IPv4 one), anything unparseable or missing as one shared ``unknown``."""
    if not source_ip:
        return UNKNOWN_CLIENT
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class RateCounter:
    """The store's counter of one client's requests for one action in one window.

    ``client`` is the keyed hash, never the address; the store may forget the counter once
    ``expires_at`` (the window's end) has passed.
    """

    client: str
    action: str
    window_start: datetime
    expires_at: datetime


def counter_for(client: str, action: str, window: Window) -> RateCounter:
    """The counter of ``client`` for ``action`` in ``window``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown rate-limited action {action!r}")
    return RateCounter(client, action, window.start, window.end)


@dataclass(frozen=True)
class RateCharge:
    """One request charged to ``counter`` inside the write it guards, allowed only while the
    counter is below ``limit`` (the store refuses the whole write otherwise)."""

    counter: RateCounter
    limit: int

    def window(self) -> Window:
        return Window(self.counter.window_start, self.counter.expires_at)


def charge_for(client: str, action: str, limit: Limit, now: datetime) -> RateCharge:
    """The charge of one ``action`` request by ``client`` at ``now``."""
    return RateCharge(counter_for(client, action, window_at(limit, now)), limit.count)


def nests(inner: Limit, outer: Limit) -> bool:
    """Whether every window of ``inner`` lies inside one window of ``outer`` (epoch-aligned
    windows: when ``inner``'s length divides ``outer``'s)."""
    return outer.seconds % inner.seconds == 0


def check_nested(counter: RateCounter, outer: RateCounter) -> None:
    """ValueError unless ``counter`` is ``outer``'s client's and its window lies inside
    ``outer``'s (what storing one counter inside the other needs)."""
    if counter.client != outer.client:
        raise ValueError("a nested counter belongs to the same client")
    if not outer.window_start <= counter.window_start < counter.expires_at <= outer.expires_at:
        raise ValueError("a nested counter's window lies inside the outer counter's")
