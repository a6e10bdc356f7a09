"""An email's first attempt, made where its cause is handled (before the event is acknowledged, or when a held
email falls due): nothing is written before the conversation; the email's record is inserted as the commit
mark (`CommittingSender.send_first`), and updated once with what came of it.

So an email sent at the first try costs two writes. Of two first attempts at one email (a redelivered event,
two replicas, a held email taken over) the second finds the record there and sends nothing (`Taken`); it asks
the delivery loop to look at the email once the other attempt must be over, in case it died half-way. A first
attempt that fails before its mark records the email as the failure leaves it (pending, with its next
attempt), and the delivery loop takes over from there (`attempts`); so does one whose mark failed, which may
have been stored nonetheless (`NotificationStore.undo_first_mark`).
"""

import datetime as dt
import logging
from collections.abc import Callable

from inovda_shared.retry import retry_transient

from ..adapters.smtp import SenderStoppedError
from ..adapters.store import NotificationStore, committing_document
from ..domain import EmailMessage, EmailStatus, StoredEmail
from ..domain.email_state import (
    IN_FLIGHT,
    Delivered,
    InDoubt,
    NotMarked,
    RetryPolicy,
    Settlement,
    over_quota,
    rate_limited,
    settle,
)
from ..domain.quotas import OverQuota, Wait
from .attempts import RECORDING, counted, told
from .committing import CommittingSender, Taken
from .outcomes import OutcomePublisher
from .rate_limits import SendingLimits

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


class FirstAttempts:
    def __init__(
        self,
        store: NotificationStore,
        sender: CommittingSender,
        instance: str,
        limits: SendingLimits,
        outcomes: OutcomePublisher,
        policy: RetryPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._sender = sender
        self._instance = instance
        self._limits = limits
        self._outcomes = outcomes
        self._policy = policy
        self._clock = clock

    async def attempt(self, message: EmailMessage, correlation_id: str) -> None:
        """Send `message` now if it may go; else record it for the delivery loop. Raises what a failed commit
        mark raised (nothing was sent; the caller tries again)."""
        now = self._clock()
        key = message.dedupe_key
        match await self._limits.verdict(message, now, counts_in_quota=True):
            case Wait(seconds):  # over a rate limit: it waits without losing an attempt
                await self._store.record_email(message, correlation_id, now, rate_limited(now, seconds))
                return
            case OverQuota(reason):  # recorded as failed for good: nothing was sent
                email = StoredEmail(message, EmailStatus.PENDING, 0, now, correlation_id, created_at=now)
                await self._record_unsent(email, over_quota(email, 1, now, reason), now)
                return
        record = committing_document(message, correlation_id, now, self._instance)
        try:
            first = await self._sender.send_first(message, record)
        except SenderStoppedError:  # shutting down: for another replica, or this one restarted
            await self._store.record_email(message, correlation_id, now)
            return
        match first.outcome:
            case Taken():
                await self._store.look_again(key, now + IN_FLIGHT)
                return
            case NotMarked(error):
                # Nothing was sent, and the mark may be stored though its write failed: left as it is, its
                # event's redelivery would find it there (`Taken`), and it would end in doubt, never sent.
                log.warning(
                    "email %s: its mark failed (%s: %s); left to the delivery loop", key, type(error).__name__, error
                )
                await retry_transient(
                    lambda: self._store.undo_first_mark(message, correlation_id, now, record["mark"]),
                    RECORDING[None],
                )
                return
        status = EmailStatus.COMMITTING if first.committed else EmailStatus.PENDING
        email = StoredEmail(message, status, 0, now, correlation_id, created_at=now)
        settlement = settle(email, 1, first.outcome, now, self._policy)
        if not first.committed:  # refused before the mark: recorded now, as the failure leaves it
            await self._record_unsent(email, settlement, now)
            return
        told(email, settlement)
        change = settlement.change
        if isinstance(first.outcome, Delivered | InDoubt):
            # Published before it is recorded as sent: an email recorded as settled has had its event out.
            await self._outcomes.announce(email, settlement)
            await retry_transient(
                lambda: self._store.update_email(key, change, due_in_step=False), RECORDING[settlement.counted]
            )
        else:  # refused after the mark: pending again (its due key with it), or failed for good
            await retry_transient(lambda: self._store.update_email(key, change), RECORDING[settlement.counted])
            await self._outcomes.announce(email, settlement)
        counted(email, settlement)

    async def _record_unsent(self, email: StoredEmail, settlement: Settlement, now: dt.datetime) -> None:
        """An email that did not reach the server, recorded as `settlement` leaves it (once: a second copy of it
        finds the record there and says nothing)."""
        told(email, settlement)
        if await self._store.record_email(email.message, email.correlation_id, now, settlement.change):
            counted(email, settlement)
            await self._outcomes.announce(email, settlement)
