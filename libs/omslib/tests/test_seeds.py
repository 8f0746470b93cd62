"""Random chaos is replayable: a failing test's report names its seed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import random

def test_draws_out_of_range(chaos_rng: random.Random) -> None:
    assert chaos_rng.random() > 2

def test_draws_in_range(chaos_rng: random.Random) -> None:
    assert chaos_rng.random() < 2
"""


def _run(tmp_path: Path, seed: str) -> str:
    (tmp_path / "test_probe.py").write_text(PROBE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "omslib.testing.plugin",
            "-p",
            "no:cacheprovider",
            "-c",
            "/dev/null",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_probe.py"),
        ],
        capture_output=True,
        text=True,
        env={"OMS_TEST_SEED": seed, "PATH": ""},
        timeout=120,
    )
    return result.stdout


def test_a_failing_test_reports_the_seed_that_replays_it(tmp_path: Path) -> None:
    out = _run(tmp_path, "42")
    assert "1 failed, 1 passed" in out
    assert "random seed 42: OMS_TEST_SEED=42 replays this run" in out
    # The report's own section, for the failing test only (not just the captured print).
    assert out.count("- random seed -") == 1
