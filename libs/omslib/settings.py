"""Environment-only configuration, validated at start-up, failing fast and clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from omslib.db.pool import DEFAULT_PING_IDLE_SECONDS, PoolOptions
from omslib.security.config import SecuritySettings

T = TypeVar("T", bound=BaseSettings)

#: A TCP port; 0 asks the OS for a free one (used by tests).
Port = Annotated[int, Field(ge=0, le=65535)]

_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def default_sqlite_url(service: str) -> str:
    """``sqlite+aiosqlite:///<cwd>/var/<service>.db`` as an absolute path."""
    path = (Path.cwd() / "var" / f"{service}.db").resolve()
    return f"sqlite+aiosqlite:///{path}"


def addr_default(port: int) -> str:
    """Default address of a sibling service on this machine."""
    return f"127.0.0.1:{port}"


class CommonSettings(SecuritySettings):
    """Settings every service shares. Subclasses add their own aliased fields, e.g.::

    class OrdersSettings(CommonSettings):
        port: Port = Field(50051, validation_alias="OMS_ORDERS_PORT")
        database_url: str = Field(
            default_factory=lambda: default_sqlite_url("orders"),
            validation_alias="OMS_ORDERS_DATABASE_URL",
        )
    """

    # Only explicit aliases are read; no prefix guessing, no .env files.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="OMS_REDIS_URL")
    log_level: str = Field("INFO", validation_alias="OMS_LOG_LEVEL")
    shutdown_grace_seconds: float = Field(5.0, ge=0, validation_alias="OMS_SHUTDOWN_GRACE_SECONDS")
    # Streams are trimmed to about this many entries (XADD MAXLEN ~): size it for the
    # longest consumer outage to survive (entries / publication rate).
    events_stream_maxlen: int = Field(100_000, ge=100, validation_alias="OMS_EVENTS_STREAM_MAXLEN")
    # Process tuning of the database pool (docs/configuration.md); unset: per dialect.
    db_pool_size: int | None = Field(None, ge=1, validation_alias="OMS_DB_POOL_SIZE")
    db_max_overflow: int | None = Field(None, ge=0, validation_alias="OMS_DB_MAX_OVERFLOW")
    db_ping_idle_seconds: float = Field(
        DEFAULT_PING_IDLE_SECONDS, ge=0, validation_alias="OMS_DB_PING_IDLE_SECONDS"
    )
    # Set by omslib.workers.supervise in each child it starts; unset: not a worker.
    worker_index: int | None = Field(None, ge=0, validation_alias="OMS_WORKER_INDEX")

    @field_validator(
        "db_pool_size", "db_max_overflow", "db_ping_idle_seconds", "worker_index", mode="before"
    )
    @classmethod
    def _blank_tuning_is_default(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[str(info.field_name)].default
        return value

    def db_pool(self) -> PoolOptions:
        """The pool of this process's engines (``create_engine(url, pool=...)``)."""
        return PoolOptions(self.db_pool_size, self.db_max_overflow, self.db_ping_idle_seconds)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return upper


def load_settings(cls: type[T], **overrides: Any) -> T:
    """Instantiate ``cls`` from the environment or exit with a readable message.

    Raises ``SystemExit`` naming each bad variable, its value and what was expected.
    """
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise SystemExit(format_settings_error(cls, exc)) from None


def format_settings_error(cls: type[BaseSettings], exc: ValidationError) -> str:
    """Render a ValidationError in terms of environment variable names."""
    lines = [f"invalid configuration ({cls.__name__}):"]
    for error in exc.errors():
        if not error["loc"]:
            # A rule across several variables: its input is every setting, secrets too.
            lines.append(f"  {error['msg']}")
            continue
        field = str(error["loc"][0])
        env = _env_name(cls, field)
        # Inside a JSON value: the path to the entry, e.g. VAR[taobao] (union branches
        # and other non-key steps of the location are left out).
        path = "".join(f"[{step}]" for step in error["loc"][1:] if not _is_type_step(step))
        shown = _shown_value(cls, field, env, error)
        lines.append(f"  {env}{path}={shown}: {error['msg']}")
    return "\n".join(lines)


#: Variables whose value is never shown, in any message or log line.
_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "DSN")


def _shown_value(cls: type[BaseSettings], field: str, env: str, error: Any) -> str:
    if error["type"] == "missing":
        return "<missing>"
    value = error.get("input")
    # The loc is the alias (the variable's name) when validation_alias is set.
    info = cls.model_fields.get(field) or next(
        (f for f in cls.model_fields.values() if f.validation_alias == field), None
    )
    # A value of a type holding a secret (a list of channels with tokens) is hidden
    # whole, and so is any entry inside it.
    secret_type = info is not None and _holds_secret(info.annotation)
    if secret_type or any(word in env.upper() for word in _SECRET_WORDS):
        return f"<hidden, {len(str(value))} characters>"
    return repr(_without_password(value))


def _holds_secret(annotation: object, seen: frozenset[object] = frozenset()) -> bool:
    """True if the type is or contains a SecretStr (a list of models with a token, too)."""
    if annotation is SecretStr or annotation in seen:
        return annotation is SecretStr
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        inner = seen | {annotation}
        return any(_holds_secret(f.annotation, inner) for f in annotation.model_fields.values())
    return any(_holds_secret(arg, seen) for arg in get_args(annotation))


def _is_type_step(step: object) -> bool:
    # pydantic adds steps like "function-after[check(), dict[str,int]]" or "int" for
    # union members; a key or an index is what a reader can find in the JSON.
    return isinstance(step, str) and ("[" in step or step in _TYPE_STEPS)


_TYPE_STEPS = frozenset({"int", "float", "str", "bool", "none", "literal", "[key]"})


def _without_password(value: object) -> object:
    """A URL's password (postgresql://user:pw@host) replaced by ***."""
    if not isinstance(value, str) or "://" not in value or "@" not in value:
        return value
    scheme, _, rest = value.partition("://")
    credentials, _, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def _env_name(cls: type[BaseSettings], name: str) -> str:
    # The loc is the alias when validation_alias is set, else the field name.
    if name.isupper():
        return name
    info = cls.model_fields.get(name)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, str):
        return alias
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()
