"""The checks an observer makes of the score and index emails (the chaos suite, the container tests)."""

import datetime as dt

from inovda_notification.domain import Emailed, IndexMoves, IndexState, Renderer, index_emails
from inovda_notification.domain.expectations import index_email_problems, score_emails_expected
from inovda_shared.contracts.events import RegionIndexUpdated
from tests.unit.notification.builders import brida, index_updated

AT = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)


def test_each_innovations_latest_revision_scored_must_have_its_email_an_earlier_one_may() -> None:
    expected = score_emails_expected([("e-inovasi", "INV-1", 1), ("e-inovasi", "INV-1", 3), ("e-inovasi", "INV-2", 1)])
    assert expected.required == {"score:e-inovasi/INV-1:r3", "score:e-inovasi/INV-2:r1"}
    assert expected.allowed == expected.required | {"score:e-inovasi/INV-1:r1"}


def sent(update: RegionIndexUpdated, last: RegionIndexUpdated | None, renderer: Renderer) -> tuple[str, str]:
    """The office's email of `update`, told against `last` (None: the first)."""
    told = Emailed(IndexState.of(last), AT) if last is not None else None
    [email] = index_emails(update, told, IndexMoves(0, 0), brida(), [], renderer)
    return email.dedupe_key, email.text


def versions(*figures: tuple[int, float, str]) -> dict[int, RegionIndexUpdated]:
    return {v: index_updated(version=v, iid=iid, predicate=predicate) for v, iid, predicate in figures}


def test_emails_each_true_to_the_one_before_and_the_last_the_latest_state_pass(renderer: Renderer) -> None:
    announced = versions((1, 20.0, "Kurang Inovatif"), (4, 30.0, "Kurang Inovatif"), (9, 45.0, "Inovatif"))
    received = [sent(announced[1], None, renderer), sent(announced[9], announced[1], renderer)]
    assert index_email_problems(announced, received) == []


def test_an_older_state_after_a_newer_one_is_a_problem(renderer: Renderer) -> None:
    announced = versions((1, 41.0, "Inovatif"), (5, 47.24, "Inovatif"), (7, 48.4, "Inovatif"))
    received = [
        sent(announced[1], None, renderer),
        sent(announced[7], announced[1], renderer),
        sent(announced[5], announced[7], renderer),
    ]
    problems = index_email_problems(announced, received)
    assert problems == [
        "predicate:64.02/2026:v5: not newer than the email before (v7)",
        "the office was never told the latest state (v7, IID 48.4)",
    ]


def test_a_before_that_is_not_the_last_emails_is_a_problem(renderer: Renderer) -> None:
    announced = versions((1, 41.0, "Inovatif"), (5, 47.24, "Inovatif"))
    received = [sent(announced[1], None, renderer), sent(announced[5], None, renderer)]
    assert index_email_problems(announced, received) == [
        "predicate:64.02/2026:v5: its 'before' (None) is not the last email's",
        "predicate:64.02/2026:v5: it does not say 'naik' against the last email",
    ]
