"""An email in the sent log: its states, and what each attempt at it decides.

An email's first attempt records it `committing` just before the SMTP server is told to take it (the final
"." of DATA): that record, a unique insert under its dedupe key, is what makes the attempt the only one. A
first attempt that fails before it records the email `pending` with its next attempt; each later attempt
marks it `committing` again (under the email's lock). An attempt then records what came of it: `sent`
(confirmed, or in doubt when the server's answer never came), `pending` again with a later next attempt,
or `failed` for good after the last attempt (and dead-lettered). An email found `committing` well after
its mark (`IN_FLIGHT`) belongs to an attempt that died after it: the server may have it, so it is recorded
as sent without confirmation, never sent again.

Every step changes only the fields it names (`EmailChange`), never the whole record: the commit mark is
written from the sender's thread meanwhile, and a whole record read before it would undo it.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from inovda_shared.contracts.events import NotificationFailed, NotificationSent
from inovda_shared.retry import Backoff

from .model import EmailMessage

MAX_BACKOFF_SECONDS = 300.0
# A due key without its email is a recording under way, or one that died half-way and that its event's
# redelivery completes. One alone this long belongs to no email.
ORPHAN_DUE_AFTER = dt.timedelta(hours=1)
# An attempt is done this long after its commit mark (the final ".", the server's answer, the record of it):
# an email committing for longer is one whose attempt died.
IN_FLIGHT = dt.timedelta(seconds=60)


class EmailStatus(StrEnum):
    PENDING = "pending"
    COMMITTING = "committing"
    SENT = "sent"
    FAILED = "failed"

    @property
    def settled(self) -> bool:
        """Nothing more to do: a committing email is still to be recorded as sent (without confirmation)."""
        return self not in (EmailStatus.PENDING, EmailStatus.COMMITTING)


@dataclass(frozen=True)
class StoredEmail:
    """An email as the sent log holds it."""

    message: EmailMessage
    status: EmailStatus
    attempts: int
    next_attempt_at: dt.datetime
    correlation_id: str
    created_at: dt.datetime | None = None
    # False: in doubt (see NotificationSent.confirmed); None on an email not recorded as sent.
    confirmed: bool | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    committing_at: dt.datetime | None = None
    committed_by: str | None = None  # the replica that marked it committing
    # Marked by a first attempt, which holds no lock: a replica that finds it committing cannot tell a dead
    # attempt from one under way, until `IN_FLIGHT` has passed.
    first_attempt: bool = False

    @property
    def key(self) -> str:
        return self.message.dedupe_key

    @property
    def sent_for_sure(self) -> bool:
        """Sent, and the server said it took it: never sent again, not even on an operator's word."""
        return self.status is EmailStatus.SENT and self.confirmed is not False


@dataclass(frozen=True)
class EmailChange:
    """The fields one step sets; None leaves a field as it is."""

    status: EmailStatus | None = None
    attempts: int | None = None
    next_attempt_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    confirmed: bool | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """A failed send is tried again after `backoff`, up to `max_attempts` attempts in all."""

    max_attempts: int
    backoff: Backoff

    @classmethod
    def of(cls, max_attempts: int, first_backoff_seconds: float) -> "RetryPolicy":
        """The first wait `first_backoff_seconds`, doubling, never above 5 minutes."""
        return cls(max_attempts, Backoff(first=first_backoff_seconds, cap=MAX_BACKOFF_SECONDS))


# --- Before an attempt -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettleInDoubt:
    """Found committing: an attempt died after its mark."""


@dataclass(frozen=True)
class Forget:
    """Sent or failed already (just before a crash): its due key goes."""


@dataclass(frozen=True)
class NotYet:
    """Its next attempt has not come."""


@dataclass(frozen=True)
class Attempt:
    number: int  # 1 for the first


FirstStep = SettleInDoubt | Forget | NotYet | Attempt


def first_step(email: StoredEmail, now: dt.datetime) -> FirstStep:
    if email.status is EmailStatus.COMMITTING:
        return NotYet() if in_flight(email, now) else SettleInDoubt()
    if email.status is not EmailStatus.PENDING:
        return Forget()
    if email.next_attempt_at > now:
        return NotYet()
    return Attempt(email.attempts + 1)


def in_flight(email: StoredEmail, now: dt.datetime) -> bool:
    """Marked committing by a first attempt so recently that the attempt may still be under way (an attempt
    under the email's lock that finds it committing knows the one that marked it is gone)."""
    return email.first_attempt and email.committing_at is not None and email.committing_at > now - IN_FLIGHT


def orphaned(due_since: dt.datetime, now: dt.datetime) -> bool:
    """A due key found without its email since `due_since`: left, it would hold a place in every pass."""
    return due_since < now - ORPHAN_DUE_AFTER


def rate_limited(now: dt.datetime, wait_seconds: float) -> EmailChange:
    """Over a rate limit: later, without counting an attempt."""
    return EmailChange(next_attempt_at=now + dt.timedelta(seconds=wait_seconds))


def resent(email: StoredEmail, now: dt.datetime) -> EmailChange | None:
    """On an operator's word (or its dead letter replayed): from the start, unless it was surely sent or its
    attempt may still be under way."""
    if email.sent_for_sure or (email.status is EmailStatus.COMMITTING and in_flight(email, now)):
        return None
    return EmailChange(status=EmailStatus.PENDING, attempts=0, next_attempt_at=now)


# --- After an attempt --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """The server took it."""


@dataclass(frozen=True)
class InDoubt:
    """The final "." went out and no answer came."""

    reason: str


@dataclass(frozen=True)
class Refused:
    """The server refused it, or the conversation failed before the final "."."""

    reason: str


@dataclass(frozen=True)
class NotMarked:
    """The commit mark failed, or came too late: nothing was sent, but the mark may have been stored."""

    error: Exception


SendOutcome = Delivered | InDoubt | Refused | NotMarked
Counted = Literal["sent", "sent_unconfirmed", "retried", "failed", "over_quota"]  # inovda_emails_total{outcome}


@dataclass(frozen=True)
class Settlement:
    """What an attempt (or finding an email committing) records, announces and dead-letters."""

    change: EmailChange
    counted: Counted | None  # None: the attempt does not count
    event: NotificationSent | NotificationFailed | None = None
    reason: str | None = None
    # Failed for good and dead-lettered, so that a replay asks for it again; not one over its source's quota
    # (a source over its quota would fill the dead-letter queue).
    replayable: bool = True

    @property
    def failed_for_good(self) -> NotificationFailed | None:
        """After the last attempt: announced, and dead-lettered (the dead letter asks for the email again)."""
        return self.event if isinstance(self.event, NotificationFailed) and self.replayable else None


def settle(email: StoredEmail, attempt: int, outcome: SendOutcome, now: dt.datetime, policy: RetryPolicy) -> Settlement:
    match outcome:
        case Delivered():
            return _sent(email, attempt, now, confirmed=True)
        case InDoubt(reason):
            return _sent(email, attempt, now, confirmed=False, reason=reason)
        case Refused(reason):
            return _failed(email, attempt, now, reason, policy)
        case NotMarked():
            # The attempt does not count: back to pending, for the next pass.
            return Settlement(EmailChange(status=EmailStatus.PENDING), counted=None)


def over_quota(email: StoredEmail, attempt: int, now: dt.datetime, reason: str) -> Settlement:
    """Its source's daily quota is used up: failed, announced, not sent and not dead-lettered (an operator may
    still ask for it again, `inovda emails resend`, once the quota allows)."""
    return _failed_for_good(email, attempt, now, reason, "over_quota")


def settle_in_doubt(email: StoredEmail, now: dt.datetime) -> Settlement:
    """An email found committing: recorded as sent, unconfirmed, with the attempt that marked it."""
    return _sent(email, email.attempts, now, confirmed=False, reason="found committing")


def _sent(email: StoredEmail, attempt: int, now: dt.datetime, confirmed: bool, reason: str | None = None) -> Settlement:
    message = email.message
    return Settlement(
        EmailChange(status=EmailStatus.SENT, attempts=attempt, sent_at=now, confirmed=confirmed),
        counted="sent" if confirmed else "sent_unconfirmed",
        event=NotificationSent(
            dedupe_key=email.key,
            kind=message.kind,
            recipients=len(message.to) + len(message.cc),
            sent_at=now,
            confirmed=confirmed,
            **_about(message),
        ),
        reason=reason,
    )


def _failed(email: StoredEmail, attempt: int, now: dt.datetime, reason: str, policy: RetryPolicy) -> Settlement:
    if attempt < policy.max_attempts:
        # Also after the mark: it must go back to pending, or it would count as sent.
        retry_at = now + dt.timedelta(seconds=policy.backoff.seconds(attempt))
        change = EmailChange(status=EmailStatus.PENDING, attempts=attempt, next_attempt_at=retry_at, last_error=reason)
        return Settlement(change, counted="retried", reason=reason)
    return _failed_for_good(email, attempt, now, reason, "failed")


def _failed_for_good(
    email: StoredEmail, attempt: int, now: dt.datetime, reason: str, counted: Literal["failed", "over_quota"]
) -> Settlement:
    failed = NotificationFailed(
        dedupe_key=email.key,
        kind=email.message.kind,
        reason=reason,
        attempts=attempt,
        failed_at=now,
        **_about(email.message),
    )
    change = EmailChange(status=EmailStatus.FAILED, attempts=attempt, last_error=reason)
    return Settlement(change, counted=counted, event=failed, reason=reason, replayable=counted == "failed")


def _about(message: EmailMessage) -> dict[str, str | None]:
    """The outcome names the unit the email is about (the portal shows a unit the emails it was sent)."""
    region_code, unit_code = message.about or (None, None)
    return {"region_code": region_code, "unit_code": unit_code}
