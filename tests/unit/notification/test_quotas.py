"""The sending limits' pure part: which windows an email counts in, the blocks of tickets a replica takes, and
the verdict (go, wait, or over its source's quota). The blocks themselves are inserts in the database
(`tests/integration/test_notification.py` runs two replicas' limits on one)."""

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from inovda_notification.domain import EmailMessage
from inovda_notification.domain.quotas import Allowance, Go, Limits, OverQuota, TicketBook, Verdict, Wait, Window

NOW = dt.datetime(2026, 3, 2, 1, 0, 30, tzinfo=dt.UTC)
WITA = ZoneInfo("Asia/Makassar")


def email(*addresses: str, source: str | None = "e-inovasi") -> EmailMessage:
    return EmailMessage(
        kind="score",
        dedupe_key="score:e-inovasi/INV-001:r1",
        to=list(addresses),
        cc=[],
        subject="s",
        text="t",
        html="h",
        source=source,
    )


class Replica:
    """One replica's book over a shared set of taken blocks (what the database's unique `_id`s are)."""

    def __init__(self, limits: Limits, taken: set[str]) -> None:
        self.limits, self.taken, self.book = limits, taken, TicketBook()

    def verdict(self, message: EmailMessage, now: dt.datetime = NOW, first_attempt: bool = True) -> Verdict:
        rate = self.limits.rate_windows(message, now)
        quota = self.limits.quota_window(message, now) if first_attempt else None
        windows = [*rate, *([quota] if quota else [])]
        while wanted := self.book.wanted(windows):
            for window, block in wanted:
                block_id = window.block_id(block)
                self.book.taken(window, block, block_id not in self.taken)
                self.taken.add(block_id)
        return self.book.verdict(rate, quota, now)


def replica(per_domain: int = 60, overall: int = 300, per_source: int = 2000, taken: set[str] | None = None) -> Replica:
    return Replica(Limits.of(per_domain, overall, per_source, WITA), set() if taken is None else taken)


def test_rate_limits_count_per_recipient_domain_and_overall_and_not_what_waits() -> None:
    limits = replica(per_domain=1, overall=2)
    assert limits.verdict(email("a@kukarkab.example", "b@kukarkab.example")) == Go()  # one domain, counted once
    waited = limits.verdict(email("c@kukarkab.example"))
    assert isinstance(waited, Wait)
    assert 0 < waited.seconds <= 60
    assert limits.verdict(email("d@kaltim.example")) == Go(), "the email that waited was not counted overall"
    waited = limits.verdict(email("e@samarinda.example"))
    assert isinstance(waited, Wait)
    assert waited.seconds == 30, "until the minute's window ends"


def test_two_replicas_share_a_limit_they_hold_in_blocks() -> None:
    taken: set[str] = set()
    first, second = replica(per_domain=20, taken=taken), replica(per_domain=20, taken=taken)
    assert Allowance("domain", 20, "minute").block_size == 2
    outcomes = [(first if number % 3 else second).verdict(email("x@kukarkab.example")) for number in range(30)]
    assert outcomes.count(Go()) <= 20, "never more than the limit, whichever replica sends"
    assert outcomes.count(Go()) >= 20 - 2 * 2 + 1, "at most a block per replica held back"
    assert len([block for block in taken if block.startswith("domain:")]) == 10


def test_the_next_minute_is_a_new_window() -> None:
    limits = replica(per_domain=1)
    assert limits.verdict(email("a@kukarkab.example")) == Go()
    assert isinstance(limits.verdict(email("a@kukarkab.example")), Wait)
    assert limits.verdict(email("a@kukarkab.example"), now=NOW + dt.timedelta(seconds=30)) == Go()


def test_a_source_over_its_daily_quota_is_refused_and_the_systems_own_emails_count_in_none() -> None:
    limits = replica(per_source=2)
    assert [limits.verdict(email(f"u{n}@kukarkab.example")) for n in range(2)] == [Go(), Go()]
    refused = limits.verdict(email("u3@kukarkab.example"))
    assert refused == OverQuota("the daily email quota of source 'e-inovasi' (2 a day) is used up")
    assert limits.verdict(email("u4@kukarkab.example", source="simpeg")) == Go(), "each source its own quota"
    assert limits.verdict(email("u5@kukarkab.example", source=None)) == Go(), "reminders, digests: no quota"
    assert limits.verdict(email("u6@kukarkab.example"), first_attempt=False) == Go(), "a retry was counted once"


def test_a_source_over_its_quota_is_refused_even_while_a_rate_limit_would_make_it_wait() -> None:
    limits = replica(per_domain=1, per_source=1)
    assert limits.verdict(email("a@kukarkab.example")) == Go()
    assert isinstance(limits.verdict(email("b@kukarkab.example")), OverQuota)


def test_the_quota_day_is_the_local_day() -> None:
    [window] = [replica().limits.quota_window(email("a@x.example"), dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC))]
    assert window is not None
    assert (window.period, window.ends_at) == ("2026-03-02", dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize(("limit", "size", "last"), [(60, 6, 6), (65, 7, 2), (1, 1, 1), (100_000, 50, 50), (0, 1, 0)])
def test_a_limit_is_cut_into_about_ten_blocks_of_at_most_fifty(limit: int, size: int, last: int) -> None:
    allowance = Allowance("domain", limit, "minute")
    assert allowance.block_size == size
    blocks = [allowance.tickets_in(block) for block in range(limit // size + 2)]
    assert sum(blocks) == limit
    assert [count for count in blocks if count][-1:] == ([last] if last else [])


def test_a_replica_forgets_the_windows_that_ended() -> None:
    book = TicketBook()
    window = Window(Allowance("domain", 10, "minute"), "x", "2026-03-02T01:00", NOW + dt.timedelta(seconds=30))
    book.taken(window, 0, ours=True)
    book.forget_ended(NOW)
    assert book.wanted([window]) == []
    book.forget_ended(NOW + dt.timedelta(minutes=1))
    assert book.wanted([window]) == [(window, 0)]


def test_an_email_is_counted_in_each_recipient_domain_once() -> None:
    message = dataclasses.replace(email("a@kukarkab.example"), cc=["b@kaltim.example", "c@kukarkab.example"])
    windows = replica().limits.rate_windows(message, NOW)
    assert [(window.allowance.kind, window.who) for window in windows] == [
        ("overall", "all"),
        ("domain", "kaltim.example"),
        ("domain", "kukarkab.example"),
    ]
