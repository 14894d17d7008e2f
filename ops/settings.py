"""One settings object for the CLI, dashboard, worker and Alembic."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """annops configuration, read from ``ANNOPS_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ANNOPS_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///annops.db",
        description="SQLAlchemy URL; postgresql+psycopg://... in production",
    )
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    session_idle_minutes: int = Field(
        default=60, ge=1, description="a login unused this long ends; each use pushes it on"
    )
    session_max_hours: int = Field(
        default=12, ge=1, description="a login ends this long after it began, used or not"
    )
    dashboard_port: int = Field(default=8501, ge=1, le=65535)
    dashboard_address: str = "localhost"
    worker_rollup_minutes: float = Field(
        default=15, gt=0, description="minutes between rollup runs of `annops worker`"
    )
    worker_poll_seconds: float = Field(
        default=5,
        gt=0,
        description="how often a standby worker tries to take over, and "
        "the leader checks its lock and writes its heartbeat",
    )
    worker_misfire_grace_seconds: int = Field(
        default=3600, ge=1, description="a run this late still runs (once, coalesced)"
    )
    agreement_window_days: int = Field(
        default=30, ge=1, description="days of events behind each project's agreement figures"
    )
    public_url: str = Field(
        default="http://localhost:8501",
        description="address of the dashboard as people reach it; notifications link to it",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for email notifications; unset: no email"
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="upgrade the SMTP connection to TLS")
    smtp_user: str | None = Field(default=None, description="SMTP login; unset: no login")
    smtp_password: SecretStr | None = None
    smtp_sender: str = Field(
        default="annops@localhost", description="From address of notification emails"
    )
    notify_digest_hour: int = Field(
        default=7, ge=0, le=23, description="UTC hour at which the daily digests go out"
    )
    notify_max_attempts: int = Field(
        default=5, ge=1, description="attempts at one message before it counts as failed"
    )
    notify_retry_seconds: float = Field(
        default=60, gt=0, description="wait before the first retry; doubles with each attempt"
    )
    notify_rate_limit_per_hour: int = Field(
        default=20, ge=1, description="alert notices to one person on one channel in an hour"
    )
    notify_timeout_seconds: float = Field(
        default=10, gt=0, description="how long one SMTP or webhook delivery may take"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
