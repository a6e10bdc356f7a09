"""Facts Inovda publishes on the `inovda.events` exchange, one model per routing key.

Consumers ignore fields they do not know, so a producer may add fields without breaking them.
"""

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .intake import InnovationReport, RegionProfile, UnitUpsert

INTAKE_ACCEPTED = "intake.accepted"
INTAKE_REJECTED = "intake.rejected"
UNKNOWN_SOURCE = "unknown"
# The source of the operator's commands (`ownership.transfer.v1`): it owns no region, and no email answers it.
OPERATOR_SOURCE = "operator"
# Reason codes that refuse the sender rather than fault the message: it may not send this at all (who it is,
# or another source's region, unit or profile). Such an answer is marked `refused`.
REFUSALS = frozenset(
    {
        "unauthenticated",
        "unknown_sender",
        "source_mismatch",
        "region_not_allowed",
        "owned_by_other_source",
        "operator_only",
    }
)


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str]


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    code: str
    message: str


class IntakeAnswer(Event):
    """Exactly one per intake message, on `intake.accepted.<source>` or `intake.rejected.<source>`.

    Emails: a `refused` answer (a reason in REFUSALS: the sender was not who it must be, or wrote for a region,
    unit or profile that is not its own) emails nobody, whatever unit it names: the notification service skips
    it, so that a stranger cannot make Inovda write to a unit. Nor does an answer to the operator.
    """

    routing_key: ClassVar[str] = "intake.*.*"

    status: Literal["accepted", "rejected"]
    message_id: str | None
    intake_routing_key: str
    source: str
    key: dict[str, str | int]
    reasons: list[Reason] = []
    revision: int | None = None
    unchanged: bool = False
    region_code: str | None = None
    unit_code: str | None = None
    title: str | None = None
    received_at: dt.datetime
    # Whether the unit the message names was registered when it was answered (None: it names none). A
    # rejection of a message from an unregistered unit has nobody to email, however long one waits.
    unit_registered: bool | None = None
    refused: bool = False

    @property
    def answer_routing_key(self) -> str:
        prefix = INTAKE_ACCEPTED if self.status == "accepted" else INTAKE_REJECTED
        return f"{prefix}.{self.source}"


class UnitRegistered(Event):
    routing_key: ClassVar[str] = "unit.registered"

    version: int
    unit: UnitUpsert
    registered_at: dt.datetime


class RegionProfileUpdated(Event):
    routing_key: ClassVar[str] = "region.profile.updated"

    version: int
    profile: RegionProfile
    updated_at: dt.datetime


class InnovationSubmitted(Event):
    routing_key: ClassVar[str] = "innovation.submitted"

    revision: int
    innovation: InnovationReport
    submitted_at: dt.datetime


class IndicatorScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: int
    score: float
    has_evidence: bool
    name: str | None = None  # the indicator's name in the year's rubric (so that no reader needs the rubric)


class IndicatorImprovement(BaseModel):
    """An SID indicator of an innovation and the maturity points reaching its top level would gain."""

    model_config = ConfigDict(frozen=True)

    indicator_id: str
    name: str
    level: int  # 0: not filled
    has_evidence: bool
    points: int


class VerifiedDecision(BaseModel):
    """A verifier's decision on one indicator, with what it judged: the claim's level and fingerprint
    (`inovda_shared.contracts.intake.claim_fingerprint`) in the revision it was made on."""

    model_config = ConfigDict(frozen=True)

    decision: Literal["accepted", "accepted_lower", "not_accepted"]
    level: int | None = None
    reason: str | None = None
    note: str | None = None
    judged_level: int
    judged_fingerprint: str
    revision: int  # the revision it was made on
    round: int  # the review round (the verification's version)
    verifier: str


class EligibilityVerdict(BaseModel):
    """A verifier's decision on one eligibility item (design, stage, applied_on, mandatory), with what it
    judged (`inovda_shared.contracts.intake.eligibility_fingerprints`)."""

    model_config = ConfigDict(frozen=True)

    decision: Literal["accepted", "not_accepted"]
    reason: str | None = None
    note: str | None = None
    judged_fingerprint: str
    revision: int
    round: int
    verifier: str


class InnovationVerified(Event):
    """A review round stored by the intake: its decisions, each with what it judged."""

    routing_key: ClassVar[str] = "innovation.verified"

    version: int  # the round's number for this innovation
    source: str
    external_id: str
    region_code: str
    unit_code: str
    year: int
    revision: int
    verifier: str
    indicators: dict[str, VerifiedDecision]
    eligibility: dict[str, EligibilityVerdict] = {}
    note: str | None = None
    verified_at: dt.datetime


class Review(BaseModel):
    """Where the verification of one innovation (or of a region) stands."""

    model_config = ConfigDict(frozen=True)

    decided: int  # indicators with a decision that still holds
    total: int  # indicators claimed
    round: int = 0  # the last review round taken into account (0: none)

    @property
    def share(self) -> float:
        return self.decided / self.total if self.total else 0.0


class InnovationScored(Event):
    routing_key: ClassVar[str] = "innovation.scored"

    source: str
    external_id: str
    unit_code: str
    region_code: str
    year: int
    revision: int
    title: str
    maturity: float
    indicators: dict[str, IndicatorScore]
    eligible: bool
    ineligible_reasons: list[str]
    top_improvements: list[IndicatorImprovement] = []
    # The verified figures: the accepted levels only (an indicator not reviewed or not accepted counts 0).
    verified_maturity: float | None = None
    verified_eligible: bool | None = None
    verified_ineligible_reasons: list[str] = []
    review: Review | None = None
    decisions: dict[str, VerifiedDecision] = {}  # the decisions that hold for this revision
    points_lost: float = 0  # the maturity points the decisions took away (not those still to review)
    reviewed_round: int = 0  # the review round this event reports (0: scored for a new revision)


class PathStep(BaseModel):
    """One concrete action toward the next predicate band, and where the index stands after it."""

    model_config = ConfigDict(frozen=True)

    action: str
    target: str
    description: str
    gain: float
    iid_after: float


Predicate = Literal["Sangat Inovatif", "Inovatif", "Kurang Inovatif", "Tidak Dapat Dinilai"]


class VerifiedIndex(BaseModel):
    model_config = ConfigDict(frozen=True)

    spd: float
    n: int
    average_maturity: float
    count_score: float
    iid: float
    predicate: Predicate
    points_at_risk: float  # claimed IID minus verified IID


class RegionIndexUpdated(Event):
    routing_key: ClassVar[str] = "region.index.updated"

    region_code: str
    year: int
    version: int
    spd: float
    n: int
    divisor: int
    average_maturity: float
    count_score: float
    yandas_covered: list[str]
    yandas_missing: list[str]
    iid: float
    predicate: Predicate
    previous_iid: float | None = None
    previous_predicate: Predicate | None = None
    assumed: list[str]
    next_predicate: Predicate | None = None
    path: list[PathStep]
    # The verified index (the accepted levels only), once the region has started verifying.
    verified: VerifiedIndex | None = None
    review: Review | None = None
    path_on: Literal["claimed", "verified"] = "claimed"  # verified once the region has started verifying


class UnitComplianceUpdated(Event):
    routing_key: ClassVar[str] = "unit.compliance.updated"

    region_code: str
    year: int
    unit_code: str
    version: int = 0
    innovations: Annotated[int, Field(ge=0)]
    eligible: Annotated[int, Field(ge=0)]
    compliant: bool


class NotificationSent(Event):
    routing_key: ClassVar[str] = "notification.sent"

    dedupe_key: str
    kind: str
    recipients: int
    sent_at: dt.datetime
    # Whom the email is about, where it is about one unit (receipts, rejections, scores, reminders).
    region_code: str | None = None
    unit_code: str | None = None
    # False: in doubt. The attempt ended (crash, lost connection) after its commit mark and before the server's
    # answer was recorded; the server may or may not have it. It is not sent again unless an operator asks.
    confirmed: bool = True


class NotificationFailed(Event):
    routing_key: ClassVar[str] = "notification.failed"

    dedupe_key: str
    kind: str
    reason: str
    attempts: int
    failed_at: dt.datetime
    region_code: str | None = None
    unit_code: str | None = None


EVENT_MODELS: dict[str, type[Event]] = {
    model.routing_key: model
    for model in (
        UnitRegistered,
        RegionProfileUpdated,
        InnovationSubmitted,
        InnovationVerified,
        InnovationScored,
        RegionIndexUpdated,
        UnitComplianceUpdated,
        NotificationSent,
        NotificationFailed,
    )
}
