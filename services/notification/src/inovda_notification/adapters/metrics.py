"""The notification service's own Prometheus counters (served on `/metrics` with the shared ones)."""

from prometheus_client import Counter

from inovda_shared.observability import REGISTRY

EMAILS = Counter(
    "inovda_emails", "Emails by kind and outcome (sent, retried, failed)", ["kind", "outcome"], registry=REGISTRY
)
