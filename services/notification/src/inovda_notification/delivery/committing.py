"""One SMTP conversation around the commit mark: the email is marked committing just before the server is told
to take it (see adapters.smtp), and what came of it is told as the domain's `SendOutcome`."""

import datetime as dt
import time
from collections.abc import Callable
from typing import Protocol

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

    def stop(self) -> None:
        """Begin no new conversation (the ones under way finish)."""
        self._sender.stop()
