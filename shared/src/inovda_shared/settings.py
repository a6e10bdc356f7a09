"""Configuration common to every service, read only from environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str
    log_level: str = "INFO"
    # Unacknowledged deliveries a replica holds at once; bounds memory and the work lost to a crash.
    prefetch: int = 32
    # How often the outbox relay looks for events that could not be published right away, and how old
    # such events must be (younger ones may still be on their way out from their handler).
    outbox_relay_interval_seconds: float = 1.0
    outbox_relay_grace_seconds: float = 10.0
