from pydantic import AliasChoices, Field, SecretStr

from inovda_shared.settings import ServiceSettings


class PortalSettings(ServiceSettings):
    mongodb_database: str = "inovda_portal"
    # The pages and the health and metrics endpoints, on one port.
    http_port: int = Field(8080, validation_alias=AliasChoices("portal_port", "http_port"))
    # Signs the session cookies: a long random secret, the same for every replica (SESSION_SECRET_FILE in
    # production); a new one ends every session.
    session_secret: SecretStr
    session_hours: float = 8.0
    # Cookies only over HTTPS (set false only for a portal on http://127.0.0.1, as the demo and the tests are).
    session_cookie_secure: bool = True
    # The intake source the portal reports as; its broker user (the AMQP URL's) must map to it in SOURCE_USERS.
    intake_source: str = "portal"
    # Dates and times on the pages: the region's local time (Kukar: WITA).
    timezone: str = "Asia/Makassar"
    # Failed logins before a user name (or an address) waits: per replica, in a moving window.
    login_attempts: str = "5 per 15 minutes"
    login_attempts_per_address: str = "30 per 15 minutes"
