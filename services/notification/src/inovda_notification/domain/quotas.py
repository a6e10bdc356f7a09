"""How many emails may go: per recipient domain and overall per minute, and per intake source per day, across
every replica of the service.

An email is owed to the intake source whose message caused it (receipts and rejections: the answer's source;
scores: `InnovationScored.source`), and counts against that source's daily quota; scheduled emails (reminders,
digests) and the office's index emails are the system's own and count in no quota. An email over a per-minute
limit waits; one over its source's quota is not sent at all (`email_state.over_quota`).

The counts are tickets in the database, FerretDB's way (only an insert under a unique `_id` is atomic: see
inovda_shared.mongo; and `limits`' MongoDB storage counts with `$inc`, which is not). Each window (a limit, for
one domain or source, for one minute or day) is cut into numbered blocks of tickets; a replica takes a block by
inserting its id (`<kind>:<who>:<period>:<block>`), which only one replica can, and then spends its tickets
without asking the database again: one insert per block, not a write per email, and the limit holds whatever
the number of replicas. The price: tickets one replica holds another cannot spend, so near a limit a little
fewer may go (at most a block per replica and window), never more.

This module is the pure part (which windows an email counts in, which block to take next, the verdict);
`delivery.rate_limits` takes the blocks.
"""

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from .model import EmailMessage

MAX_BLOCK = 50
BLOCKS_PER_PERIOD = 10  # a limit is cut into about this many blocks: few inserts, little held back
# A wait of less than this is taken as this: an email over a limit is never let through uncounted.
MIN_WAIT_SECONDS = 0.01
EVERYONE = "all"


@dataclass(frozen=True)
class Allowance:
    """`limit` emails per minute or per (local) day, for each `kind` of counter: `overall`, `domain`, `source`."""

    kind: str
    limit: int
    per: Literal["minute", "day"]

    @property
    def block_size(self) -> int:
        return max(1, min(MAX_BLOCK, math.ceil(self.limit / BLOCKS_PER_PERIOD)))

    def tickets_in(self, block: int) -> int:
        """Tickets block number `block` (0 for the first) holds: the last may hold fewer, one past it none."""
        return max(0, min(self.block_size, self.limit - block * self.block_size))

    def window(self, who: str, now: dt.datetime, timezone: ZoneInfo) -> "Window":
        if self.per == "minute":
            start = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
            return Window(self, who, start.strftime("%Y-%m-%dT%H:%M"), start + dt.timedelta(minutes=1))
        today = now.astimezone(timezone).date()
        midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=timezone)
        return Window(self, who, today.isoformat(), midnight.astimezone(dt.UTC))


@dataclass(frozen=True)
class Window:
    allowance: Allowance
    who: str
    period: str
    ends_at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.allowance.kind}:{self.who}:{self.period}"

    def block_id(self, block: int) -> str:
        return f"{self.key}:{block}"


@dataclass(frozen=True)
class Limits:
    overall: Allowance
    per_domain: Allowance
    per_source: Allowance
    timezone: ZoneInfo

    @classmethod
    def of(
        cls, per_domain_per_minute: int, overall_per_minute: int, per_source_per_day: int, timezone: ZoneInfo
    ) -> "Limits":
        return cls(
            Allowance("overall", overall_per_minute, "minute"),
            Allowance("domain", per_domain_per_minute, "minute"),
            Allowance("source", per_source_per_day, "day"),
            timezone,
        )

    def rate_windows(self, message: EmailMessage, now: dt.datetime) -> list[Window]:
        """Overall, and each recipient domain once."""
        domains = sorted({address.rsplit("@", 1)[-1] for address in [*message.to, *message.cc]})
        return [
            self.overall.window(EVERYONE, now, self.timezone),
            *(self.per_domain.window(domain, now, self.timezone) for domain in domains),
        ]

    def quota_window(self, message: EmailMessage, now: dt.datetime) -> Window | None:
        """The daily quota of the source the email is owed to; None for the system's own emails."""
        return None if message.source is None else self.per_source.window(message.source, now, self.timezone)


@dataclass(frozen=True)
class Go:
    """It may go now: a ticket of every window it counts in is spent."""


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class OverQuota:
    reason: str


Verdict = Go | Wait | OverQuota


class TicketBook:
    """The tickets this replica holds in each window, and the block it will try to take next there."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._next_block: dict[str, int] = {}
        self._ends_at: dict[str, dt.datetime] = {}

    def wanted(self, windows: Iterable[Window]) -> list[tuple[Window, int]]:
        """Blocks to try to take before a verdict: one in each window where no ticket is held and some is left."""
        return [
            (window, self._next(window))
            for window in windows
            if not self._held.get(window.key) and window.allowance.tickets_in(self._next(window))
        ]

    def taken(self, window: Window, block: int, ours: bool) -> None:
        """The outcome of trying to take `block`: ours (its tickets held now), or another replica's."""
        if ours:
            self._held[window.key] = self._held.get(window.key, 0) + window.allowance.tickets_in(block)
        self._next_block[window.key] = max(self._next(window), block + 1)
        self._ends_at[window.key] = window.ends_at

    def verdict(self, rate: Sequence[Window], quota: Window | None, now: dt.datetime) -> Verdict:
        """Once nothing is `wanted`: over quota, a wait, or go (spending a ticket of each window)."""
        if quota is not None and not self._held.get(quota.key):
            return OverQuota(
                f"the daily email quota of source '{quota.who}' ({quota.allowance.limit} a day) is used up"
            )
        full = [window for window in rate if not self._held.get(window.key)]
        if full:
            seconds = max((window.ends_at - now).total_seconds() for window in full)
            return Wait(max(seconds, MIN_WAIT_SECONDS))
        for window in [*rate, *([quota] if quota is not None else [])]:
            self._held[window.key] -= 1
        return Go()

    def forget_ended(self, now: dt.datetime) -> None:
        """Drop the counters of windows that have ended: a replica holds those of the current minute and day."""
        for key in [key for key, ends_at in self._ends_at.items() if ends_at <= now]:
            for book in (self._held, self._next_block, self._ends_at):
                book.pop(key, None)

    def _next(self, window: Window) -> int:
        return self._next_block.get(window.key, 0)
