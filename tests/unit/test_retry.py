"""The one retry of transient infrastructure failures: what it tries again, how often, and when it gives up."""

from types import SimpleNamespace
from typing import cast

import pytest
from pymongo.errors import AutoReconnect
from tenacity import RetryCallState

from inovda_shared import retry
from inovda_shared.retry import Backoff, retry_transient


class Flaky:
    """Fails with `error` the first `failures` times, then answers how many tries it took."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.tries = failures, error, 0

    async def __call__(self) -> int:
        self.tries += 1
        if self.tries <= self.failures:
            raise self.error
        return self.tries


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "TRANSIENT_BACKOFF", Backoff(first=0.01, cap=0.02))


async def test_an_operation_that_succeeds_is_run_once() -> None:
    operation = Flaky(0, AutoReconnect("unused"))
    assert await retry_transient(operation, "reading") == 1


async def test_transient_failures_are_tried_again_until_the_operation_succeeds() -> None:
    for failures in (1, 3):
        operation = Flaky(failures, AutoReconnect("connection refused"))
        assert await retry_transient(operation, "reading") == failures + 1


async def test_a_failure_of_the_operation_itself_is_raised_at_once() -> None:
    operation = Flaky(5, ValueError("not a transient failure"))
    with pytest.raises(ValueError, match="not a transient"):
        await retry_transient(operation, "reading")
    assert operation.tries == 1


async def test_a_transient_failure_that_outlasts_the_limit_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "TRANSIENT_RETRY_SECONDS", 0.2)
    operation = Flaky(10_000, AutoReconnect("connection refused"))
    with pytest.raises(AutoReconnect):
        await retry_transient(operation, "reading")
    assert 2 < operation.tries < 100


def test_a_backoff_after_a_try_made_outside_the_loop_goes_on_where_it_left_off() -> None:
    backoff = Backoff(first=1.0, cap=8.0)
    wait = backoff.after(1)
    waits = [wait(cast(RetryCallState, SimpleNamespace(attempt_number=number))) for number in range(1, 5)]
    assert waits == [2.0, 4.0, 8.0, 8.0]  # the loop's first wait is the second of the backoff
