from inovda_shared.settings import ServiceSettings


class SubmissionSettings(ServiceSettings):
    mongodb_database: str = "inovda_submission"
