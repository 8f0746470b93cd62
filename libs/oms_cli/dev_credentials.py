"""Development credentials: the platform secrets `make run` and `oms send` share (public,
documented in docs/platforms.md), and the admin token `make run` gives the gateway,
kept in a file and never printed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ADMIN_TOKEN_FILE = "admin-token"

# A fixed, documented secret so `make run` and `oms send` agree out of the box.
# Real deployments set OMS_PLATFORM_SHOP_SECRET; the banner warns when this one is used.
DEV_SHOP_SECRET = "whsec_b21zLWRldi1zaG9wLXNlY3JldC1jaGFuZ2UtbWU="
# Likewise for the marketplace platforms (`oms send <platform>` signs with these by default).
DEV_PLATFORM_ENV = {
    "OMS_PLATFORM_SHOPIFY_SECRET": "dev-shopify-secret-change-me",
    "OMS_PLATFORM_DOUYIN_KEY": "dev-douyin-app-key",
    "OMS_PLATFORM_DOUYIN_SECRET": "dev-douyin-secret-change-me",
    "OMS_PLATFORM_YOUZAN_ID": "dev-youzan-client-id",
    "OMS_PLATFORM_YOUZAN_SECRET": "dev-youzan-secret-change-me",
    "OMS_PLATFORM_TAOBAO_KEY": "dev-taobao-app-key",
    "OMS_PLATFORM_TAOBAO_SECRET": "dev-taobao-secret-change-me",
    "OMS_PLATFORM_JD_KEY": "dev-jd-app-key",
    "OMS_PLATFORM_JD_SECRET": "dev-jd-secret-change-me",
}


def ensure_admin_token(var_dir: Path) -> Path:
    """The token file under ``var_dir``, created (owner-only) with a random token if absent."""
    path = var_dir / ADMIN_TOKEN_FILE
    try:
        if len(path.read_text().strip()) >= 16:
            return path
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    # Created with mode 0600 from the start: no moment where another user could read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return path
