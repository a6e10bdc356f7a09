"""One SMTP conversation around the commit mark: the email is marked committing just before the server is told
to take it (see adapters.smtp), and what came of it is told as the domain's `SendOutcome`.

A first attempt's mark inserts the email's record (`send_first`): of two first attempts at one email, the one
whose insert fails sends nothing (`Taken`). A later attempt's mark updates the record under the email's lock
(`send`)."""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from inovda_shared.mongo import Document, DuplicateKeyError

from ..adapters.smtp import SenderStoppedError, UncertainDeliveryError
from ..domain import EmailMessage, StoredEmail
from ..domain.email_state import Delivered, InDoubt, NotMarked, Refused, SendOutcome

# The server is told to take the email only this soon after the attempt took the email's lock, well inside the
# lock's 30 s: after that, another replica may have taken the lock over and be sending the same email.
COMMIT_WITHIN = dt.timedelta(seconds=24)


class Sender(Protocol):
    async def send(self, message: EmailMessage, committing: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


class CommitMarker(Protocol):
    def mark(self, key: str, attempts: int, at: dt.datetime) -> None: ...

    def commit_new(self, record: Document) -> None: ...


@dataclass(frozen=True)
class Taken:
    """Another attempt has the email's record: nothing was sent, and this attempt is not the one to send it."""


@dataclass(frozen=True)
class FirstOutcome:
    outcome: SendOutcome | Taken
    committed: bool  # the record was inserted: what came of the attempt updates it; else it is still to write


class CommittingSender:
    def __init__(self, sender: Sender, marks: CommitMarker) -> None:
        self._sender = sender
        self._marks = marks

    async def send(self, email: StoredEmail, attempt: int, now: dt.datetime) -> SendOutcome:
        """Attempt number `attempt` at `email`, begun `now` under its lock. Raises SenderStoppedError (nothing
        sent: another replica, or this one restarted, sends it)."""
        marking_failed: Exception | None = None
        commit_by = time.monotonic() + COMMIT_WITHIN.total_seconds()

        def committing() -> None:  # in the sender's thread, right before the server takes the message
            nonlocal marking_failed
            try:
                self._marks.mark(email.key, attempt, now)
                if time.monotonic() > commit_by:
                    raise TimeoutError("the mark came too late: the email's lock may be another replica's now")
            except Exception as exc:
                marking_failed = exc
                raise

        try:
            await self._sender.send(email.message, committing)
        except UncertainDeliveryError as exc:
            return InDoubt(str(exc))
        except Exception as exc:
            if exc is marking_failed:
                return NotMarked(exc)
            if isinstance(exc, SenderStoppedError):
                raise
            return Refused(f"{type(exc).__name__}: {exc}")
        return Delivered()

    async def send_first(self, message: EmailMessage, record: Document) -> FirstOutcome:
        """A first attempt at `message`, marked by inserting `record`. Raises SenderStoppedError (nothing sent,
        nothing recorded)."""
        committed = False
        marking_failed: Exception | None = None

        def committing() -> None:  # in the sender's thread, right before the server takes the message
            nonlocal committed, marking_failed
            try:
                self._marks.commit_new(record)
            except Exception as exc:
                marking_failed = exc
                raise
            committed = True

        try:
            await self._sender.send(message, committing)
        except UncertainDeliveryError as exc:
            return FirstOutcome(InDoubt(str(exc)), committed)
        except Exception as exc:
            if exc is marking_failed:
                return FirstOutcome(Taken() if isinstance(exc, DuplicateKeyError) else NotMarked(exc), False)
            if isinstance(exc, SenderStoppedError):
                raise
            return FirstOutcome(Refused(f"{type(exc).__name__}: {exc}"), committed)
        return FirstOutcome(Delivered(), committed)

    def stop(self) -> None:
        """Begin no new conversation (the ones under way finish)."""
        self._sender.stop()
