"""The API throttle's counter: one atomic step per request, shared by every web process.

`throttle_hit` adds one request to a key's fixed window and returns the window's count.
With Redis as the cache (production) it is INCR and EXPIRE in one round trip; otherwise
(the embedded default's database, and the test settings) one upsert statement on
`ApiThrottleWindow`, which the database runs atomically: two processes can no longer both
read 49 and write 50 (issue 11, defect 3).
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

# PostgreSQL and SQLite (3.35+) both speak this upsert; `excluded` is the row we tried to
# insert. The table is ApiThrottleWindow's (its Meta names it).
_UPSERT = """
INSERT INTO "projects_api_throttle_window" ("key", "window_start", "count") VALUES (%s, %s, 1)
ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN "projects_api_throttle_window"."window_start" = excluded."window_start"
                   THEN "projects_api_throttle_window"."count" + 1 ELSE 1 END,
    "window_start" = excluded."window_start"
RETURNING "count"
"""


def throttle_hit(*, key: str, window_start: int, window_seconds: int) -> int:
    """Count one request of `key` in the window starting at `window_start`; the count so far."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return _redis_hit(cache, key=f"{key}:{window_start}", ttl=window_seconds + 1)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key, window_start])
        return cursor.fetchone()[0]


def _redis_hit(cache: RedisCache, *, key: str, ttl: int) -> int:
    cache_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(cache_key, write=True)
    pipeline = client.pipeline(transaction=True)  # MULTI/EXEC: the key never lives without a TTL
    pipeline.incr(cache_key)
    pipeline.expire(cache_key, ttl)
    count, _ = pipeline.execute()
    return int(count)
