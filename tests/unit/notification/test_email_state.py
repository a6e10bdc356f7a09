"""An email's states in the sent log, and what each attempt at it decides."""

import dataclasses
import datetime as dt

import pytest

from inovda_notification.domain import EmailChange, EmailMessage, EmailStatus
from inovda_notification.domain.email_state import (
    Attempt,
    Delivered,
    FirstStep,
    Forget,
    InDoubt,
    NotMarked,
    NotYet,
    Refused,
    RetryPolicy,
    SendOutcome,
    SettleInDoubt,
    StoredEmail,
    first_step,
    orphaned,
    over_quota,
    rate_limited,
    resent,
    settle,
    settle_in_doubt,
)
from inovda_shared.contracts.events import NotificationFailed, NotificationSent

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
POLICY = RetryPolicy.of(max_attempts=5, first_backoff_seconds=2.0)


def stored(status: EmailStatus = EmailStatus.PENDING, **fields: object) -> StoredEmail:
    message = EmailMessage(
        kind="score",
        dedupe_key="score:e-inovasi/INV-001:r1",
        to=["dinkes@kukarkab.example"],
        cc=["mentor@kukarkab.example"],
        subject="Skor inovasi Anda",
        text="Skor kematangan: 26.",
        html="<p>Skor kematangan: 26</p>",
    )
    email = StoredEmail(message=message, status=status, attempts=0, next_attempt_at=NOW, correlation_id="corr-1")
    return dataclasses.replace(email, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("email", "step"),
    [
        (stored(EmailStatus.COMMITTING, attempts=2), SettleInDoubt()),
        (stored(EmailStatus.SENT, attempts=1, confirmed=True), Forget()),
        (stored(EmailStatus.FAILED, attempts=5), Forget()),
        (stored(next_attempt_at=NOW + SECOND), NotYet()),
        (stored(), Attempt(1)),
        (stored(attempts=2, next_attempt_at=NOW - SECOND), Attempt(3)),
    ],
    ids=["committing", "sent", "failed", "not due", "due", "due again"],
)
def test_what_an_attempt_does_first(email: StoredEmail, step: FirstStep) -> None:
    assert first_step(email, NOW) == step


@pytest.mark.parametrize(
    ("attempt", "outcome", "change", "counted"),
    [
        (
            1,
            Delivered(),
            EmailChange(status=EmailStatus.SENT, attempts=1, sent_at=NOW, confirmed=True),
            "sent",
        ),
        (
            2,
            InDoubt("no answer after the message was sent"),
            EmailChange(status=EmailStatus.SENT, attempts=2, sent_at=NOW, confirmed=False),
            "sent_unconfirmed",
        ),
        (
            1,
            Refused("SMTPDataError: 451"),
            EmailChange(EmailStatus.PENDING, 1, NOW + 2 * SECOND, last_error="SMTPDataError: 451"),
            "retried",
        ),
        (
            3,
            Refused("SMTPDataError: 451"),
            EmailChange(EmailStatus.PENDING, 3, NOW + 8 * SECOND, last_error="SMTPDataError: 451"),
            "retried",
        ),
        (
            5,
            Refused("SMTPDataError: 451"),
            EmailChange(status=EmailStatus.FAILED, attempts=5, last_error="SMTPDataError: 451"),
            "failed",
        ),
        (2, NotMarked(TimeoutError("the mark came too late")), EmailChange(status=EmailStatus.PENDING), None),
    ],
    ids=["delivered", "in doubt", "refused, retried", "refused again, backed off", "refused the last time", "unmarked"],
)
def test_what_an_attempt_records(attempt: int, outcome: SendOutcome, change: EmailChange, counted: str | None) -> None:
    settlement = settle(stored(attempts=attempt - 1), attempt, outcome, NOW, POLICY)
    assert (settlement.change, settlement.counted) == (change, counted)


def test_a_sent_email_is_announced_with_its_recipients_and_whether_it_is_confirmed() -> None:
    for outcome, confirmed in ((Delivered(), True), (InDoubt("no answer"), False)):
        settlement = settle(stored(), 1, outcome, NOW, POLICY)
        assert settlement.event == NotificationSent(
            dedupe_key="score:e-inovasi/INV-001:r1", kind="score", recipients=2, sent_at=NOW, confirmed=confirmed
        )
        assert settlement.failed_for_good is None


def test_only_the_last_failed_attempt_is_announced_and_dead_lettered() -> None:
    retried = settle(stored(attempts=3), 4, Refused("SMTPDataError: 451"), NOW, POLICY)
    assert (retried.event, retried.failed_for_good) == (None, None)
    failed = settle(stored(attempts=4), 5, Refused("SMTPDataError: 451"), NOW, POLICY)
    announced = NotificationFailed(
        dedupe_key="score:e-inovasi/INV-001:r1", kind="score", reason="SMTPDataError: 451", attempts=5, failed_at=NOW
    )
    assert failed.failed_for_good == failed.event == announced


def test_an_email_over_its_sources_quota_fails_at_once_announced_and_not_dead_lettered() -> None:
    settlement = over_quota(stored(), 1, NOW, "the daily email quota of source 'e-inovasi' (2 a day) is used up")
    assert settlement.change == EmailChange(
        status=EmailStatus.FAILED,
        attempts=1,
        last_error="the daily email quota of source 'e-inovasi' (2 a day) is used up",
    )
    assert settlement.counted == "over_quota"
    assert isinstance(settlement.event, NotificationFailed)
    assert "quota" in settlement.event.reason
    assert settlement.failed_for_good is None, "a source over its quota must not fill the dead-letter queue"


def test_the_backoff_doubles_up_to_five_minutes() -> None:
    policy = RetryPolicy.of(max_attempts=10, first_backoff_seconds=100.0)
    waits = [settle(stored(), attempt, Refused("x"), NOW, policy).change.next_attempt_at for attempt in (1, 2, 3, 4)]
    assert waits == [NOW + 100 * SECOND, NOW + 200 * SECOND, NOW + 300 * SECOND, NOW + 300 * SECOND]


def test_an_email_found_committing_is_recorded_sent_in_doubt_with_the_attempt_that_marked_it() -> None:
    settlement = settle_in_doubt(stored(EmailStatus.COMMITTING, attempts=2), NOW)
    assert settlement.change == EmailChange(status=EmailStatus.SENT, attempts=2, sent_at=NOW, confirmed=False)
    assert settlement.counted == "sent_unconfirmed"
    assert isinstance(settlement.event, NotificationSent)
    assert settlement.event.confirmed is False


@pytest.mark.parametrize(
    ("email", "again"),
    [
        (stored(EmailStatus.SENT, attempts=1, confirmed=True), False),
        (stored(EmailStatus.SENT, attempts=1), False),  # recorded before `confirmed` was
        (stored(EmailStatus.SENT, attempts=1, confirmed=False), True),
        (stored(EmailStatus.FAILED, attempts=5), True),
        (stored(EmailStatus.PENDING, attempts=2), True),
    ],
    ids=["confirmed", "sent without the field", "in doubt", "failed", "pending"],
)
def test_an_operator_may_ask_again_for_any_email_but_one_surely_sent(email: StoredEmail, again: bool) -> None:
    expected = EmailChange(status=EmailStatus.PENDING, attempts=0, next_attempt_at=NOW) if again else None
    assert resent(email, NOW) == expected


def test_an_email_a_first_attempt_marked_is_in_flight_for_a_minute_before_anyone_calls_it_in_doubt() -> None:
    """A first attempt holds no lock: one that finds its email committing cannot tell a dead attempt from one
    under way until the attempt must be over."""
    marked = stored(EmailStatus.COMMITTING, attempts=1, first_attempt=True, committing_at=NOW - 10 * SECOND)
    assert first_step(marked, NOW) == NotYet()
    assert resent(marked, NOW) is None
    assert first_step(marked, NOW + 60 * SECOND) == SettleInDoubt()
    assert resent(marked, NOW + 60 * SECOND) is not None
    under_lock = dataclasses.replace(marked, first_attempt=False)
    assert first_step(under_lock, NOW) == SettleInDoubt(), "the lock says the one that marked it is gone"


def test_over_a_rate_limit_an_email_waits_without_losing_an_attempt() -> None:
    assert rate_limited(NOW, 1.5) == EmailChange(next_attempt_at=NOW + 1.5 * SECOND)


def test_a_due_key_without_its_email_is_an_orphan_after_an_hour() -> None:
    assert orphaned(NOW - dt.timedelta(hours=2), NOW)
    assert not orphaned(NOW - dt.timedelta(minutes=5), NOW)
