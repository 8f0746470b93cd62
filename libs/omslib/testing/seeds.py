"""Random chaos that can be replayed: one seed per test, named when the test fails.

A test that kills processes or draws inputs at random takes the ``chaos_rng``
fixture (``omslib.testing.plugin``): a ``random.Random`` seeded from ``OMS_TEST_SEED``
when set, else from the system's entropy. The plugin adds the seed to the failure
report, so ``OMS_TEST_SEED=<seed>`` replays the failed run.
"""

from __future__ import annotations

import os
import random

import pytest

SEED_ENV = "OMS_TEST_SEED"
#: Where the fixture leaves the seed for the failure report.
SEED_KEY = pytest.StashKey[int]()


def chosen_seed() -> int:
    """``OMS_TEST_SEED`` when set, else a fresh seed."""
    given = os.environ.get(SEED_ENV, "").strip()
    if given:
        return int(given)
    return random.SystemRandom().randrange(10**9)


def seed_report(seed: int) -> str:
    return f"random seed {seed}: {SEED_ENV}={seed} replays this run"
