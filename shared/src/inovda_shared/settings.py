"""Configuration common to every service, read only from environment variables.

A secret may instead be given as a file, the way container platforms mount them: `<NAME>_FILE` names a
file whose content is the value (`AMQP_URL_FILE=/run/secrets/amqp_url`). A plain `<NAME>` wins.
"""

import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class _FileValues(PydanticBaseSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        return Path(path).read_text(encoding="utf-8").strip(), field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str
    log_level: str = "INFO"
    # Names this replica's broker connection (shown by the broker's tools); defaults to host and process.
    instance_name: str = ""
    # Health and metrics; 0 picks a free port (tests), each service has its own default.
    http_port: int
    http_host: str = "0.0.0.0"
    # Unacknowledged deliveries a replica holds at once; bounds memory and the work lost to a crash.
    prefetch: int = 32
    # How often the outbox relay looks for events that could not be published right away, and how old
    # such events must be (younger ones may still be on their way out from their handler).
    outbox_relay_interval_seconds: float = 1.0
    outbox_relay_grace_seconds: float = 10.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _FileValues(settings_cls), file_secret_settings
