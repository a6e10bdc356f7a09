from pydantic import Field

from inovda_shared.settings import ServiceSettings


class SubmissionSettings(ServiceSettings):
    mongodb_database: str = "inovda_submission"
    http_port: int = 8081
    # Broker user -> the one intake source it may publish for, as JSON ({"sys-e-inovasi": "e-inovasi"}).
    source_users: dict[str, str] = Field(default_factory=dict)
    # Source -> the region codes it may write, "*" for every region, as JSON ({"simpeg": ["64.02"]}).
    source_regions: dict[str, list[str]] = Field(default_factory=dict)
    # "on": the service does not start without both mappings. "off", explicitly: intake is not authenticated
    # (tests and the local demo with the broker's default user).
    intake_auth: str = "on"
    # The sources whose review rounds (`innovation.verification.v1`) are taken: the portal, whose pages check
    # the verifier's account and regions. Never the systems that report innovations (no self-certification).
    verifier_sources: tuple[str, ...] = ("portal",)
