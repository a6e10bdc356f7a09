"""Messages that outside systems publish to the `inovda.intake` exchange, one model per routing key.

Strict: no type coercion (`"3"` is not a level), unknown fields are errors, strings are stripped.
"""

import datetime as dt
import hashlib
import json
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from .fields import (
    Email,
    ExternalId,
    Level,
    LongText,
    Name,
    RegionCode,
    Source,
    UnitCode,
    WebUri,
    Year,
    multi_line_text,
)
from .vocabulary import (
    BENEFIT_INDICATOR_ID,
    GOVERNMENT_AFFAIRS,
    SID_INDICATOR_IDS,
    SPD_INDICATOR_IDS,
    BenefitBasis,
    DecisionKind,
    EligibilityItem,
    Initiator,
    InnovationForm,
    InnovationType,
    NotAcceptedReason,
    Stage,
    UnitKind,
)

EARLIEST_APPLIED_ON = dt.date(1945, 8, 17)


class IntakeModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, str_strip_whitespace=True)
    routing_key: ClassVar[str]

    source: Source
    region_code: RegionCode

    def key(self) -> dict[str, str | int]:
        """What identifies the thing this message is about, echoed in the answer."""
        raise NotImplementedError


def _known_id(allowed: tuple[str, ...], kind: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError(
                "unknown_indicator",
                "'{value}' is not a {kind} indicator id (expected one of {allowed})",
                {"value": value[:20], "kind": kind, "allowed": ", ".join(allowed)},
            )
        return value

    return AfterValidator(check)


def _known_affair(value: str) -> str:
    if value not in GOVERNMENT_AFFAIRS:
        raise PydanticCustomError(
            "unknown_value", "'{value}' is not a government affair slug (see the README)", {"value": value[:60]}
        )
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


SidIndicatorId = Annotated[str, _known_id(SID_INDICATOR_IDS, "SID")]
SpdIndicatorId = Annotated[str, _known_id(SPD_INDICATOR_IDS, "SPD")]
Affair = Annotated[str, AfterValidator(_known_affair)]


class UnitUpsert(IntakeModel):
    routing_key: ClassVar[str] = "unit.upsert.v1"

    unit_code: UnitCode
    name: Name
    kind: UnitKind
    parent_code: UnitCode | None = None
    emails: Annotated[list[Email], Field(min_length=1, max_length=20), AfterValidator(_unique)]
    mentor_emails: Annotated[list[Email], Field(max_length=20), AfterValidator(_unique)] = []
    active: bool = True

    def key(self) -> dict[str, str | int]:
        return {"region_code": self.region_code, "unit_code": self.unit_code}


class RegionProfile(IntakeModel):
    routing_key: ClassVar[str] = "region.profile.v1"

    year: Year
    admin_emails: Annotated[list[Email], Field(min_length=1, max_length=20), AfterValidator(_unique)]
    spd: dict[SpdIndicatorId, Level]

    def key(self) -> dict[str, str | int]:
        return {"region_code": self.region_code, "year": self.year}


class Evidence(BaseModel):
    model_config = IntakeModel.model_config

    title: Name
    uri: WebUri


class IndicatorClaim(BaseModel):
    model_config = IntakeModel.model_config

    level: Level
    evidence: Annotated[list[Evidence], Field(max_length=50)] = []
    basis: BenefitBasis | None = None


class InnovationReport(IntakeModel):
    routing_key: ClassVar[str] = "innovation.report.v1"

    external_id: ExternalId
    unit_code: UnitCode
    year: Year
    title: Name
    form: InnovationForm
    type: InnovationType
    initiator: Initiator
    stage: Stage
    urusan: Annotated[list[Affair], Field(min_length=1, max_length=40), AfterValidator(_unique)]
    applied_on: dt.date | None = None
    design: LongText
    goals: LongText
    benefits: LongText
    results: LongText | None = None
    indicators: dict[SidIndicatorId, IndicatorClaim]

    @model_validator(mode="after")
    def _cross_field_rules(self) -> "InnovationReport":
        if self.stage == "penerapan" and self.applied_on is None:
            raise PydanticCustomError(
                "missing", "applied_on is required when stage is penerapan", {"field": "applied_on"}
            )
        if self.applied_on is not None and not (EARLIEST_APPLIED_ON <= self.applied_on <= dt.date(self.year, 12, 31)):
            raise PydanticCustomError(
                "out_of_range",
                "applied_on {applied_on} must lie between {earliest} and the end of the assessment year {year}",
                {
                    "field": "applied_on",
                    "applied_on": self.applied_on.isoformat(),
                    "earliest": EARLIEST_APPLIED_ON.isoformat(),
                    "year": self.year,
                },
            )
        for indicator_id, claim in self.indicators.items():
            if indicator_id == BENEFIT_INDICATOR_ID and claim.basis is None:
                raise PydanticCustomError(
                    "missing",
                    "indicator 33 needs a basis (a..f: people, unit coverage, efficiency, revenue, products, trend)",
                    {"field": f"indicators.{indicator_id}.basis"},
                )
            if indicator_id != BENEFIT_INDICATOR_ID and claim.basis is not None:
                raise PydanticCustomError(
                    "unknown_field",
                    "only indicator 33 takes a basis",
                    {"field": f"indicators.{indicator_id}.basis"},
                )
        return self

    def key(self) -> dict[str, str | int]:
        return {"external_id": self.external_id}


Note = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(multi_line_text)]


def _reasoned(decision: str, reason: str | None, note: str | None) -> None:
    if decision == "not_accepted" and reason is None:
        raise PydanticCustomError("missing", "a decision not_accepted needs its reason", {"field": "reason"})
    if decision != "not_accepted" and reason is not None:
        raise PydanticCustomError("unknown_field", "only a decision not_accepted has a reason", {"field": "reason"})
    if reason == "other" and note is None:
        raise PydanticCustomError("missing", "the reason 'other' needs a note saying what it is", {"field": "note"})


class IndicatorDecision(BaseModel):
    """One indicator of one revision, as the verifier judged its evidence."""

    model_config = IntakeModel.model_config

    decision: DecisionKind
    level: Level | None = None  # accepted_lower: the level accepted, below the claimed one
    reason: NotAcceptedReason | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _complete(self) -> "IndicatorDecision":
        _reasoned(self.decision, self.reason, self.note)
        if self.decision == "accepted_lower" and self.level is None:
            raise PydanticCustomError("missing", "accepted_lower needs the level accepted", {"field": "level"})
        if self.decision != "accepted_lower" and self.level is not None:
            raise PydanticCustomError("unknown_field", "only accepted_lower names a level", {"field": "level"})
        return self


class EligibilityDecision(BaseModel):
    model_config = IntakeModel.model_config

    decision: Literal["accepted", "not_accepted"]
    reason: NotAcceptedReason | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _complete(self) -> "EligibilityDecision":
        _reasoned(self.decision, self.reason, self.note)
        return self


class InnovationVerification(IntakeModel):
    """One review round of one revision of an innovation: the verifier's decision on some or all of its SID
    indicators (and, if need be, its eligibility items), indicator by indicator. A later round on the same
    revision replaces the decisions it names; a new revision keeps the decisions on indicators it left
    unchanged (same level, same evidence) and resets the others."""

    routing_key: ClassVar[str] = "innovation.verification.v1"

    innovation_source: Source  # the source that reported the innovation (its `external_id` is that source's)
    external_id: ExternalId
    revision: Annotated[int, Field(ge=1)]
    year: Year
    verifier: Name  # who decided (the verifier's account), kept with the decision's history
    indicators: Annotated[dict[SidIndicatorId, IndicatorDecision], Field(max_length=20)] = {}
    eligibility: dict[EligibilityItem, EligibilityDecision] = {}
    note: Note | None = None

    @model_validator(mode="after")
    def _decides_something(self) -> "InnovationVerification":
        if not self.indicators and not self.eligibility:
            raise PydanticCustomError(
                "missing", "a review round decides at least one indicator", {"field": "indicators"}
            )
        return self

    def key(self) -> dict[str, str | int]:
        return {"innovation_source": self.innovation_source, "external_id": self.external_id, "revision": self.revision}


def claim_fingerprint(claim: IndicatorClaim) -> str:
    """What a decision on an indicator judged (its level, basis and evidence): a new revision whose claim has
    another fingerprint resets the decision."""
    judged = [claim.level, claim.basis, sorted((item.title, item.uri) for item in claim.evidence)]
    return hashlib.sha256(json.dumps(judged, separators=(",", ":")).encode()).hexdigest()[:16]


def eligibility_fingerprints(report: InnovationReport) -> dict[str, str]:
    """What a decision on each eligibility item judged: the design, the stage, the dates, the mandatory
    indicators' claims (the last by `claim_fingerprint`, as each indicator's own decision is)."""
    judged: dict[str, object] = {
        "design": report.design,
        "stage": report.stage,
        "applied_on": report.applied_on.isoformat() if report.applied_on else None,
        "mandatory": sorted((key, claim_fingerprint(claim)) for key, claim in report.indicators.items()),
    }
    return {
        item: hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()[:16]
        for item, value in judged.items()
    }


INTAKE_MODELS: dict[str, type[IntakeModel]] = {
    model.routing_key: model for model in (UnitUpsert, RegionProfile, InnovationReport, InnovationVerification)
}

__all__ = [
    "INTAKE_MODELS",
    "EligibilityDecision",
    "Evidence",
    "IndicatorClaim",
    "IndicatorDecision",
    "InnovationReport",
    "InnovationVerification",
    "IntakeModel",
    "RegionProfile",
    "UnitUpsert",
]
