"""Rate-limit settings for test stacks that are not about rate limits.

Every request of ``chalice.test.Client`` and of ``chalice local`` comes from 127.0.0.1, so a
suite that makes many requests would be throttled by the production-like defaults. These keep
the limiter running (its counters are written and read) while never refusing a test's request.
Tests of the limits themselves set low values of their own.
"""

from __future__ import annotations

from typing import Final

from chalicelib.domain.rate_limits import ACTIONS

GENEROUS_RATE_LIMITS: Final = {
    f"CLEARLOOP_RATE_{action.upper()}": "1000000/1m" for action in ACTIONS
}
