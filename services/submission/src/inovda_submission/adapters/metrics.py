"""The submission service's own Prometheus counters (served on `/metrics` with the shared ones)."""

from prometheus_client import Counter

from inovda_shared.observability import REGISTRY

INTAKE_ANSWERS = Counter(
    "inovda_intake_answers",
    "Intake messages answered, by kind and outcome",
    ["routing_key", "status"],
    registry=REGISTRY,
)
