"""Database plumbing shared by services: engines, sessions, unit of work, migrations."""

from omslib.db.engine import create_engine, normalize_url, single_writer_options
from omslib.db.migrations import run_env, upgrade_schema
from omslib.db.pool import PoolOptions
from omslib.db.uow import UnitOfWork, session_factory

__all__ = [
    "PoolOptions",
    "UnitOfWork",
    "create_engine",
    "normalize_url",
    "run_env",
    "session_factory",
    "single_writer_options",
    "upgrade_schema",
]
