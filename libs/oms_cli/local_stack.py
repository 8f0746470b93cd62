"""Where the local stack (`make run`) listens, so every command finds it by itself.

`oms dev up` writes ``var/stack.json`` once every service is healthy and removes it
when it stops. A command that needs an address takes, in order: its option, the
service's variable (``OMS_ORDERS_ADDR``, then ``OMS_ORDERS_PORT``), this file, the
documented default. The file is only trusted while the runner that wrote it lives,
so a stale file from a crashed run never points a command at a dead port.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Overrides where the state file is looked for (default: var/stack.json in the
#: current folder, which is where `make run` writes it).
STATE_FILE_ENV = "OMS_STACK_FILE"
DEFAULT_STATE_FILE = Path("var") / "stack.json"
DEFAULT_PORTS = {"gateway": 8080, "orders": 50051, "inventory": 50052, "aftersales": 50053}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MAX_STATE_BYTES = 64 * 1024


@dataclass(frozen=True)
class LocalStack:
    """What a running `oms dev up` published about itself (never a secret's value)."""

    pid: int
    gateway_url: str
    addrs: dict[str, str]
    redis_url: str
    admin_token_file: str | None = None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(self), indent=2) + "\n")
        partial.replace(path)  # readers never see half a file


def state_file() -> Path:
    return Path(os.environ.get(STATE_FILE_ENV) or DEFAULT_STATE_FILE)


def running_stack(path: Path | None = None) -> LocalStack | None:
    """The stack described by the state file, if its runner is still alive."""
    path = path or state_file()
    try:
        with path.open("rb") as handle:
            raw: Any = json.loads(handle.read(MAX_STATE_BYTES))
        stack = LocalStack(
            pid=int(raw["pid"]),
            gateway_url=str(raw["gateway_url"]),
            addrs={str(k): str(v) for k, v in dict(raw["addrs"]).items()},
            redis_url=str(raw["redis_url"]),
            admin_token_file=raw.get("admin_token_file"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stack if _alive(stack.pid) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, though not ours to signal
    return True


def remove_state(path: Path, pid: int) -> None:
    """Remove the state file if this runner wrote it."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if int(json.loads(path.read_bytes())["pid"]) == pid:
            path.unlink()


def service_addr(service: str, given: str | None = None) -> str:
    """host:port of a gRPC service: option, OMS_<S>_ADDR, OMS_<S>_PORT, `make run`, default."""
    if given:
        return given
    upper = service.upper()
    if os.environ.get(f"OMS_{upper}_ADDR"):
        return os.environ[f"OMS_{upper}_ADDR"]
    if os.environ.get(f"OMS_{upper}_PORT"):
        return f"127.0.0.1:{os.environ[f'OMS_{upper}_PORT']}"
    stack = running_stack()
    if stack is not None and service in stack.addrs:
        return stack.addrs[service]
    return f"127.0.0.1:{DEFAULT_PORTS[service]}"


def gateway_url(given: str | None = None) -> str:
    """Base URL of the gateway: option, OMS_GATEWAY_URL, OMS_GATEWAY_PORT, `make run`, :8080."""
    if given:
        return given.rstrip("/")
    if os.environ.get("OMS_GATEWAY_URL"):
        return os.environ["OMS_GATEWAY_URL"].rstrip("/")
    if os.environ.get("OMS_GATEWAY_PORT"):
        return f"http://127.0.0.1:{os.environ['OMS_GATEWAY_PORT']}"
    stack = running_stack()
    return stack.gateway_url if stack else f"http://127.0.0.1:{DEFAULT_PORTS['gateway']}"


def redis_url(given: str | None = None) -> str:
    """Redis of the events: option, OMS_REDIS_URL, `make run`'s embedded one, :6379."""
    if given:
        return given
    if os.environ.get("OMS_REDIS_URL"):
        return os.environ["OMS_REDIS_URL"]
    stack = running_stack()
    return stack.redis_url if stack else DEFAULT_REDIS_URL


def admin_token() -> tuple[str, str]:
    """(token, where it came from): OMS_GATEWAY_ADMIN_TOKEN, else `make run`'s token file."""
    if os.environ.get("OMS_GATEWAY_ADMIN_TOKEN"):
        return os.environ["OMS_GATEWAY_ADMIN_TOKEN"].strip(), "OMS_GATEWAY_ADMIN_TOKEN"
    stack = running_stack()
    if stack is not None and stack.admin_token_file:
        with contextlib.suppress(OSError):
            token = Path(stack.admin_token_file).read_text().strip()
            if token:
                return token, stack.admin_token_file
    return "", ""
