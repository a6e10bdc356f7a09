"""The portal's own Prometheus counters (served on `/metrics` with the shared ones)."""

from prometheus_client import Counter

from inovda_shared.observability import REGISTRY

PAGES = Counter("inovda_portal_pages", "Pages served, by page and status", ["page", "status"], registry=REGISTRY)
LOGINS = Counter("inovda_portal_logins", "Login attempts, by outcome", ["outcome"], registry=REGISTRY)
REPORTS = Counter("inovda_portal_reports", "Innovation reports sent to the intake from the portal", registry=REGISTRY)
REVIEWS = Counter("inovda_portal_reviews", "Review rounds sent to the intake from the portal", registry=REGISTRY)
