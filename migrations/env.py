"""Alembic environment: the URL from settings (or the caller's connection), models' metadata."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import context
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from dispensing.config import get_settings
from dispensing.db import make_engine
from dispensing.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().database_url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed in by dispensing.migrate (tests, CLI)
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    scratch = None
    if _checking() and not _at_head(url):
        # `alembic check` compares the models with the migrations, which needs a database at head; a
        # fresh checkout's default database is empty. Compare against a scratch one migrated to head.
        scratch = Path(tempfile.mkdtemp(prefix="alembic-check-"))
        url = f"sqlite:///{scratch / 'head.db'}"
        print(f"alembic check: the configured database is not at head; checking against {url}", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "dispensing.cli", "db", "upgrade"],
            check=True,
            env={**os.environ, "DISPENSING_DATABASE_URL": url},
        )
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _checking() -> bool:
    """True under `alembic check` from the command line."""
    cmd = getattr(config.cmd_opts, "cmd", None)
    return bool(cmd) and cmd[0].__name__ == "check"


def _at_head(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current == set(ScriptDirectory.from_config(config).get_heads())


def _run(connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch rebuild drops and recreates a table that others reference; with foreign keys
        # enforced that fails on a populated database. Switch enforcement off for the migration
        # (outside any transaction, where SQLite honours the pragma) and check integrity after.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        if connection.in_transaction():  # alembic may have joined a transaction it does not end
            connection.commit()
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.rollback()
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
