from inovda_shared.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    mongodb_database: str = "inovda_scoring"
    http_port: int = 8082
    # How many of a region's most improvable innovations the path in `region.index.updated` considers;
    # bounded so that the cost of one event does not grow with the region (the CLI considers them all).
    path_candidates: int = 25
    path_steps_in_event: int = 10
