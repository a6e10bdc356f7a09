"""The sending limits across replicas: per recipient domain and overall per minute, per source per day. The
blocks of tickets are taken in the database (`domain.quotas` says how, and why not `limits`)."""

import datetime as dt

from ..adapters.store import NotificationStore
from ..domain import EmailMessage
from ..domain.quotas import Limits, TicketBook, Verdict

# Blocks of windows this long over are removed now and then (by any replica: they are nobody's any more).
TICKETS_KEPT = dt.timedelta(hours=1)
FORGET_EVERY = dt.timedelta(minutes=10)


class SendingLimits:
    def __init__(self, store: NotificationStore, limits: Limits) -> None:
        self._store = store
        self._limits = limits
        self._book = TicketBook()
        self._forgotten_at: dt.datetime | None = None

    async def verdict(self, message: EmailMessage, now: dt.datetime, counts_in_quota: bool) -> Verdict:
        """May `message` go at `now`: go (counted), wait, or over its source's quota (`counts_in_quota`: its
        first attempt; a retry was counted once already)."""
        await self._forget_old(now)
        rate = self._limits.rate_windows(message, now)
        quota = self._limits.quota_window(message, now) if counts_in_quota else None
        windows = [*rate, *([quota] if quota is not None else [])]
        while wanted := self._book.wanted(windows):
            for window, block in wanted:
                self._book.taken(window, block, await self._store.take_block(window.block_id(block), window.ends_at))
        return self._book.verdict(rate, quota, now)  # nothing awaited since `wanted` was last asked

    async def _forget_old(self, now: dt.datetime) -> None:
        self._book.forget_ended(now)
        if self._forgotten_at is None or now - self._forgotten_at >= FORGET_EVERY:
            self._forgotten_at = now
            await self._store.forget_tickets(now - TICKETS_KEPT)
