"""Use case: per-client rate limits on the public routes (SPEC §7).

Each check counts the request in the store (one atomic increment) and refuses it with
``RateLimitedError`` (429 with ``Retry-After``) once the client's window is spent. Submissions
are not checked here: ``charge`` hands the use case a ``RateCharge`` that the store writes in
the ticket's own transaction, refusing the whole write when the counter is full (no extra
request). The client is identified by a keyed hash of its source address under a key that
changes every UTC day (``domain.rate_limits.salt_purpose``, through the deployment's
``Keyring``); the address itself is never stored or logged.

The limiter fails open: when the store (or the keyring) cannot be reached, the request goes
through and the failure is logged (a submission's charge cannot fail on its own: if the store
fails, the submission fails with 503 and is not stored). Losing a request to a broken counter
would be worse than letting a few extra requests in; API Gateway's stage throttling still
bounds the total. After a failure the limiter stops asking the store for
``PAUSE_AFTER_FAILURE`` (a circuit breaker), so an unavailable store costs the requests behind
it no extra timeouts: they go straight to the use case, which answers 503 with ``Retry-After``
if the store is still down.

Example::

    limits = RateLimitService(store, keyring, clock, settings.rate_limits)
    charge = limits.charge(source_ip, "submit")           # written with the ticket
    submissions.submit(payload, idempotency_key, charge=charge)
    with limits.keyed(source_ip, "lookup", with_key=True):
        body = lookup.status(number, key)                 # a wrong key counts as a failure
    limits.purge_expired()                                # daily housekeeping (SQLite)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

from chalicelib.crypto.port import Keyring
from chalicelib.domain import rate_limits as rl
from chalicelib.errors import RateLimitedError, StoreUnavailableError
from chalicelib.services.lookup import InvalidKeyError
from chalicelib.services.ports import Clock
from chalicelib.store.port import TicketStore

log = logging.getLogger("clearloop.rate_limits")

CLIENT_HASH_BYTES = 16  # 128 bits of the keyed hash: unique enough, short keys
PAUSE_AFTER_FAILURE = timedelta(seconds=10)

_NOUNS = {
    rl.SUBMIT: "submissions",
    rl.LOOKUP: "lookups",
    rl.MESSAGE: "messages and ratings",
    rl.OPEN311_SUBMIT: "service requests",
    rl.OPEN311_READ: "requests",
}


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"


def _limited(action: str, wait: int) -> RateLimitedError:
    return RateLimitedError(
        f"Too many {_NOUNS.get(action, 'requests')} from your connection recently; "
        f"try again in {_wait_text(wait)}.",
        wait,
    )


def _locked(wait: int) -> RateLimitedError:
    return RateLimitedError(
        "Too many wrong ticket keys have come from your connection; "
        f"try again in {_wait_text(wait)}.",
        wait,
    )


def refusal(charge: rl.RateCharge, now: datetime) -> RateLimitedError:
    """The 429 for a write the store refused because ``charge``'s counter is full."""
    return _limited(charge.counter.action, rl.retry_after(charge.window(), now))


class RateLimitService:
    def __init__(
        self,
        store: TicketStore,
        keyring: Keyring,
        clock: Clock,
        limits: Mapping[str, rl.Limit],
        *,
        enabled: bool = True,
    ) -> None:
        missing = set(rl.ACTIONS) - set(limits)
        if missing:
            raise ValueError(f"no rate limit for {sorted(missing)}")
        self._store = store
        self._keyring = keyring
        self._clock = clock
        self._limits = dict(limits)
        self._enabled = enabled
        self._paused_until: datetime | None = None  # the circuit breaker (module docstring)

    def client_hash(self, source_ip: str | None) -> str:
        """The keyed hash a client is counted under today (hex)."""
        return self._client(source_ip, self._clock.now())

    def _client(self, source_ip: str | None, now: datetime) -> str:
        address = rl.client_address(source_ip).encode("ascii")
        mac = self._keyring.mac(rl.salt_purpose(now), address)
        return mac[:CLIENT_HASH_BYTES].hex()

    def enforce(self, source_ip: str | None, action: str, cost: int = 1) -> None:
        """Count one request (``cost`` units) of ``action``; RateLimitedError when over."""
        if self._stored_with_failures(action):
            self._enforce_keyed(source_ip, action, with_key=False, cost=cost)  # as keyed() does
            return
        now = self._clock.now()
        if not self._active(now):
            return
        limit = self._limits[action]
        window = rl.window_at(limit, now)
        count = self._bump(source_ip, action, window, cost, now)
        if count is None:
            return
        verdict = rl.admit_verdict(limit, count, window, now)
        if not verdict.allowed:
            raise _limited(action, verdict.retry_after)

    def charge(
        self, source_ip: str | None, action: str, *, client: str | None = None
    ) -> rl.RateCharge | None:
        """The charge of one ``action`` request, for the use case to write with what it stores
        (a submission: ``create_ticket(..., charge=...)``), so the limit costs no request of its
        own. ``client`` names the client instead of the address (Open311: the app's key id).
        None when limits are off or the client cannot be named (fail open). The circuit breaker
        does not apply: the charge adds no request, and when the store is down the write it
        rides in fails anyway."""
        if not self._enabled:
            return None
        now = self._clock.now()
        try:
            who = client if client is not None else self._client(source_ip, now)
        except Exception as e:  # fail open (module docstring)
            self._failed_open(action, e, now)
            return None
        return rl.charge_for(who, action, self._limits[action], now)

    def check_key_failures(self, source_ip: str | None) -> None:
        """RateLimitedError when the client has spent its allowance of wrong keys."""
        now = self._clock.now()
        if not self._active(now):
            return
        limit = self._limits[rl.KEY_FAILURE]
        window = rl.window_at(limit, now)
        try:
            counter = rl.counter_for(self._client(source_ip, now), rl.KEY_FAILURE, window)
            failures = self._store.read_rate_counter(counter)
        except Exception as e:  # fail open (module docstring)
            self._failed_open(rl.KEY_FAILURE, e, now)
            return
        verdict = rl.lock_verdict(limit, failures, window, now)
        if not verdict.allowed:
            raise _locked(verdict.retry_after)

    def record_key_failure(self, source_ip: str | None) -> None:
        """Count one wrong key presented by the client."""
        now = self._clock.now()
        if not self._active(now):
            return
        window = rl.window_at(self._limits[rl.KEY_FAILURE], now)
        self._bump(source_ip, rl.KEY_FAILURE, window, 1, now)

    @contextmanager
    def keyed(self, source_ip: str | None, action: str, *, with_key: bool) -> Iterator[None]:
        """Guard a request that may present a ticket key: refuse it while the client's wrong
        keys are spent (``with_key``), count it for ``action``, and count a wrong key (the
        block raising ``InvalidKeyError``) as a failure."""
        if self._stored_with_failures(action):
            self._enforce_keyed(source_ip, action, with_key=with_key)
        else:  # the action's window is longer than the key failures': two counters, two calls
            if with_key:
                self.check_key_failures(source_ip)
            self.enforce(source_ip, action)
        try:
            yield
        except InvalidKeyError:
            if with_key:
                self.record_key_failure(source_ip)
            raise

    def _stored_with_failures(self, action: str) -> bool:
        """Whether ``action``'s counter lives with the key failures (``bump_keyed_counter``)."""
        return action in rl.KEYED_ACTIONS and rl.nests(
            self._limits[action], self._limits[rl.KEY_FAILURE]
        )

    def _enforce_keyed(
        self, source_ip: str | None, action: str, *, with_key: bool, cost: int = 1
    ) -> None:
        """Count ``action`` and learn the client's key failures in one store request
        (``bump_keyed_counter``); refuse a keyed request once the failures are spent, then any
        request over ``action``'s limit. A refused keyed request is still counted for
        ``action``: the count and the read are one atomic write."""
        now = self._clock.now()
        if not self._active(now):
            return
        limit, key_limit = self._limits[action], self._limits[rl.KEY_FAILURE]
        window, key_window = rl.window_at(limit, now), rl.window_at(key_limit, now)
        try:
            client = self._client(source_ip, now)
            count, failures = self._store.bump_keyed_counter(
                rl.counter_for(client, action, window),
                cost,
                rl.counter_for(client, rl.KEY_FAILURE, key_window),
            )
        except Exception as e:  # fail open (module docstring)
            self._failed_open(action, e, now)
            return
        if with_key:
            lock = rl.lock_verdict(key_limit, failures, key_window, now)
            if not lock.allowed:
                raise _locked(lock.retry_after)
        verdict = rl.admit_verdict(limit, count, window, now)
        if not verdict.allowed:
            raise _limited(action, verdict.retry_after)

    def purge_expired(self) -> int:
        """Delete counters whose window has ended (how long a client hash is kept)."""
        return self._store.purge_rate_counters(self._clock.now())

    def _bump(
        self, source_ip: str | None, action: str, window: rl.Window, cost: int, now: datetime
    ) -> int | None:
        """The counter's new count, or None when it could not be counted (fail open)."""
        try:
            counter = rl.counter_for(self._client(source_ip, now), action, window)
            return self._store.bump_rate_counter(counter, cost)
        except Exception as e:  # fail open (module docstring)
            self._failed_open(action, e, now)
            return None

    def _active(self, now: datetime) -> bool:
        """Whether to count: limits on, and not paused after a store failure."""
        paused_until = self._paused_until
        return self._enabled and (paused_until is None or now >= paused_until)

    def _failed_open(self, action: str, error: Exception, now: datetime) -> None:
        self._paused_until = now + PAUSE_AFTER_FAILURE
        pause = PAUSE_AFTER_FAILURE.total_seconds()
        # Never the address or the hash: only what failed.
        if isinstance(error, StoreUnavailableError):
            log.warning(
                "rate limit %s not checked, request allowed; limits paused for %gs: %s",
                action,
                pause,
                error.message,
            )
        else:
            log.exception(
                "rate limit %s failed, request allowed; limits paused for %gs", action, pause
            )
