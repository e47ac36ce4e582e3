"""Django's Redis cache, keeping one Redis client per connection pool.

Django's backend builds a `redis.Redis` for every cache call, and building one
costs more than the call itself (redis-py fills a table of ~170 response
callbacks each time: ~0.2 ms, measured on the callback path, which makes two
cache calls per callback). The client is thread-safe and the pool it wraps is
fork-safe, so one per pool does. Selected by `cache_config` in the settings.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
