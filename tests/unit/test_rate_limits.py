"""Rate limits: the domain arithmetic (windows, verdicts, Retry-After, client addresses), the
settings, and the use case with a fake store, a fake keyring and a movable clock."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.config import Settings, SettingsError
from chalicelib.domain import rate_limits as rl
from chalicelib.domain.rate_limits import Limit, RateCounter
from chalicelib.errors import RateLimitedError, StoreUnavailableError
from chalicelib.services.lookup import InvalidKeyError
from chalicelib.services.rate_limits import RateLimitService

T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)  # on a whole hour


# -- domain -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [
        ("20/1h", 20, 3600),
        ("60/1m", 60, 60),
        (" 5 / 30s ", 5, 30),
        ("1/1d", 1, 86_400),
        ("10/15m", 10, 900),
        ("3/6h", 3, 21_600),
    ],
)
def test_parse_limit(text: str, count: int, seconds: int) -> None:
    limit = rl.parse_limit(text)
    assert limit == Limit(count, seconds)
    assert rl.parse_limit(str(limit)) == limit  # the text form round-trips


@pytest.mark.parametrize(
    "text",
    ["", "20", "20/", "/1h", "0/1h", "20/0s", "20/7m", "20/2d", "20/1w", "-1/1h", "x/1h", "1.5/1h"],
)
def test_parse_limit_rejects_malformed_or_day_straddling(text: str) -> None:
    with pytest.raises(rl.RateLimitConfigError):
        rl.parse_limit(text)


def test_str_uses_the_largest_whole_unit() -> None:
    assert str(Limit(20, 3600)) == "20/1h"
    assert str(Limit(20, 5400)) == "20/90m"
    assert str(Limit(7, 45)) == "7/45s"
    assert str(Limit(1, 86_400)) == "1/1d"


def test_windows_are_aligned_to_the_epoch_and_adjacent() -> None:
    hour = Limit(10, 3600)
    inside = rl.window_at(hour, T0 + timedelta(minutes=59, seconds=59, microseconds=999_999))
    assert inside == rl.Window(T0, T0 + timedelta(hours=1))
    assert rl.window_at(hour, T0) == inside  # the start belongs to the window
    after = rl.window_at(hour, T0 + timedelta(hours=1))
    assert after.start == inside.end
    minute = rl.window_at(Limit(1, 60), T0 + timedelta(seconds=61))
    assert minute == rl.Window(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))


def test_windows_never_straddle_utc_midnight() -> None:
    for length in (1, 60, 900, 3600, 6 * 3600, 86_400):
        late = datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
        window = rl.window_at(Limit(1, length), late)
        assert window.start.date() == late.date()
        assert window.end <= datetime(2026, 3, 3, tzinfo=UTC)


def test_window_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        rl.window_at(Limit(1, 60), datetime(2026, 3, 2, 10, 0))


def test_retry_after_rounds_up_and_is_at_least_one_second() -> None:
    window = rl.Window(T0, T0 + timedelta(minutes=1))
    assert rl.retry_after(window, T0) == 60
    assert rl.retry_after(window, T0 + timedelta(seconds=0.2)) == 60
    assert rl.retry_after(window, T0 + timedelta(seconds=59)) == 1
    assert rl.retry_after(window, T0 + timedelta(seconds=59.9)) == 1
    assert rl.retry_after(window, window.end) == 1  # never "retry after 0"


def test_admit_verdict_allows_exactly_the_limit() -> None:
    limit = Limit(3, 60)
    window = rl.window_at(limit, T0)
    now = T0 + timedelta(seconds=15)
    assert [rl.admit_verdict(limit, n, window, now).allowed for n in (1, 2, 3, 4, 5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert rl.admit_verdict(limit, 4, window, now).retry_after == 45
    assert rl.admit_verdict(limit, 3, window, now).retry_after == 0


def test_lock_verdict_refuses_once_the_failures_are_spent() -> None:
    limit = Limit(2, 3600)
    window = rl.window_at(limit, T0)
    now = T0 + timedelta(minutes=50)
    assert rl.lock_verdict(limit, 0, window, now).allowed
    assert rl.lock_verdict(limit, 1, window, now).allowed
    locked = rl.lock_verdict(limit, 2, window, now)
    assert not locked.allowed
    assert locked.retry_after == 600


@pytest.mark.parametrize(
    ("source", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same subscriber's /64
        ("::ffff:198.51.100.9", "198.51.100.9"),
        (None, rl.UNKNOWN_CLIENT),
        ("", rl.UNKNOWN_CLIENT),
        ("not an address", rl.UNKNOWN_CLIENT),
        ("203.0.113.7, 10.0.0.1", rl.UNKNOWN_CLIENT),  # a forwarded list is not an address
    ],
)
def test_client_address(source: str | None, counted_as: str) -> None:
    assert rl.client_address(source) == counted_as


def test_salt_purpose_changes_at_utc_midnight_only() -> None:
    day = rl.salt_purpose(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    assert rl.salt_purpose(datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)) == day
    assert rl.salt_purpose(datetime(2026, 3, 3, 0, 0, tzinfo=UTC)) != day
    # The UTC day, whatever the offset of the time given.
    minus5 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=-5)))
    assert minus5.day == 2  # still the 2nd where the time is written
    assert rl.salt_purpose(minus5) == rl.salt_purpose(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))


def test_counter_for_names_a_known_action_and_expires_at_the_window_end() -> None:
    window = rl.window_at(Limit(1, 60), T0)
    assert rl.counter_for("ab", "lookup", window) == RateCounter("ab", "lookup", T0, window.end)
    with pytest.raises(ValueError, match="unknown"):
        rl.counter_for("ab", "staff", window)


# -- settings -----------------------------------------------------------------------------------


def test_settings_defaults_are_production_like() -> None:
    s = Settings.from_env({})
    assert s.rate_limits_enabled
    assert dict(s.rate_limits) == dict(rl.DEFAULT_LIMITS)
    assert set(s.rate_limits) == set(rl.ACTIONS)
    assert s.rate_limits[rl.KEY_FAILURE].count < s.rate_limits[rl.LOOKUP].count


def test_settings_read_every_action_from_its_variable() -> None:
    env = {f"CLEARLOOP_RATE_{a.upper()}": f"{i + 1}/{i + 1}m" for i, a in enumerate(rl.ACTIONS)}
    s = Settings.from_env(env)
    for i, action in enumerate(rl.ACTIONS):
        assert s.rate_limits[action] == Limit(i + 1, (i + 1) * 60)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CLEARLOOP_RATE_SUBMIT": "lots"}, "CLEARLOOP_RATE_SUBMIT"),
        ({"CLEARLOOP_RATE_KEY_FAILURE": "5/7m"}, "CLEARLOOP_RATE_KEY_FAILURE: a window"),
        ({"CLEARLOOP_RATE_LIMITS": "maybe"}, "on or off"),
        ({"CLEARLOOP_RATE_LIMITS": "off", "CLEARLOOP_STAGE": "prod"}, "local stage only"),
    ],
)
def test_bad_rate_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_limits_can_be_switched_off_on_the_local_stage() -> None:
    assert not Settings.from_env({"CLEARLOOP_RATE_LIMITS": "OFF"}).rate_limits_enabled


# -- the use case -------------------------------------------------------------------------------


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class Keyring:
    def mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(b"secret", purpose.encode() + b"\0" + data, hashlib.sha256).digest()


class MemoryCounters:
    """The port's counter operations in memory; ``failing`` makes them raise."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, datetime], tuple[int, datetime]] = {}
        self.failing: Exception | None = None
        self.calls = 0

    def _fail(self) -> None:
        self.calls += 1
        if self.failing is not None:
            raise self.failing

    def bump_rate_counter(self, counter: RateCounter, amount: int) -> int:
        self._fail()
        key = (counter.client, counter.action, counter.window_start)
        count = self.counts.get(key, (0, counter.expires_at))[0] + amount
        self.counts[key] = (count, counter.expires_at)
        return count

    def read_rate_counter(self, counter: RateCounter) -> int:
        self._fail()
        return self.counts.get((counter.client, counter.action, counter.window_start), (0, T0))[0]

    def bump_keyed_counter(
        self, counter: RateCounter, amount: int, failures: RateCounter
    ) -> tuple[int, int]:
        rl.check_nested(counter, failures)
        count = self.bump_rate_counter(counter, amount)
        key = (failures.client, failures.action, failures.window_start)
        return count, self.counts.get(key, (0, T0))[0]

    def purge_rate_counters(self, now: datetime) -> int:
        expired = [k for k, (_, expires) in self.counts.items() if expires <= now]
        for k in expired:
            del self.counts[k]
        return len(expired)


LIMITS = {
    **rl.DEFAULT_LIMITS,
    rl.SUBMIT: Limit(3, 3600),
    rl.LOOKUP: Limit(5, 60),
    rl.KEY_FAILURE: Limit(2, 3600),
}
IP = "203.0.113.7"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(minutes=10))


@pytest.fixture
def counters() -> MemoryCounters:
    return MemoryCounters()


@pytest.fixture
def limits(counters: MemoryCounters, clock: Clock) -> RateLimitService:
    return RateLimitService(counters, Keyring(), clock, LIMITS)  # type: ignore[arg-type]


def refused(call: object) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_enforce_allows_the_limit_then_refuses_with_retry_after(
    limits: RateLimitService, clock: Clock
) -> None:
    for _ in range(3):
        limits.enforce(IP, rl.SUBMIT)
    error = refused(lambda: limits.enforce(IP, rl.SUBMIT))
    assert error.code == "rate_limited"
    assert error.retry_after == 50 * 60  # the hour window ends at T0 + 1 h
    assert "submissions" in error.message
    assert "50 minutes" in error.message
    clock.advance(minutes=50)  # the next window
    limits.enforce(IP, rl.SUBMIT)


def test_clients_and_actions_are_counted_apart(limits: RateLimitService) -> None:
    for _ in range(3):
        limits.enforce(IP, rl.SUBMIT)
    limits.enforce("198.51.100.1", rl.SUBMIT)  # another client
    limits.enforce(IP, rl.LOOKUP)  # another action
    refused(lambda: limits.enforce(IP, rl.SUBMIT))


def test_a_cost_counts_several_requests(limits: RateLimitService) -> None:
    limits.enforce(IP, rl.SUBMIT, cost=3)
    refused(lambda: limits.enforce(IP, rl.SUBMIT))


def test_wrong_keys_lock_keyed_requests_before_the_lookup_limit(
    limits: RateLimitService, clock: Clock
) -> None:
    def guess() -> None:
        with limits.keyed(IP, rl.LOOKUP, with_key=True):
            raise InvalidKeyError("The key does not match this ticket.")

    for _ in range(2):  # the key_failure limit
        with pytest.raises(InvalidKeyError):
            guess()
    # Locked: refused before the key is checked (even the right key), with the lock's wait.
    error = refused(guess)
    assert error.retry_after == 50 * 60
    assert "wrong ticket keys" in error.message
    # Keyless lookups are not locked, and have their own allowance left (5 - 3 spent: the
    # refused keyed lookup was counted in the same write that read the failures).
    for _ in range(2):
        with limits.keyed(IP, rl.LOOKUP, with_key=False):
            pass
    refused(lambda: limits.enforce(IP, rl.LOOKUP))  # now the lookup bucket is spent too
    # Another client is not locked.
    with limits.keyed("198.51.100.1", rl.LOOKUP, with_key=True):
        pass
    clock.advance(minutes=50)
    with limits.keyed(IP, rl.LOOKUP, with_key=True):
        pass


def test_other_errors_in_a_keyed_block_are_not_key_failures(
    limits: RateLimitService, counters: MemoryCounters
) -> None:
    for _ in range(5):
        with pytest.raises(LookupError), limits.keyed(IP, rl.MESSAGE, with_key=True):
            raise LookupError("not a key failure")
    assert not any(action == rl.KEY_FAILURE for _, action, _ in counters.counts)


def test_a_keyed_check_is_one_store_call_when_the_windows_nest(
    limits: RateLimitService, counters: MemoryCounters
) -> None:
    with limits.keyed(IP, rl.LOOKUP, with_key=True):
        pass
    assert counters.calls == 1  # the count and the key failures in one request
    limits.enforce(IP, rl.LOOKUP)  # a keyless check counts in the same counter
    assert counters.calls == 2
    assert [count for (_, action, _), (count, _) in counters.counts.items()] == [2]


def test_a_keyed_check_reads_the_failures_apart_when_the_windows_do_not_nest(
    counters: MemoryCounters, clock: Clock
) -> None:
    day_lookups = {**LIMITS, rl.LOOKUP: Limit(5, 86_400)}  # a day does not fit in an hour
    limits = RateLimitService(counters, Keyring(), clock, day_lookups)  # type: ignore[arg-type]
    with limits.keyed(IP, rl.LOOKUP, with_key=True):
        pass
    assert counters.calls == 2  # read the failures, then bump the day's counter
    for _ in range(2):
        with pytest.raises(InvalidKeyError), limits.keyed(IP, rl.LOOKUP, with_key=True):
            raise InvalidKeyError("wrong")
    assert (
        "wrong ticket keys"
        in refused(lambda: limits.keyed(IP, rl.LOOKUP, with_key=True).__enter__()).message
    )


def test_a_keyless_request_failing_with_invalid_key_is_not_counted(
    limits: RateLimitService, counters: MemoryCounters
) -> None:
    with pytest.raises(InvalidKeyError), limits.keyed(IP, rl.LOOKUP, with_key=False):
        raise InvalidKeyError("x")
    assert not any(action == rl.KEY_FAILURE for _, action, _ in counters.counts)


@pytest.mark.parametrize(
    "failure", [StoreUnavailableError("database is locked"), RuntimeError("a bug")]
)
def test_a_failing_store_lets_requests_through_and_logs_without_the_address(
    limits: RateLimitService,
    counters: MemoryCounters,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
) -> None:
    counters.failing = failure
    caplog.set_level(logging.WARNING, logger="clearloop.rate_limits")
    for _ in range(10):  # far past every limit
        limits.enforce(IP, rl.SUBMIT)
        with pytest.raises(InvalidKeyError), limits.keyed(IP, rl.LOOKUP, with_key=True):
            raise InvalidKeyError("x")
    assert caplog.records, "a limiter that fails open must say so"
    assert "request allowed" in caplog.text
    assert IP not in caplog.text
    assert limits.client_hash(IP) not in caplog.text


def test_a_failing_keyring_also_fails_open(
    counters: MemoryCounters, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def mac(self, purpose: str, data: bytes) -> bytes:
            raise StoreUnavailableError("The key service is busy; try again shortly.")

    limits = RateLimitService(counters, Broken(), clock, LIMITS)  # type: ignore[arg-type]
    for _ in range(5):
        limits.enforce(IP, rl.SUBMIT)
    assert "not checked" in caplog.text


def test_the_client_hash_hides_the_address_and_changes_every_day(
    limits: RateLimitService, clock: Clock, counters: MemoryCounters
) -> None:
    today = limits.client_hash(IP)
    assert IP not in today
    assert len(today) == 32
    assert limits.client_hash(IP) == today
    assert limits.client_hash("203.0.113.8") != today
    limits.enforce(IP, rl.SUBMIT)
    assert {client for client, _, _ in counters.counts} == {today}
    clock.advance(days=1)
    assert limits.client_hash(IP) != today


def test_switched_off_nothing_is_counted_or_refused(counters: MemoryCounters, clock: Clock) -> None:
    limits = RateLimitService(counters, Keyring(), clock, LIMITS, enabled=False)  # type: ignore[arg-type]
    for _ in range(10):
        limits.enforce(IP, rl.SUBMIT)
        with pytest.raises(InvalidKeyError), limits.keyed(IP, rl.LOOKUP, with_key=True):
            raise InvalidKeyError("x")
    assert counters.counts == {}


def test_every_action_needs_a_limit(counters: MemoryCounters, clock: Clock) -> None:
    partial = {rl.SUBMIT: Limit(1, 60)}
    with pytest.raises(ValueError, match="no rate limit"):
        RateLimitService(counters, Keyring(), clock, partial)  # type: ignore[arg-type]


def test_purge_expired_uses_the_clock(
    limits: RateLimitService, clock: Clock, counters: MemoryCounters
) -> None:
    limits.enforce(IP, rl.LOOKUP)  # a one-minute window
    limits.enforce(IP, rl.SUBMIT)  # a one-hour window
    assert limits.purge_expired() == 0
    clock.advance(minutes=1)
    assert limits.purge_expired() == 1
    clock.advance(hours=1)
    assert limits.purge_expired() == 1
    assert counters.counts == {}


def test_after_a_store_failure_the_limiter_pauses_then_counts_again(
    limits: RateLimitService, clock: Clock, counters: MemoryCounters
) -> None:
    counters.failing = StoreUnavailableError("timeout")
    limits.enforce(IP, rl.SUBMIT)
    assert counters.calls == 1
    counters.failing = None  # the store is back, but the pause is not over
    for _ in range(10):
        limits.enforce(IP, rl.SUBMIT)
        with limits.keyed(IP, rl.LOOKUP, with_key=True):
            pass
    assert counters.calls == 1  # no request waited on the store during the pause
    clock.advance(seconds=10)
    for _ in range(3):
        limits.enforce(IP, rl.SUBMIT)
    assert counters.calls == 4
    refused(lambda: limits.enforce(IP, rl.SUBMIT))  # counting (and refusing) again
