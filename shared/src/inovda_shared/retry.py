"""How Inovda waits and tries again: one backoff shape, one retry of transient failures, one supervised loop.

Every wait (a failed delivery before it is requeued, an email's next attempt, a contended lock, a database or
broker outage) is a `Backoff`: a first delay, doubling, capped, optionally jittered. The loops that retry are
tenacity's; `supervised` keeps a background pass running through outages.
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aio_pika.exceptions import AMQPError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_delay

from .mongo import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """`first` seconds before the second try, doubling with each try after that, never above `cap`."""

    first: float
    cap: float
    jitter: bool = False  # up to twice the delay, at random: contenders that met once do not meet again

    def seconds(self, attempt: int) -> float:
        """The wait after try number `attempt` (1 is the first)."""
        delay: float = min(self.first * 2 ** max(attempt - 1, 0), self.cap)
        return delay * (1 + random.random()) if self.jitter else delay

    def __call__(self, state: RetryCallState) -> float:
        """As a tenacity wait strategy."""
        return self.seconds(state.attempt_number)

    def after(self, tries: int) -> Callable[[RetryCallState], float]:
        """As a tenacity wait strategy for a loop that starts once `tries` tries and their waits are behind (a
        first try made outside tenacity, which costs more to build than most operations it wraps)."""
        return lambda state: self.seconds(state.attempt_number + tries)


# A database or broker outage: retried in place, without counting against the message.
TRANSIENT_BACKOFF = Backoff(first=0.2, cap=5.0)
TRANSIENT_RETRY_SECONDS = 120.0


def is_transient_failure(exc: BaseException) -> bool:
    """A failure of the infrastructure, not of the message: a retry can cure it."""
    return is_transient(exc) or isinstance(exc, AMQPError | ConnectionError | TimeoutError)


async def retry_transient(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `operation`, retrying transient infrastructure failures for up to two minutes."""
    started = time.monotonic()
    try:  # the first try outside tenacity (`Backoff.after`)
        return await operation()
    except Exception as exc:
        if not is_transient_failure(exc):
            raise
        first_failure = exc
    wait = TRANSIENT_BACKOFF.seconds(1)
    log.warning("%s failed transiently (%s); retrying in %.1fs", what, type(first_failure).__name__, wait)
    await asyncio.sleep(wait)

    def warn(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s failed transiently (%s); retrying in %.1fs", what, type(error).__name__, wait)

    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient_failure),
        stop=stop_after_delay(max(TRANSIENT_RETRY_SECONDS - (time.monotonic() - started), 0.0)),
        wait=TRANSIENT_BACKOFF.after(1),
        before_sleep=warn,
        reraise=True,
    )

    async def attempt() -> T:  # a coroutine function: tenacity would not await what a plain callable returns
        return await operation()

    result: T = await retrying(attempt)
    return result


async def supervised(
    name: str,
    step: Callable[[], Awaitable[Any]],
    interval_seconds: float,
    on_cancel: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run `step` every `interval_seconds` until cancelled; a failed pass is logged and the next one runs:
    a background loop (outbox relay, email delivery, schedules) must outlive broker and database outages."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            if on_cancel is not None:
                await on_cancel()
            raise
        except Exception as exc:
            log.warning("%s pass failed: %s: %s", name, type(exc).__name__, exc)
        await asyncio.sleep(interval_seconds)
