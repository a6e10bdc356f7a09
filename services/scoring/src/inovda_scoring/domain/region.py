"""A region-year as scoring keeps it, what one innovation's change does to it, and what its index announces.

The region keeps its most improvable innovations (facts and potential) as the path's candidates: the path of
`region.index.updated` is planned from the one region record, never from all stored innovations, so the cost
of an event does not grow with the region.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from inovda_shared.contracts.events import RegionIndexUpdated, Review, UnitComplianceUpdated
from inovda_shared.contracts.intake import RegionProfile

from .compliance import UnitCounts, counted
from .index import IndexFigures, RegionTotals, TotalsDelta, round_half_up
from .journal import Journal
from .maturity import InnovationFacts, InnovationScore, score_facts
from .placement import region_key
from .planner import PathPlan
from .revision import Revised, ScoredRevision
from .rubric import Rubric
from .verification import Holding, verified_score
from .whatif import RegionState


def member_id(source: str, external_id: str) -> str:
    """A short, field-name-safe id for an innovation among its region's candidates."""
    return hashlib.sha1(f"{source}\0{external_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Candidate:
    """An innovation the path may improve: its facts (as JSON), as claimed and as verified in its last review
    round, and how much it could still add."""

    member: str
    potential: int
    revision: int
    facts: Mapping[str, Any]
    verified_facts: Mapping[str, Any] | None = None  # None: nothing accepted yet
    round: int = 0

    @classmethod
    def of(cls, revision: ScoredRevision) -> "Candidate":
        return cls(
            member_id(revision.source, revision.external_id),
            revision.potential,
            revision.revision,
            revision.detail["facts"],
            revision.verified.facts,
            revision.verification.round,
        )

    def score(self, rubric: Rubric) -> InnovationScore:
        return score_facts(InnovationFacts.model_validate(self.facts), rubric)

    def verified_score(self, rubric: Rubric) -> InnovationScore:
        if self.verified_facts is None:
            return verified_score(InnovationFacts.model_validate(self.facts), Holding(), rubric)
        return score_facts(InnovationFacts.model_validate(self.verified_facts), rubric)


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
class ReviewTally:
    """A region's review progress: indicators with a decision that holds, indicators claimed, rounds taken in."""

    decided: int = 0
    total: int = 0
    rounds: int = 0

    def plus(self, other: "ReviewTally") -> "ReviewTally":
        return ReviewTally(self.decided + other.decided, self.total + other.total, self.rounds + other.rounds)

    def review(self) -> Review:
        return Review(decided=self.decided, total=self.total, round=self.rounds)


def review_delta(revised: Revised) -> ReviewTally:
    """What the new revision changes in its region's review progress."""
    after = revised.revision.verified.review
    before = revised.replaced.verified.review if revised.replaced else Review(decided=0, total=0)
    rounds = 1 if revised.revision.reviewed_round else 0
    return ReviewTally(after.decided - before.decided, after.total - before.total, rounds)


@dataclass(frozen=True)
class Region:
    """One region-year: its SPD levels, the totals of its eligible innovations as claimed and as verified, its
    review progress, its path candidates (most improvable first), its units' counts (by unit code), what its
    last `region.index.updated` said, and the journal of its last change."""

    region_code: str
    year: int
    version: int = 0
    spd_levels: Mapping[str, int] = field(default_factory=dict)
    profile_version: int = 0
    totals: RegionTotals = field(default_factory=RegionTotals)
    verified_totals: RegionTotals = field(default_factory=RegionTotals)
    review: ReviewTally = field(default_factory=ReviewTally)
    candidates: Mapping[str, Candidate] = field(default_factory=dict)
    units: Mapping[str, UnitCounts] = field(default_factory=dict)
    announced: Mapping[str, Any] | None = None
    journal: Journal | None = None

    @property
    def key(self) -> str:
        return region_key(self.region_code, self.year)

    @property
    def verifying(self) -> bool:
        """Once a review round is taken in, the path plans on the verified figures."""
        return self.review.rounds > 0

    def kept(self, count: int) -> list[Candidate]:
        """The first `count` of the kept candidates."""
        return list(self.candidates.values())[:count]

    def state(self, innovations: Iterable[InnovationScore]) -> RegionState:
        """The region as the path sees it, with these of its innovations."""
        return RegionState(spd_levels=dict(self.spd_levels), totals=self.totals, innovations=tuple(innovations))

    def verified_state(self, innovations: Iterable[InnovationScore]) -> RegionState:
        """The region as verified, with these of its innovations as verified."""
        return RegionState(
            spd_levels=dict(self.spd_levels), totals=self.verified_totals, innovations=tuple(innovations)
        )

    def counting(self, revised: Revised, keep: int) -> "RegionChange":
        """The region once the new revision replaces the innovation's earlier contribution (in the totals and
        its units' counts), keeping the `keep` most improvable candidates; its journal and index announcement
        are still to be added."""
        delta = revised.revision.contribution.delta(revised.before)
        verified_delta = revised.revision.verified.contribution.delta(revised.verified_before)
        reviewed = review_delta(revised)
        candidate = Candidate.of(revised.revision)
        units, compliance = counted(self.units, revised.compliance_changes())
        after = replace(
            self,
            version=self.version + 1,
            totals=self.totals.apply(delta),
            verified_totals=self.verified_totals.apply(verified_delta),
            review=self.review.plus(reviewed),
            candidates=kept_candidates(self.candidates, candidate.member, candidate, keep),
            units=units,
        )
        return RegionChange(after, delta, verified_delta, reviewed, compliance=compliance)


def profiled(region: Region | None, profile: RegionProfile, version: int) -> Region | None:
    """The region with the profile's SPD levels as its `version`; None when that profile or a newer one is in."""
    if region is not None and region.profile_version >= version:
        return None
    base = region or Region(profile.region_code, profile.year)
    return replace(base, spd_levels=dict(profile.spd), profile_version=version, version=base.version + 1)


@dataclass(frozen=True)
class RegionChange:
    """One innovation's change to its region, written in one go: the region as it becomes, the totals'
    increments, the `unit.compliance.updated` its units' counts make due, and whether it announces a new
    index (then `region.announced` is what it says)."""

    region: Region
    delta: TotalsDelta
    verified_delta: TotalsDelta = field(default_factory=TotalsDelta)
    review_delta: ReviewTally = field(default_factory=ReviewTally)
    announces: bool = False
    compliance: tuple[UnitComplianceUpdated, ...] = ()

    def recorded(self, journal: Journal, announced: Mapping[str, Any] | None) -> "RegionChange":
        """With its journal, and the content of the index announcement it makes (None: none)."""
        region = replace(self.region, journal=journal)
        if announced is None:
            return replace(self, region=region)
        return replace(self, region=replace(region, announced=announced), announces=True)


def index_content(
    figures: IndexFigures,
    rubric: Rubric,
    plan: PathPlan,
    verified: IndexFigures | None = None,
    review: Review | None = None,
) -> dict[str, Any]:
    """What `region.index.updated` says, as JSON; a new event goes out only when this changes. With `verified`
    (the region has started verifying), the path and the next predicate are the verified figure's."""
    planned = verified or figures
    content: dict[str, Any] = {
        "spd": figures.spd,
        "n": figures.n,
        "divisor": figures.divisor,
        "average_maturity": figures.average_maturity,
        "count_score": figures.count_score,
        "yandas_covered": figures.yandas_covered,
        "yandas_missing": figures.yandas_missing,
        "iid": figures.iid,
        "predicate": figures.predicate,
        "next_predicate": planned.next_predicate,
        "assumed": rubric.assumed,
        "path": [step.model_dump() for step in plan.steps],
    }
    if verified is not None:
        content["path_on"] = "verified"
        content["verified"] = {
            "spd": verified.spd,
            "n": verified.n,
            "average_maturity": verified.average_maturity,
            "count_score": verified.count_score,
            "iid": verified.iid,
            "predicate": verified.predicate,
            "points_at_risk": float(round_half_up(Fraction(str(figures.iid)) - Fraction(str(verified.iid)))),
        }
        content["review"] = review.model_dump(mode="json") if review is not None else None
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
