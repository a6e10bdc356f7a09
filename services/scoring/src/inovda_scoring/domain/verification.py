"""Verification: what a verifier accepted of an innovation's claims, and the verified figures that follow.

The national assessment counts only the evidence it accepts; the verified figures count the same way:

- an indicator counts its claimed level when accepted, the level the verifier gave when `accepted_lower`, and
  nothing when not accepted or not yet reviewed;
- an eligibility item the verifier did not accept (the design, the stage, the dates, the mandatory
  indicators) makes the innovation ineligible; an item not marked stays as claimed;
- a decision holds for a revision only while the revision claims what the decision judged (the same level and
  evidence: the same fingerprint), so a new revision that changes an indicator resets its decision and keeps
  the others'.

The verified score is scoring's own score of the facts as verified (`verified_facts`), so the verified index,
its path and its what-if use every rule of the rubric unchanged. It can never exceed the claimed one.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from inovda_shared.contracts.events import EligibilityVerdict, InnovationVerified, Review, VerifiedDecision
from inovda_shared.contracts.intake import InnovationReport, claim_fingerprint, eligibility_fingerprints
from inovda_shared.contracts.vocabulary import ELIGIBILITY_ITEM_LABELS, NOT_ACCEPTED_REASON_LABELS

from .index import Contribution
from .maturity import Claim, InnovationFacts, InnovationScore, score_facts
from .potential import improvement_potential
from .rubric import Rubric


@dataclass(frozen=True)
class Verification:
    """Every decision made on an innovation so far: the latest per indicator and per eligibility item,
    whichever revision it was made on (which of them hold for a revision is `holding`'s to say)."""

    indicators: Mapping[str, VerifiedDecision] = field(default_factory=dict)
    eligibility: Mapping[str, EligibilityVerdict] = field(default_factory=dict)
    round: int = 0  # the last review round taken in

    @property
    def started(self) -> bool:
        return bool(self.indicators or self.eligibility)

    def with_round(self, event: InnovationVerified) -> "Verification | None":
        """With the round's decisions (a later round replaces what it decides); None for a round taken in."""
        if event.version <= self.round:
            return None
        return replace(
            self,
            indicators={**self.indicators, **event.indicators},
            eligibility={**self.eligibility, **event.eligibility},
            round=event.version,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "indicators": {key: value.model_dump(mode="json") for key, value in self.indicators.items()},
            "eligibility": {key: value.model_dump(mode="json") for key, value in self.eligibility.items()},
            "round": self.round,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> "Verification":
        if not value:
            return cls()
        return cls(
            {key: VerifiedDecision.model_validate(item) for key, item in value["indicators"].items()},
            {key: EligibilityVerdict.model_validate(item) for key, item in value["eligibility"].items()},
            value["round"],
        )


@dataclass(frozen=True)
class Holding:
    """The decisions that hold for one revision."""

    indicators: Mapping[str, VerifiedDecision] = field(default_factory=dict)
    eligibility: Mapping[str, EligibilityVerdict] = field(default_factory=dict)


def holding(verification: Verification, claims: Mapping[str, str], items: Mapping[str, str]) -> Holding:
    """The decisions that still judge what the revision claims: `claims` and `items` are the revision's
    fingerprints (`claim_fingerprint`, `eligibility_fingerprints`)."""
    return Holding(
        {
            key: decision
            for key, decision in verification.indicators.items()
            if claims.get(key) == decision.judged_fingerprint
        },
        {
            key: verdict
            for key, verdict in verification.eligibility.items()
            if items.get(key) == verdict.judged_fingerprint
        },
    )


def verified_facts(facts: InnovationFacts, decisions: Holding, rubric: Rubric) -> InnovationFacts:
    """The innovation as far as the verifier accepted it."""
    claims = {}
    for indicator_id, claim in facts.claims.items():
        decision = decisions.indicators.get(indicator_id)
        if decision is None or decision.decision == "not_accepted":
            claims[indicator_id] = Claim(level=claim.level, has_evidence=False)  # counts 0
        elif decision.decision == "accepted_lower" and decision.level is not None:
            claims[indicator_id] = Claim(level=min(decision.level, claim.level), has_evidence=claim.has_evidence)
        else:
            claims[indicator_id] = claim
    refused = {item for item, verdict in decisions.eligibility.items() if verdict.decision == "not_accepted"}
    update: dict[str, object] = {"claims": claims}
    if "design" in refused:
        update["design_words"] = 0
    if "stage" in refused:
        update["stage"] = "inisiatif"  # not accepted as applied: not counted
    if "applied_on" in refused:
        update["applied_on"] = None
    if "mandatory" in refused:
        for indicator_id in rubric.mandatory_sid_ids:
            if indicator_id in claims:
                claims[indicator_id] = Claim(level=claims[indicator_id].level, has_evidence=False)
    return facts.model_copy(update=update)


def verified_score(facts: InnovationFacts, decisions: Holding, rubric: Rubric) -> InnovationScore:
    return score_facts(verified_facts(facts, decisions, rubric), rubric)


def verified_reasons(claimed: InnovationScore, decisions: Holding, rubric: Rubric) -> tuple[str, ...]:
    """Why the innovation does not count once verified, in the unit's words: why it does not count as
    claimed, then what the verifier did not accept or has not reviewed yet (empty: it counts verified)."""
    reasons = list(claimed.ineligible_reasons)
    for item, verdict in decisions.eligibility.items():
        if verdict.decision == "not_accepted":
            label = ELIGIBILITY_ITEM_LABELS.get(item, item)
            reasons.append(f"{label} tidak diterima pemverifikasi: {_why(verdict.reason, verdict.note)}.")
    for indicator_id in rubric.mandatory_sid_ids:
        if indicator_id not in claimed.facts.claims:
            continue
        label = f"Indikator wajib {indicator_id} ({rubric.sid[indicator_id].name})"
        decision = decisions.indicators.get(indicator_id)
        if decision is None:
            reasons.append(f"{label} belum diverifikasi.")
        elif decision.decision == "not_accepted":
            reasons.append(f"{label} tidak diterima pemverifikasi: {_why(decision.reason, decision.note)}.")
    return tuple(dict.fromkeys(reasons))


def review_of(verification: Verification, decisions: Holding, claims: Mapping[str, str]) -> Review:
    """How many of the revision's claimed indicators have a decision that holds."""
    return Review(
        decided=sum(1 for key in claims if key in decisions.indicators), total=len(claims), round=verification.round
    )


def _why(reason: str | None, note: str | None) -> str:
    text = NOT_ACCEPTED_REASON_LABELS.get(reason or "", reason or "tanpa alasan")
    return f"{text} ({note})" if note else text


@dataclass(frozen=True)
class Verified:
    """A revision's verified figures: its score as verified, what it brings to its region's verified totals,
    its potential on the verified path, why it does not count verified, and the review's progress."""

    maturity: int = 0
    eligible: bool = False
    contribution: Contribution = field(
        default_factory=lambda: Contribution(eligible=False, maturity=0, yandas_affairs=frozenset())
    )
    potential: int = 0
    facts: Mapping[str, Any] | None = None  # as JSON; None: as claimed with no evidence accepted yet
    reasons: tuple[str, ...] = ()
    review: Review = field(default_factory=lambda: Review(decided=0, total=0))
    decisions: Mapping[str, VerifiedDecision] = field(default_factory=dict)
    points_lost: float = 0  # the maturity points the decisions took away (not those still to review)

    @classmethod
    def of(
        cls,
        claimed: InnovationScore,
        verification: Verification,
        fingerprints: "Fingerprints",
        rubric: Rubric,
    ) -> "Verified":
        decisions = holding(verification, fingerprints.claims, fingerprints.items)
        score = verified_score(claimed.facts, decisions, rubric)
        return cls(
            maturity=score.maturity,
            eligible=score.eligible,
            contribution=score.contribution(),
            potential=improvement_potential(score, rubric),
            facts=score.facts.model_dump(mode="json"),
            reasons=verified_reasons(claimed, decisions, rubric),
            review=review_of(verification, decisions, fingerprints.claims),
            decisions=decisions.indicators,
            points_lost=sum(
                claimed.indicators[key].score - score.indicators[key].score
                for key in decisions.indicators
                if key in claimed.indicators
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "maturity": self.maturity,
            "eligible": self.eligible,
            "contribution": self.contribution.model_dump(mode="json"),
            "potential": self.potential,
            "facts": self.facts,
            "reasons": list(self.reasons),
            "review": self.review.model_dump(mode="json"),
            "decisions": {key: value.model_dump(mode="json") for key, value in self.decisions.items()},
            "points_lost": self.points_lost,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> "Verified":
        """Stored before verification existed: an unreviewed revision (nothing accepted, nothing counts)."""
        if not value:
            return cls()
        return cls(
            maturity=value["maturity"],
            eligible=value["eligible"],
            contribution=Contribution.model_validate(value["contribution"]),
            potential=value["potential"],
            facts=value["facts"],
            reasons=tuple(value["reasons"]),
            review=Review.model_validate(value["review"]),
            decisions={key: VerifiedDecision.model_validate(item) for key, item in value["decisions"].items()},
            points_lost=value.get("points_lost", 0),
        )


@dataclass(frozen=True)
class Fingerprints:
    """What a revision claims, as decisions judge it: per indicator and per eligibility item."""

    claims: Mapping[str, str] = field(default_factory=dict)
    items: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, report: InnovationReport) -> "Fingerprints":
        return cls(
            {key: claim_fingerprint(claim) for key, claim in report.indicators.items()},
            eligibility_fingerprints(report),
        )

    def to_json(self) -> dict[str, Any]:
        return {"claims": dict(self.claims), "items": dict(self.items)}

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> "Fingerprints":
        return cls(**value) if value else cls()
