import datetime as dt

from pydantic import BaseModel, Field, field_validator

from inovda_shared.settings import ServiceSettings


class ScheduleConfig(BaseModel):
    """A region-year's own reminder schedule: its deadline, and optionally its own reminder dates."""

    deadline: dt.date
    dates: list[dt.date] | None = None


class IndexEmailRuleConfig(BaseModel):
    """A region's own index email rule (seconds): how long the IID must rest, and the least time between two."""

    quiet_seconds: float | None = None
    min_gap_seconds: float | None = None
    predicate_settle_seconds: float | None = None


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
    # Conversations with the SMTP server at once (each on a connection kept open between emails).
    smtp_pool_size: int = 4
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
    # Revisions of one innovation scored within this of each other give one score email, for the latest.
    score_email_window_seconds: float = 300.0
    # The office's index email: `index_predicate_settle_seconds` after a new predicate (or the year's first
    # index) is seen; once the IID has moved, after it has not changed for `index_quiet_seconds`, and at most
    # one per `index_min_gap_seconds`.
    index_predicate_settle_seconds: float = 60.0
    index_quiet_seconds: float = 900.0
    index_min_gap_seconds: float = 3600.0
    # JSON by region ("64.02") or region-year ("64.02/2026"), e.g. {"64.02": {"quiet_seconds": 600}}.
    index_email_rules: dict[str, IndexEmailRuleConfig] = Field(default_factory=dict)
    # Each replica says it is alive this often; one silent for `replica_dead_after_seconds` has its held
    # emails taken over by the others.
    heartbeat_interval_seconds: float = 5.0
    replica_dead_after_seconds: float = 30.0
    # How long a replica trusts a unit's or region's contact it read (one it stored itself is fresh at once).
    contact_cache_seconds: float = 60.0

    @field_validator("smtp_username", "smtp_password", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # An empty variable (a compose file passing an unset secret through) means "no login", not "".
        return None if value == "" else value
