"""An innovation's latest scored revision, as scoring keeps it and announces it."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from inovda_shared.contracts.events import InnovationScored, InnovationSubmitted, InnovationVerified

from .compliance import ComplianceChange, compliance_changes
from .index import Contribution
from .maturity import InnovationFacts, InnovationScore, score_facts
from .placement import Placement, innovation_key
from .potential import improvement_potential, top_improvements
from .rubric import Rubric
from .verification import Fingerprints, Verification, Verified


@dataclass(frozen=True)
class ScoredRevision:
    """Where the revision counts, its score, and how much it could still add (the path's candidates)."""

    source: str
    external_id: str
    title: str
    revision: int
    placement: Placement
    previous_placement: Placement | None  # the unit it counted in before, when this revision moved it
    maturity: int
    eligible: bool
    contribution: Contribution
    potential: int
    detail: Mapping[str, Any]  # as JSON: facts, indicators, ineligible_reasons, top_improvements
    scored_at: dt.datetime
    fingerprints: Fingerprints = field(default_factory=Fingerprints)
    verification: Verification = field(default_factory=Verification)  # every decision so far
    verified: Verified = field(default_factory=Verified)
    reviewed_round: int = 0  # the review round this scoring takes in (0: scored for a new revision)

    @classmethod
    def of(
        cls,
        event: InnovationSubmitted,
        score: InnovationScore,
        rubric: Rubric,
        *,
        previous: Placement | None,
        scored_at: dt.datetime,
        verification: Verification | None = None,
    ) -> "ScoredRevision":
        """The revision scored; the decisions made on earlier revisions hold where it claims the same."""
        report = event.innovation
        placement = Placement(report.region_code, report.year, report.unit_code)
        fingerprints = Fingerprints.of(report)
        verification = verification or Verification()
        return cls(
            source=report.source,
            external_id=report.external_id,
            title=report.title,
            revision=event.revision,
            placement=placement,
            previous_placement=previous if previous != placement else None,
            maturity=score.maturity,
            eligible=score.eligible,
            contribution=score.contribution(),
            potential=improvement_potential(score, rubric),
            detail={
                "facts": score.facts.model_dump(mode="json"),
                "indicators": {key: value.model_dump() for key, value in score.indicators.items()},
                "ineligible_reasons": list(score.ineligible_reasons),
                "top_improvements": [item.model_dump() for item in top_improvements(score, rubric)],
            },
            scored_at=scored_at,
            fingerprints=fingerprints,
            verification=verification,
            verified=Verified.of(score, verification, fingerprints, rubric),
        )

    def verified_by(self, event: InnovationVerified, rubric: Rubric, scored_at: dt.datetime) -> "ScoredRevision | None":
        """The revision with the review round's decisions taken in; None when the round is taken in already."""
        verification = self.verification.with_round(event)
        if verification is None:
            return None
        claimed = score_facts(InnovationFacts.model_validate(self.detail["facts"]), rubric)
        return replace(
            self,
            verification=verification,
            verified=Verified.of(claimed, verification, self.fingerprints, rubric),
            reviewed_round=event.version,
            scored_at=scored_at,
        )

    @property
    def message_id(self) -> str:
        """One `innovation.scored` per revision, and one more per review round taken in."""
        scored = f"{InnovationScored.routing_key}:{self.key}:r{self.revision}"
        return f"{scored}:v{self.reviewed_round}" if self.reviewed_round else scored

    @property
    def key(self) -> str:
        return innovation_key(self.source, self.external_id)

    def announcement(self) -> InnovationScored:
        return InnovationScored(
            source=self.source,
            external_id=self.external_id,
            unit_code=self.placement.unit_code,
            region_code=self.placement.region_code,
            year=self.placement.year,
            revision=self.revision,
            title=self.title,
            maturity=self.maturity,
            indicators=self.detail["indicators"],
            eligible=self.eligible,
            ineligible_reasons=self.detail["ineligible_reasons"],
            top_improvements=self.detail["top_improvements"],
            verified_maturity=self.verified.maturity,
            verified_eligible=self.verified.eligible,
            verified_ineligible_reasons=list(self.verified.reasons),
            review=self.verified.review,
            decisions=dict(self.verified.decisions),
            points_lost=self.verified.points_lost,
            reviewed_round=self.reviewed_round,
        )


@dataclass(frozen=True)
class Revised:
    """A new revision of an innovation, and the one stored before it (None: this is its first)."""

    revision: ScoredRevision
    replaced: ScoredRevision | None

    @property
    def before(self) -> Contribution | None:
        """What the innovation brought to its region until now."""
        return self.replaced.contribution if self.replaced else None

    @property
    def verified_before(self) -> Contribution | None:
        return self.replaced.verified.contribution if self.replaced else None

    def compliance_changes(self) -> tuple[ComplianceChange, ...]:
        previous = self.replaced.placement if self.replaced else None
        return compliance_changes(self.revision.placement, previous, self.revision.contribution, self.before)
