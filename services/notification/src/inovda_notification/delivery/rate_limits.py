"""Emails per minute, per recipient domain and overall (per replica): `limits`' moving windows, in memory."""

import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..domain import EmailMessage

# A wait of less than this is taken as this: an email over a limit is never let through uncounted.
MIN_WAIT_SECONDS = 0.01


class RateLimits:
    def __init__(self, per_domain_per_minute: int, overall_per_minute: int) -> None:
        self._per_domain = RateLimitItemPerMinute(per_domain_per_minute, namespace="domain")
        self._overall = RateLimitItemPerMinute(overall_per_minute, namespace="overall")
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait_for(self, message: EmailMessage) -> float:
        """Seconds until `message` may go; 0 means now, and the send is counted in every window it is in."""
        domains = sorted({address.rsplit("@", 1)[-1] for address in [*message.to, *message.cc]})
        windows: list[tuple[RateLimitItem, str]] = [(self._overall, "all")]
        windows += [(self._per_domain, domain) for domain in domains]
        full = [(item, who) for item, who in windows if not self._limiter.test(item, who)]
        if full:
            until = max(self._limiter.get_window_stats(item, who).reset_time for item, who in full)
            return max(until - time.time(), MIN_WAIT_SECONDS)
        for item, who in windows:
            self._limiter.hit(item, who)
        return 0.0
