from pydantic import Field

from inovda_shared.settings import ServiceSettings


class SubmissionSettings(ServiceSettings):
    mongodb_database: str = "inovda_submission"
    http_port: int = 8081
    # Broker user -> the one intake source it may publish for, as JSON ({"sys-e-inovasi": "e-inovasi"}).
    # Empty: intake is not authenticated (development with the broker's default user only).
    source_users: dict[str, str] = Field(default_factory=dict)
    # The sources whose review rounds (`innovation.verification.v1`) are taken: the portal, whose pages check
    # the verifier's account and regions. Never the systems that report innovations (no self-certification).
    verifier_sources: tuple[str, ...] = ("portal",)
