"""The send-rate cap of an integration, shared by every worker process on every machine.

Wappin (WhatsApp behind it) allows a number so many messages a second. The cap is
kept as a schedule of send slots, one every `1 / rate` seconds (GCRA, the
"virtual scheduling" form of a token bucket with no burst): a dispatcher asks
for `count` slots and is told how long to wait before it may send them. Two
dispatchers asking at the same moment get consecutive slots, so together they
never go over the cap, whichever machines they run on.

Two backends, one contract (`reserve`):
- Redis (production): one Lua script, atomic in Redis, timed by Redis's own
  clock so machines whose clocks differ still agree.
- The database (the embedded default): one row per integration, updated under
  a row lock (PostgreSQL) or SQLite's write lock.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import transaction

# The schedule aims a little under the cap: thread wake-ups and the network move a
# send by a few milliseconds, and the cap is a ceiling, not a target.
CAP_MARGIN = 0.97

_RESERVE_SCRIPT = """
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local next_slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_slot < now then next_slot = now end
local after = next_slot + count * interval
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', math.ceil((after - now) * 1000) + 60000)
return string.format('%.6f', next_slot - now)
"""


class RateLimiter(Protocol):
    def reserve(self, *, key: str, rate: float, count: int) -> float:
        """Reserve `count` consecutive slots at `rate` a second; the seconds to wait for the first."""


def slot_interval(rate: float) -> float:
    return 1.0 / (max(rate, 0.001) * CAP_MARGIN)


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_RESERVE_SCRIPT)

    def reserve(self, *, key: str, rate: float, count: int) -> float:
        delay = self._script(keys=[f"wappin:send-rate:{key}"], args=[slot_interval(rate), count])
        return max(0.0, float(delay))


class DatabaseRateLimiter:
    """The same schedule in a row of `SendRateSlot`; one machine's clock (the embedded set-up)."""

    def reserve(self, *, key: str, rate: float, count: int) -> float:
        from messaging.models import SendRateSlot

        with transaction.atomic():
            slot, _ = SendRateSlot.objects.select_for_update().get_or_create(key=key)
            now = time.time()
            next_slot = max(slot.next_slot_at, now)
            slot.next_slot_at = next_slot + count * slot_interval(rate)
            slot.save(update_fields=["next_slot_at"])
        return next_slot - now


@cache
def _limiter_for(url: str) -> RateLimiter:
    return RedisRateLimiter(url) if url else DatabaseRateLimiter()


def rate_limiter() -> RateLimiter:
    """The limiter this deployment shares: Redis when `SEND_RATE_REDIS_URL` is set, else the database."""
    return _limiter_for(settings.SEND_RATE_REDIS_URL)
