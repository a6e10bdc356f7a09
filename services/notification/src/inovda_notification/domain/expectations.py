"""What an observer can check of the score and index emails from the outside, from the events announced and the
emails received (the chaos suite, the container tests): the rules of `emails` and `index_emails` as checks.

- Score emails: each innovation's latest revision scored has its email; an earlier revision's may have one
  (its window passed before the next revision came), none other.
- Index emails, per region-year, in the order received: each of an announced version, newer than the one
  before, its IID that version's, its "before" IID and its direction ("naik", "turun") the previous email's;
  and, once all has rested, the last one tells the latest state (its IID and predicate).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from inovda_shared.contracts.events import RegionIndexUpdated
from inovda_shared.indonesian import format_number

from .emails import score_key

_NOW_AND_BEFORE = re.compile(r"IID saat ini : ([0-9.,]+)(?: \(pada email terakhir ([0-9.,]+)\))?")


@dataclass(frozen=True)
class ScoreEmails:
    required: set[str]  # each innovation's latest revision scored
    allowed: set[str]  # every revision scored


def score_emails_expected(scored: Iterable[tuple[str, str, int]]) -> ScoreEmails:
    """From the revisions scored, as (source, external_id, revision)."""
    latest: dict[tuple[str, str], int] = {}
    allowed = set()
    for source, external_id, revision in scored:
        allowed.add(score_key(source, external_id, revision))
        latest[(source, external_id)] = max(revision, latest.get((source, external_id), 0))
    return ScoreEmails({score_key(*innovation, revision) for innovation, revision in latest.items()}, allowed)


def index_email_problems(
    announced: Mapping[int, RegionIndexUpdated], received: Sequence[tuple[str, str]], settled: bool = True
) -> list[str]:
    """What is wrong with one region-year's index emails: `announced` by version, `received` as (dedupe key,
    plain text) in the order the office got them; `settled`: everything has rested since the last version."""
    problems = []
    previous: RegionIndexUpdated | None = None
    for key, text in received:
        version = int(key.rsplit(":v", 1)[1])
        state = announced.get(version)
        if state is None:
            problems.append(f"{key}: no such version announced")
            continue
        if previous is not None and version <= previous.version:
            problems.append(f"{key}: not newer than the email before (v{previous.version})")
        match = _NOW_AND_BEFORE.search(text)
        if match is None or match.group(1) != format_number(state.iid):
            problems.append(f"{key}: its IID is not its version's ({format_number(state.iid)})")
        before = match.group(2) if match else None
        if before != (format_number(previous.iid) if previous is not None else None):
            problems.append(f"{key}: its 'before' ({before}) is not the last email's")
        if previous is not None and previous.predicate == state.predicate and previous.iid != state.iid:
            direction = "naik" if state.iid > previous.iid else "turun"
            if f" {direction} sejak email terakhir" not in text:
                problems.append(f"{key}: it does not say '{direction}' against the last email")
        previous = state
    if settled and announced:
        latest = announced[max(announced)]
        if previous is None or (previous.iid, previous.predicate) != (latest.iid, latest.predicate):
            problems.append(f"the office was never told the latest state (v{latest.version}, IID {latest.iid})")
    return problems
