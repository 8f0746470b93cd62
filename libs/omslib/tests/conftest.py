from collections.abc import AsyncIterator

import pytest
from omslib.testing.events_harness import Sessions, open_db


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    """The harness's tables in a fresh database (``database_url``)."""
    engine, factory = await open_db(database_url)
    yield factory
    await engine.dispose()
