"""The Redis cache production pages read through (CACHE_URL=redis://…): Django's own, except that
an unreachable Redis makes a read a miss and a write a no-op, logged, instead of an error page.
A cache only saves work, so the page is rendered from the database as if nothing were cached; the
settings keep Redis's timeouts short (REDIS_CACHE_TIMEOUT) so that a dead server costs little."""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ForgivingRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            logger.warning("cache read of %s failed, rendering without it: %s", key, exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            logger.warning("cache read of %d keys failed, rendering without it: %s", len(keys), exc)
            return {}

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            logger.warning("cache write of %s failed: %s", key, exc)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            logger.warning("cache write of %s failed: %s", key, exc)
            return False
