"""The counter store's Redis client against a real redis-server: replies matched to their
commands under concurrency, errors, timeouts, logins and reconnection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from authgate.storage.resp_client import Address, RespClient, Unavailable
from authgate.storage.resp_wire import ReplyError
from tests.private_servers import require
from tests.redis_service import RedisServer
from tests.support import free_port

WAIT = 5.0


def client(url: str, timeout: float = 1.0) -> RespClient:
    return RespClient(Address.from_url(url, timeout=timeout))


async def test_concurrent_commands_each_get_their_own_reply(redis_url: str) -> None:
    redis = client(redis_url)
    try:
        words = [f"word-{n}" * (n % 7 + 1) for n in range(500)]
        replies = await asyncio.wait_for(
            asyncio.gather(*(redis.execute("ECHO", word) for word in words)), WAIT
        )
        assert replies == [word.encode() for word in words]
    finally:
        await redis.aclose()


async def test_an_error_reply_raises_and_the_connection_goes_on(redis_url: str) -> None:
    redis = client(redis_url)
    try:
        with pytest.raises(ReplyError) as raised:
            await redis.execute("EVALSHA", "0" * 40, 0)
        assert raised.value.code == "NOSCRIPT"
        assert await redis.execute("PING") == "PONG"
    finally:
        await redis.aclose()


async def test_a_reply_late_past_the_timeout_is_unavailable_then_a_new_connection_serves(
    redis_url: str,
) -> None:
    redis, pauser = client(redis_url, timeout=0.3), client(redis_url)
    try:
        assert await redis.execute("PING") == "PONG"
        await pauser.execute("CLIENT", "PAUSE", 800, "ALL")
        with pytest.raises(Unavailable, match=r"no reply from Redis within 0\.3s"):
            await asyncio.wait_for(redis.execute("GET", "x"), WAIT)
        await asyncio.sleep(0.9)  # the pause is over
        assert await asyncio.wait_for(redis.execute("PING"), WAIT) == "PONG"
    finally:
        await redis.aclose()
        await pauser.aclose()


async def test_nothing_listening_is_unavailable() -> None:
    redis = client(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    try:
        with pytest.raises(Unavailable, match="cannot connect"):
            await asyncio.wait_for(redis.execute("PING"), WAIT)
    finally:
        await redis.aclose()


async def test_password_user_and_database(tmp_path: Path) -> None:
    require("redis-server", RedisServer.installed(), "run `bash scripts/services.sh`")
    server = RedisServer(tmp_path / "redis", None, "--requirepass", "s3cret")
    server.start()
    port = server.port
    try:
        redis = client(f"redis://:s3cret@127.0.0.1:{port}/2")
        as_default = client(f"redis://default:s3cret@127.0.0.1:{port}/0")
        wrong = client(f"redis://:nope@127.0.0.1:{port}/0")
        anonymous = client(f"redis://127.0.0.1:{port}/0")
        try:
            await redis.execute("SET", "where", "two")
            assert await redis.execute("GET", "where") == b"two"
            assert await as_default.execute("GET", "where") is None  # database 0
            with pytest.raises(Unavailable, match="refused the session"):
                await wrong.execute("PING")
            with pytest.raises(ReplyError) as raised:
                await anonymous.execute("PING")
            assert raised.value.code == "NOAUTH"
        finally:
            for each in (redis, as_default, wrong, anonymous):
                await each.aclose()
    finally:
        server.stop()
