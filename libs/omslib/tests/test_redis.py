import asyncio
import sys
from pathlib import Path

import pytest
from omslib.redis_conn import EmbeddedRedis, connect


async def test_connect_uses_bytes_replies(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        await client.set("k", "v")
        assert await client.get("k") == b"v"
    finally:
        await client.aclose()


def test_connect_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="Redis URL"):
        connect("http://127.0.0.1:6379")


async def test_embedded_redis_is_reachable_from_other_processes(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    try:
        assert url.startswith("redis://127.0.0.1:")
        writer = "import redis, sys; redis.Redis.from_url(sys.argv[1]).set('from', 'child')"
        child = await asyncio.create_subprocess_exec(sys.executable, "-c", writer, url)
        assert await child.wait() == 0
        assert server.unix_url is not None
        for each in (url, server.unix_url):
            client = connect(each)
            try:
                assert await client.get("from") == b"child"
            finally:
                await client.aclose()
    finally:
        server.stop()
    assert server.url is None
