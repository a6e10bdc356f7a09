import datetime as dt

from pydantic import BaseModel, Field, field_validator

from inovda_shared.settings import ServiceSettings


class ScheduleConfig(BaseModel):
    """A region-year's own reminder schedule: its deadline, and optionally its own reminder dates."""

    deadline: dt.date
    dates: list[dt.date] | None = None


class NotificationSettings(ServiceSettings):
    mongodb_database: str = "inovda_notification"
    http_port: int = 8083
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "Inovda <inovda@kukarkab.example>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_max_attempts: int = 5
    smtp_first_backoff_seconds: float = 2.0
    # Across every replica (tickets in the database: domain.quotas).
    rate_limit_per_domain_per_minute: int = Field(default=60, ge=0)
    rate_limit_global_per_minute: int = Field(default=300, ge=0)
    # Emails owed to one intake source (its receipts, rejections and scores) per local day; over it, they fail.
    email_quota_per_source_per_day: int = Field(default=2000, ge=0)
    delivery_interval_seconds: float = 1.0
    schedule_interval_seconds: float = 60.0
    # Reminder dates are local dates of the region (Kukar: WITA, UTC+8).
    timezone: str = "Asia/Makassar"
    digest_weekday: int = 0  # Monday
    # JSON, e.g. {"64.02/2026": {"deadline": "2026-10-15"}}; other region-years use the default rule.
    reminder_schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)

    @field_validator("smtp_username", "smtp_password", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # An empty variable (a compose file passing an unset secret through) means "no login", not "".
        return None if value == "" else value
