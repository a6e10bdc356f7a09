from inovda_shared.settings import ServiceSettings


class SubmissionSettings(ServiceSettings):
    mongodb_database: str = "inovda_submission"
    http_port: int = 8081
