import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# events_harness is shared by the event tests and run by them as a subprocess.
sys.path.insert(0, str(Path(__file__).parent))

from events_harness import Sessions, open_db


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    """The harness's tables in a fresh database (``database_url``)."""
    engine, factory = await open_db(database_url)
    yield factory
    await engine.dispose()
