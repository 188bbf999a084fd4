"""Settings from the environment (prefix DISPENSING_), with safe defaults for a clinic laptop."""

import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import NonNegativeInt, PositiveInt, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispensing.db import MAX_OVERFLOW, POOL_SIZE

# Values people paste from examples; a real deployment must never run with them.
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis", "placeholder", "xxx", "test"}
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPENSING_", extra="ignore")

    database_url: str = "sqlite:///./dispensing.db"
    # Where generated secrets live when none is configured (created on first start).
    data_dir: Path = Path(".")
    secret_key: str | None = None
    timezone: str = "Europe/Copenhagen"
    access_token_minutes: int = 8 * 60
    # Web UI: log out after this many minutes without a request (a shared PC at the window).
    ui_idle_minutes: int = 15
    sql_echo: bool = False
    # PostgreSQL connections per server process: kept open, and opened beyond that in a burst. Every
    # process of every server counts: their sum must stay under the server's max_connections (100).
    db_pool_size: PositiveInt = POOL_SIZE
    db_max_overflow: NonNegativeInt = MAX_OVERFLOW
    # The audit log's HMAC key; unset: generated once into DATA_DIR/audit-hmac.key. Never in the database.
    audit_key: str | None = None
    # Keep a signed checkpoint of the audit chain's head in DATA_DIR (detects a deleted tail).
    audit_checkpoint: bool = True
    # Chain failed password attempts waiting in the audit inbox this often (seconds; 0: only when the
    # log is read and at logins). services/audit.py says why.
    audit_sweep_seconds: float = 60

    @field_validator("secret_key", "audit_key")
    @classmethod
    def refuse_placeholder(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH:
            raise ValueError(
                "DISPENSING_SECRET_KEY is a placeholder or shorter than "
                f"{MIN_SECRET_LENGTH} characters: set a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))') or leave it unset "
                "so one is generated and stored in the data directory"
            )
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def resolved_secret(self) -> bytes:
        """The secret for tokens and order signatures: configured, or generated once and kept."""
        if self.secret_key:
            return self.secret_key.encode()
        return _key_file(self.data_dir / "dispensing-secret.key")

    def resolved_audit_key(self) -> bytes:
        """The audit log's HMAC key: a file outside the database, generated once (never in the database,
        so write access to the database alone cannot recompute the chain)."""
        if self.audit_key:
            return self.audit_key.encode()
        return _key_file(self.data_dir / "audit-hmac.key")

    @property
    def audit_checkpoint_path(self) -> Path | None:
        """The signed checkpoint of the audit chain's head (shared by every server of the database)."""
        return self.data_dir / "audit-checkpoint.json" if self.audit_checkpoint else None

    @property
    def label_key_path(self) -> Path:
        return self.data_dir / "label-signing-key.pem"


def _key_file(path: Path) -> bytes:
    """A random key kept in `path` (mode 0600), created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting at once must not overwrite each other's key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache)."""
    return Settings()
