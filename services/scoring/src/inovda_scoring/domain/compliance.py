"""Unit compliance: how many innovations each unit has in a region-year, and when that is announced."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from inovda_shared.contracts.events import UnitComplianceUpdated

from .index import Contribution
from .placement import Placement


@dataclass(frozen=True)
class ComplianceChange:
    """What one innovation's change does to one unit's counts."""

    placement: Placement
    innovations: int
    eligible: int


def compliance_changes(
    placement: Placement, previous: Placement | None, contribution: Contribution, before: Contribution | None
) -> tuple[ComplianceChange, ...]:
    """How the unit counts change: one more innovation for a new one, a move between units, or its eligibility."""
    eligible_now = int(contribution.eligible)
    if previous is None or before is None:
        return (ComplianceChange(placement, 1, eligible_now),)
    eligible_before = int(before.eligible)
    if previous.compliance != placement.compliance:
        return (ComplianceChange(previous, -1, -eligible_before), ComplianceChange(placement, 1, eligible_now))
    if eligible_now != eligible_before:
        return (ComplianceChange(placement, 0, eligible_now - eligible_before),)
    return ()


@dataclass(frozen=True)
class UnitCounts:
    """One unit's innovations of a region-year; `announced` is what its last `unit.compliance.updated` said."""

    innovations: int = 0
    eligible: int = 0
    version: int = 0
    announced: Mapping[str, int] | None = None

    @property
    def content(self) -> dict[str, int]:
        return {"innovations": self.innovations, "eligible": self.eligible}

    def counting(self, change: ComplianceChange) -> "UnitCounts":
        """The counts after `change`; announced as they were."""
        return replace(
            self,
            innovations=self.innovations + change.innovations,
            eligible=self.eligible + change.eligible,
            version=self.version + 1,
        )

    @property
    def announcement_due(self) -> bool:
        return self.content != self.announced

    def announcement(self, placement: Placement) -> UnitComplianceUpdated:
        return UnitComplianceUpdated(
            region_code=placement.region_code,
            year=placement.year,
            unit_code=placement.unit_code,
            version=self.version,
            compliant=self.innovations > 0,
            **self.content,
        )

    def announced_now(self) -> "UnitCounts":
        return replace(self, announced=self.content)


def counted(
    units: Mapping[str, UnitCounts], changes: Iterable[ComplianceChange]
) -> tuple[dict[str, UnitCounts], tuple[UnitComplianceUpdated, ...]]:
    """A region's unit counts (by unit code) after `changes`, and the announcements they make due."""
    after, announcements = dict(units), []
    for change in changes:
        counts = after.get(change.placement.unit_code, UnitCounts()).counting(change)
        if counts.announcement_due:
            announcements.append(counts.announcement(change.placement))
            counts = counts.announced_now()
        after[change.placement.unit_code] = counts
    return after, tuple(announcements)
