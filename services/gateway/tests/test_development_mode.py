"""The published development secrets work only in development mode (OMS_ENV=development),
which the local stack sets; anywhere else the gateway refuses to start with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from oms_cli.stack import Stack, StackConfig
from oms_gateway.config import Settings
from omslib.development import DEV_PLATFORM_ENV, DEV_SHOP_SECRET
from omslib.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMS_ENV", "OMS_PLATFORM_SHOP_SECRET", *DEV_PLATFORM_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_published_shop_secret_is_refused_outside_development() -> None:
    with pytest.raises(SystemExit, match="OMS_PLATFORM_SHOP_SECRET is a published"):
        load_settings(Settings, OMS_PLATFORM_SHOP_SECRET=DEV_SHOP_SECRET)
    with pytest.raises(SystemExit, match="published"):
        load_settings(Settings, OMS_ENV="production", OMS_PLATFORM_SHOP_SECRET=DEV_SHOP_SECRET)


@pytest.mark.parametrize("name", [n for n in DEV_PLATFORM_ENV if n.endswith("_SECRET")])
def test_every_published_platform_secret_is_refused_outside_development(name: str) -> None:
    with pytest.raises(SystemExit, match=f"{name} is a published"):
        load_settings(Settings, **{name: DEV_PLATFORM_ENV[name]})


def test_development_mode_accepts_them() -> None:
    settings = load_settings(
        Settings,
        OMS_ENV="development",
        OMS_PLATFORM_SHOP_SECRET=DEV_SHOP_SECRET,
        **DEV_PLATFORM_ENV,
    )
    assert settings.development and settings.shop_secret is not None


def test_an_unknown_mode_fails_fast_naming_the_variable() -> None:
    with pytest.raises(SystemExit, match="OMS_ENV"):
        load_settings(Settings, OMS_ENV="staging-ish")


def test_the_local_stack_runs_in_development_mode(tmp_path: Path) -> None:
    env = Stack(StackConfig(var_dir=tmp_path), base_env={}).env_for("gateway")
    assert (env["OMS_ENV"], env["OMS_PLATFORM_SHOP_SECRET"]) == ("development", DEV_SHOP_SECRET)
    # A mode set by the caller wins.
    stack = Stack(StackConfig(var_dir=tmp_path), base_env={"OMS_ENV": "production"})
    assert stack.env_for("gateway")["OMS_ENV"] == "production"
