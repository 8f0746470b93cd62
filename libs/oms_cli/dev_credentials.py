"""Development credentials: the platform secrets `make run` and `oms send` share (public,
documented in docs/platforms.md), and the admin token `make run` gives the gateway,
kept in a file and never printed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ADMIN_TOKEN_FILE = "admin-token"

# The published development platform secrets (one definition, in the shared library).
from omslib.development import DEV_PLATFORM_ENV, DEV_SHOP_SECRET  # noqa: E402

__all__ = ["ADMIN_TOKEN_FILE", "DEV_PLATFORM_ENV", "DEV_SHOP_SECRET", "ensure_admin_token"]


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
