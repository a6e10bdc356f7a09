"""One attempt at one recorded email: hold its lock, read its record, let the domain decide, send, record
what came of it, announce it."""

import datetime as dt
import logging

from inovda_shared.locks import LockTimeoutError
from inovda_shared.outbox import PendingBatch
from inovda_shared.retry import retry_transient

from ..adapters.metrics import EMAILS
from ..adapters.store import NotificationStore
from ..domain.email_state import (
    Attempt,
    Counted,
    Forget,
    NotMarked,
    NotYet,
    RetryPolicy,
    SettleInDoubt,
    Settlement,
    StoredEmail,
    first_step,
    orphaned,
    over_quota,
    rate_limited,
    settle,
    settle_in_doubt,
)
from ..domain.quotas import OverQuota, Wait
from .committing import CommittingSender
from .outcomes import OutcomePublisher
from .rate_limits import SendingLimits

log = logging.getLogger(__name__)

# How each settlement's write is named in the log while a database outage makes it wait.
RECORDING: dict[Counted | None, str] = {
    None: "undoing a mark",
    "sent": "recording a sent email",
    "sent_unconfirmed": "recording a sent email",
    "retried": "recording a failed attempt",
    "failed": "recording a failed email",
    "over_quota": "recording a failed email",
}


def email_lock(key: str) -> str:
    return f"email:{key}"


class EmailAttempts:
    def __init__(
        self,
        store: NotificationStore,
        sender: CommittingSender,
        limits: SendingLimits,
        outcomes: OutcomePublisher,
        policy: RetryPolicy,
    ) -> None:
        self._store = store
        self._sender = sender
        self._limits = limits
        self._outcomes = outcomes
        self._policy = policy

    async def attempt(self, key: str, now: dt.datetime) -> None:
        """One attempt at the email under `key`, unless another replica is at it right now."""
        try:
            async with self._store.locks.hold(email_lock(key), wait=dt.timedelta(0)):
                batch = await self._attempt(key, now)
        except LockTimeoutError:
            return
        await self._outcomes.publish(batch, key)

    def stop(self) -> None:
        """On shutdown: begin no new SMTP conversation."""
        self._sender.stop()

    async def _attempt(self, key: str, now: dt.datetime) -> PendingBatch | None:
        email = await self._store.email(key)
        if email is None:
            if orphaned(await self._store.due_since(key), now):
                await self._store.forget_due(key)
            return None
        match first_step(email, now):
            case SettleInDoubt():
                return await self._settle(email, settle_in_doubt(email, now))
            case Forget():
                await self._store.forget_due(key)
                return None
            case NotYet():
                return None
            case Attempt(number):
                # Counted in its source's quota once, at its first attempt (an operator's resend starts again).
                match await self._limits.verdict(email.message, now, counts_in_quota=number == 1):
                    case Wait(seconds):
                        await self._store.update_email(key, rate_limited(now, seconds))
                        return None
                    case OverQuota(reason):
                        return await self._settle(email, over_quota(email, number, now, reason))
                outcome = await self._sender.send(email, number, now)
                settlement = settle(email, number, outcome, now, self._policy)
                batch = await self._settle(email, settlement)
                if isinstance(outcome, NotMarked):
                    raise outcome.error  # the attempt does not count: the next pass tries again
                return batch

    async def _settle(self, email: StoredEmail, settlement: Settlement) -> PendingBatch | None:
        """Record the settlement (it must not give up: the server may have the email), count it, announce it."""
        told(email, settlement)
        change = settlement.change
        await retry_transient(lambda: self._store.update_email(email.key, change), RECORDING[settlement.counted])
        counted(email, settlement)
        return await self._outcomes.record(email, settlement)


def told(email: StoredEmail, settlement: Settlement) -> None:
    """An attempt's outcome in the log (a plain success says nothing)."""
    kind, key = email.message.kind, email.key
    match settlement.counted:
        case "sent_unconfirmed":
            log.warning("email %s: %s; recorded as sent, unconfirmed (in doubt)", key, settlement.reason)
        case "retried":
            log.warning("email %s attempt %d failed: %s", kind, settlement.change.attempts, settlement.reason)
        case "failed":
            log.error("email %s failed after %d attempts: %s", kind, settlement.change.attempts, settlement.reason)
        case "over_quota":
            log.warning("email %s not sent: %s", key, settlement.reason)


def counted(email: StoredEmail, settlement: Settlement) -> None:
    if settlement.counted is not None:
        EMAILS.labels(kind=email.message.kind, outcome=settlement.counted).inc()
