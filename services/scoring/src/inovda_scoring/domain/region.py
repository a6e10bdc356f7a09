"""A region-year as scoring keeps it, what one innovation's change does to it, and what its index announces.

The region keeps its most improvable innovations (facts and potential) as the path's candidates: the path of
`region.index.updated` is planned from the one region record, never from all stored innovations, so the cost
of an event does not grow with the region.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from inovda_shared.contracts.events import RegionIndexUpdated
from inovda_shared.contracts.intake import RegionProfile

from .index import IndexFigures, RegionTotals, TotalsDelta
from .journal import Journal
from .maturity import InnovationFacts, InnovationScore, score_facts
from .placement import region_key
from .planner import PathPlan
from .revision import Revised, ScoredRevision
from .rubric import Rubric
from .whatif import RegionState


def member_id(source: str, external_id: str) -> str:
    """A short, field-name-safe id for an innovation among its region's candidates."""
    return hashlib.sha1(f"{source}\0{external_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Candidate:
    """An innovation the path may improve: its facts (as JSON) and how much it could still add."""

    member: str
    potential: int
    revision: int
    facts: Mapping[str, Any]

    @classmethod
    def of(cls, revision: ScoredRevision) -> "Candidate":
        return cls(
            member_id(revision.source, revision.external_id),
            revision.potential,
            revision.revision,
            revision.detail["facts"],
        )

    def score(self, rubric: Rubric) -> InnovationScore:
        return score_facts(InnovationFacts.model_validate(self.facts), rubric)


def kept_candidates(
    candidates: Mapping[str, Candidate], member: str, entry: Candidate | None, keep: int
) -> dict[str, Candidate]:
    """The candidates after `member` changed to `entry` (None: gone): the `keep` with the most potential.

    Approximate by design: a member left out earlier is not reconsidered until it changes again.
    """
    updated = {key: value for key, value in candidates.items() if key != member}
    if entry is not None and entry.potential > 0:
        updated[member] = entry
    ranked = sorted(updated.items(), key=lambda item: (-item[1].potential, item[0]))
    return dict(ranked[:keep])


def by_potential(candidates: Iterable[Candidate]) -> list[Candidate]:
    """The most improvable first (the order the path weighs them in)."""
    return sorted(candidates, key=lambda candidate: candidate.potential, reverse=True)


@dataclass(frozen=True)
class Region:
    """One region-year: its SPD levels, the totals of its eligible innovations, its path candidates (most
    improvable first), what its last `region.index.updated` said, and the journal of its last change."""

    region_code: str
    year: int
    version: int = 0
    spd_levels: Mapping[str, int] = field(default_factory=dict)
    profile_version: int = 0
    totals: RegionTotals = field(default_factory=RegionTotals)
    candidates: Mapping[str, Candidate] = field(default_factory=dict)
    announced: Mapping[str, Any] | None = None
    journal: Journal | None = None

    @property
    def key(self) -> str:
        return region_key(self.region_code, self.year)

    def kept(self, count: int) -> list[Candidate]:
        """The first `count` of the kept candidates."""
        return list(self.candidates.values())[:count]

    def state(self, innovations: Iterable[InnovationScore]) -> RegionState:
        """The region as the path sees it, with these of its innovations."""
        return RegionState(spd_levels=dict(self.spd_levels), totals=self.totals, innovations=tuple(innovations))

    def counting(self, revised: Revised, keep: int) -> "RegionChange":
        """The region once the new revision replaces the innovation's earlier contribution, keeping the `keep`
        most improvable candidates; its journal and announcement are still to be added."""
        delta = revised.revision.contribution.delta(revised.before)
        candidate = Candidate.of(revised.revision)
        after = replace(
            self,
            version=self.version + 1,
            totals=self.totals.apply(delta),
            candidates=kept_candidates(self.candidates, candidate.member, candidate, keep),
        )
        return RegionChange(after, delta)


def profiled(region: Region | None, profile: RegionProfile, version: int) -> Region | None:
    """The region with the profile's SPD levels as its `version`; None when that profile or a newer one is in."""
    if region is not None and region.profile_version >= version:
        return None
    base = region or Region(profile.region_code, profile.year)
    return replace(base, spd_levels=dict(profile.spd), profile_version=version, version=base.version + 1)


@dataclass(frozen=True)
class RegionChange:
    """One innovation's change to its region, written in one go: the region as it becomes, the totals'
    increments, and whether it announces a new index (then `region.announced` is what it says)."""

    region: Region
    delta: TotalsDelta
    announces: bool = False

    def recorded(self, journal: Journal, announced: Mapping[str, Any] | None) -> "RegionChange":
        """With its journal, and the content of the index announcement it makes (None: none)."""
        region = replace(self.region, journal=journal)
        if announced is None:
            return replace(self, region=region)
        return replace(self, region=replace(region, announced=announced), announces=True)


def index_content(figures: IndexFigures, rubric: Rubric, plan: PathPlan) -> dict[str, Any]:
    """What `region.index.updated` says, as JSON; a new event goes out only when this changes."""
    content = {
        "spd": figures.spd,
        "n": figures.n,
        "divisor": figures.divisor,
        "average_maturity": figures.average_maturity,
        "count_score": figures.count_score,
        "yandas_covered": figures.yandas_covered,
        "yandas_missing": figures.yandas_missing,
        "iid": figures.iid,
        "predicate": figures.predicate,
        "next_predicate": figures.next_predicate,
        "assumed": rubric.assumed,
        "path": [step.model_dump() for step in plan.steps],
    }
    parsed: dict[str, Any] = json.loads(json.dumps(content))  # as it is stored and compared
    return parsed


def index_announcement(region: Region, content: Mapping[str, Any]) -> RegionIndexUpdated | None:
    """The `region.index.updated` for `content`, unless it is what the region last announced."""
    last = region.announced
    if last == content:
        return None
    return RegionIndexUpdated(
        region_code=region.region_code,
        year=region.year,
        version=region.version,
        previous_iid=last["iid"] if last else None,
        previous_predicate=last["predicate"] if last else None,
        **content,
    )
