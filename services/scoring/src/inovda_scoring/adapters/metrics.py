"""The scoring service's own Prometheus counters (served on `/metrics` with the shared ones)."""

from prometheus_client import Counter

from inovda_shared.observability import REGISTRY

SCORINGS = Counter("inovda_scorings", "Innovation revisions scored", ["eligible"], registry=REGISTRY)
INDEX_ANNOUNCEMENTS = Counter(
    "inovda_index_recomputations", "Region indexes recomputed and announced because they changed", registry=REGISTRY
)
REVIEW_ROUNDS = Counter("inovda_review_rounds", "Review rounds taken into the verified figures", registry=REGISTRY)
