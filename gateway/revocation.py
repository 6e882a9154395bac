"""Tokens issued before an account was deactivated or changed role stop working at once.

Every token carries its account's token version (`ver`), which the account's row raises on
deactivation and on a role change. The gateway learns the current version from Redis, not the
database: it reads `tokver:<subject>` in the same round trip as the request's rate limits
(gateway.admission), so the check costs no extra round trip, and every replica sees a change
on its next request. The key exists only for accounts whose version was ever raised and lives
as long as a token does; after that every older token has expired anyway.

The row is the truth and Redis its copy: the copy is written after the change commits (an
account is never refused for a change that rolled back), and raised again at each login, so a
copy lost to a Redis outage comes back the next time the account logs in. While Redis is
unreachable tokens are not checked against it (the limiter fails open and logs it).
"""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.principals import Principal
from services.settings import SharedSettings

logger = structlog.get_logger(__name__)

VERSION_PREFIX = "tokver:"
# Only ever raises the stored version: of two writes racing, the older cannot win.
RAISE_VERSION = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


def copy_ttl_seconds(settings: SharedSettings) -> int:
    """How long the copy must live: as long as the last token issued before the change (and
    a minute for clocks that disagree)."""
    return settings.access_token_ttl_seconds + 60


def version_key(subject: str) -> str:
    return VERSION_PREFIX + subject


def is_revoked(principal: Principal, current_version: bytes | None) -> bool:
    """Whether the token's version is older than the account's current one."""
    return current_version is not None and principal.token_version < int(current_version)


async def publish_version(redis: Redis, *, subject: str, version: int, ttl_seconds: int) -> bool:
    """Tell every gateway the account's current version; False (and a log line) if Redis is
    unreachable, when the account's older tokens keep working until the copy is restored."""
    if version <= 0:
        return True
    try:
        await redis.register_script(RAISE_VERSION)(keys=[version_key(subject)], args=[version, ttl_seconds])
    except (RedisError, OSError) as exc:
        logger.error(
            "token version not published: Redis is unreachable; older tokens still work",
            subject=subject,
            version=version,
            error=str(exc),
        )
        return False
    return True
