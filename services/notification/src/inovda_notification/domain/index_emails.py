"""The innovation office's index email: when one is due, and what it says.

The office is told what changed since the last email it received, never what one event changed: index
versions arrive in any order and more than once, and a bulk load moves the index hundreds of times. So an
email compares the latest state known with the state last emailed (`Emailed`):

- a state no newer than the one emailed (its version, monotonic per region-year) is never emailed;
- the first index of the year (it is where the office starts) and a change of predicate are emailed a short
  while (the rule's `settle`) after they were first seen, with the state known by then: a bulk load that
  crosses a band, or an IID wavering at a boundary, gives one email, and one back where it was none;
- a moved IID is emailed once it has rested for the rule's quiet period, and at most once per the rule's
  minimum gap;
- the same IID and predicate as emailed: nothing to tell.

The direction ("naik", "turun") and the figures "before" are the last email's, so they are true for the
reader. The email itself is built by `emails.index_emails`.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from inovda_shared.contracts.events import RegionIndexUpdated


@dataclass(frozen=True)
class IndexState:
    """The figures of one index version that an email reports."""

    version: int
    iid: float
    predicate: str
    n: int
    spd: float
    average_maturity: float
    count_score: float

    @classmethod
    def of(cls, event: RegionIndexUpdated) -> "IndexState":
        return cls(**{name: getattr(event, name) for name in cls.__dataclass_fields__})

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "IndexState":
        return cls(**{name: document[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Emailed:
    """What the office was last told, and when."""

    state: IndexState
    at: dt.datetime


@dataclass(frozen=True)
class IndexEmailRule:
    """How long a moved IID must rest before it is emailed, the least time between two such emails, and how
    long after a new predicate (or the year's first index) is first seen it is emailed."""

    quiet: dt.timedelta
    min_gap: dt.timedelta
    settle: dt.timedelta = dt.timedelta(0)


@dataclass(frozen=True)
class IndexMoves:
    """What moved the index since the last email: innovations scored for the first time, and revisions."""

    new_innovations: int
    revisions: int


def index_email_due(
    last: Emailed | None,
    latest: IndexState,
    changed_at: dt.datetime,
    rule: IndexEmailRule,
    diverged_at: dt.datetime | None = None,
) -> dt.datetime | None:
    """When `latest` is to be emailed; None: never. `changed_at`: when it was seen (the index's last change);
    `diverged_at`: when a predicate other than the one emailed was first seen (default `changed_at`)."""
    if last is not None and latest.version <= last.state.version:
        return None
    if last is None or latest.predicate != last.state.predicate:
        return min(diverged_at or changed_at, changed_at) + rule.settle
    if latest.iid == last.state.iid:
        return None
    return max(changed_at + rule.quiet, last.at + rule.min_gap)


def diverges(last: Emailed | None, latest: IndexState) -> bool:
    """A state with something the office must be told soon: the year's first, or a predicate not emailed."""
    return last is None or latest.predicate != last.state.predicate


@dataclass(frozen=True)
class IndexEmailRules:
    """The rule of each region: its own where it has one (by "region/year", then "region"), else the default."""

    default: IndexEmailRule
    overrides: Mapping[str, IndexEmailRule]

    def of(self, region_code: str, year: int) -> IndexEmailRule:
        return self.overrides.get(f"{region_code}/{year}") or self.overrides.get(region_code) or self.default
