"""What the email builders take (contacts, filled in by the caller) and what they give (messages)."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

EmailKind = Literal["receipt", "rejection", "score", "review", "reminder", "predicate_change", "weekly_digest"]

# The contract already admits only header-safe addresses; contacts may come from anywhere, so check again.
_SAFE_ADDRESS = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+")


@dataclass(frozen=True)
class UnitContact:
    """A registered unit as the notification service knows it (from `unit.registered`)."""

    region_code: str
    unit_code: str
    name: str
    kind: str
    emails: Sequence[str]
    mentor_emails: Sequence[str] = ()
    active: bool = True

    def is_unit(self, region_code: str | None, unit_code: str | None) -> bool:
        return self.region_code == region_code and self.unit_code == unit_code


@dataclass(frozen=True)
class RegionContact:
    """A region-year's innovation office (from `region.profile.updated`)."""

    region_code: str
    year: int
    admin_emails: Sequence[str]


@dataclass(frozen=True)
class EmailMessage:
    """One email ready for the sender. `dedupe_key` is stable: the same fact always yields the same key."""

    kind: EmailKind
    dedupe_key: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: str
    # The unit the email is about (region_code, unit_code), where it is about one: its outcome says so.
    about: tuple[str, str] | None = None
    # The intake source whose message caused it, whose daily quota counts it (`quotas`); None: the system's own.
    source: str | None = None


@dataclass(frozen=True)
class Recipients:
    to: list[str]
    cc: list[str]


def recipients(to: Iterable[str], cc: Iterable[str] = ()) -> Recipients:
    """Lower-cased, each address once (an address in `to` is not copied again), unsafe addresses dropped."""
    seen: set[str] = set()

    def unique(addresses: Iterable[str]) -> list[str]:
        kept = []
        for address in addresses:
            normalised = address.strip().lower()
            if normalised not in seen and _SAFE_ADDRESS.fullmatch(normalised):
                seen.add(normalised)
                kept.append(normalised)
        return kept

    return Recipients(to=unique(to), cc=unique(cc))
