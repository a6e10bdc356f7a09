"""What the portal keeps, built only from the events it consumes (it reads no other service's database).

Shaped for the pages, so that each page reads a handful of documents by `_id` (FerretDB: see
inovda_shared.mongo): per region its units (`RegionDirectory`), per region and year everything the overview
and the compliance page show (`RegionYear`), per innovation its revisions, scores and intake answers
(`InnovationRecord`), per unit the emails sent about it (`UnitActivity`).
"""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from inovda_scoring.domain import Contribution
from inovda_shared.contracts.events import (
    EligibilityVerdict,
    IndicatorImprovement,
    IndicatorScore,
    PathStep,
    Predicate,
    Reason,
    Review,
    VerifiedDecision,
    VerifiedIndex,
)


class _Frozen(BaseModel):
    """A value of the read model. Never change one in place, nor the dicts and tuples it holds: the store
    shares one parsed model between every page that reads the same stored bytes (`PortalStore`), and the
    projection makes each change a copy (`model_copy(update=...)`, `{**old, key: new}`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class UnitEntry(_Frozen):
    unit_code: str
    name: str
    kind: str
    parent_code: str | None = None
    emails: tuple[str, ...] = ()
    mentor_emails: tuple[str, ...] = ()
    active: bool = True
    version: int


class RegionDirectory(_Frozen):
    """A region's registered units (from `unit.registered`) and the assessment years it has data for."""

    region_code: str
    units: dict[str, UnitEntry] = {}
    years: tuple[int, ...] = ()


class IndexPoint(_Frozen):
    """One version of a region's index, for the chart through the year."""

    version: int
    at: dt.datetime
    iid: float
    predicate: Predicate


class IndexSnapshot(_Frozen):
    """The latest `region.index.updated` of a region-year: scoring's own figures."""

    version: int
    at: dt.datetime
    spd: float
    n: int
    divisor: int
    average_maturity: float
    count_score: float
    yandas_covered: tuple[str, ...]
    yandas_missing: tuple[str, ...]
    iid: float
    predicate: Predicate
    next_predicate: Predicate | None
    assumed: tuple[str, ...] = ()
    path: tuple[PathStep, ...] = ()
    # Once the region verifies: the index of the accepted levels only, the review's progress, and the path
    # planned on the verified figure.
    verified: VerifiedIndex | None = None
    review: Review | None = None
    path_on: str = "claimed"

    @property
    def sid(self) -> float:
        """SID = the average maturity term plus the innovation-count score."""
        return round(self.average_maturity + self.count_score, 2)


class UnitCounts(_Frozen):
    """A unit's innovations of the year as scoring counts them (`unit.compliance.updated`)."""

    version: int
    innovations: int
    eligible: int
    compliant: bool


class Verified(_Frozen):
    """A revision as verified (`innovation.scored`'s verified figures): what counts of it, and how far its
    review has come."""

    reviewed_round: int = 0
    maturity: float = 0
    eligible: bool = False
    review: Review = Review(decided=0, total=0)
    points_lost: float = 0

    @property
    def waiting(self) -> bool:
        """Some claimed indicator still has no decision that holds."""
        return self.review.decided < self.review.total


class InnovationSummary(_Frozen):
    """An innovation of the region-year in a line: enough for the unit page, the what-if and the review queue."""

    source: str
    external_id: str
    unit_code: str
    title: str
    revision: int
    submitted_at: dt.datetime
    scored_revision: int | None = None
    maturity: float | None = None
    eligible: bool | None = None
    # Its latest revision's contribution to the region, computed with scoring's own rules (None: no rubric).
    contribution: Contribution | None = None
    verified: Verified | None = None  # None: not scored yet

    @property
    def key(self) -> str:
        return innovation_key(self.source, self.external_id)


class EarlyScore(_Frozen):
    """A score that arrived before its revision did (events of one fact travel apart)."""

    revision: int
    maturity: float
    eligible: bool
    verified: Verified | None = None


class RegionYear(_Frozen):
    region_code: str
    year: int
    profile_version: int = 0
    spd_levels: dict[str, int] = {}
    admin_emails: tuple[str, ...] = ()
    index: IndexSnapshot | None = None
    history: tuple[IndexPoint, ...] = ()
    compliance: dict[str, UnitCounts] = {}
    innovations: dict[str, InnovationSummary] = {}
    early_scores: dict[str, EarlyScore] = {}
    # The last time each unit reported something for this year (accepted or not).
    activity: dict[str, dt.datetime] = {}


class ScoreEntry(_Frozen):
    """What scoring said of one revision (`innovation.scored`)."""

    maturity: float
    eligible: bool
    indicators: dict[str, IndicatorScore]
    ineligible_reasons: tuple[str, ...]
    top_improvements: tuple[IndicatorImprovement, ...] = ()
    verified: Verified = Verified()
    verified_reasons: tuple[str, ...] = ()
    decisions: dict[str, VerifiedDecision] = {}  # those that hold for this revision


class RevisionEntry(_Frozen):
    revision: int
    submitted_at: dt.datetime
    report: dict[str, Any]  # the normalised `innovation.report.v1` body, as submission accepted it
    score: ScoreEntry | None = None


AnswerStatus = Literal["accepted", "rejected"]


class AnswerEntry(_Frozen):
    """One intake answer about an innovation: accepted (as which revision) or rejected with every reason."""

    message_id: str | None
    status: AnswerStatus
    revision: int | None  # of a review round: its round number
    unchanged: bool
    reasons: tuple[Reason, ...]
    received_at: dt.datetime
    kind: Literal["report", "review"] = "report"


class ReviewEntry(_Frozen):
    """One review round (`innovation.verified`): who decided what on which revision, and when."""

    round: int
    revision: int
    verifier: str
    at: dt.datetime
    indicators: dict[str, VerifiedDecision]
    eligibility: dict[str, EligibilityVerdict] = {}
    note: str | None = None


class InnovationRecord(_Frozen):
    source: str
    external_id: str
    region_code: str | None = None
    year: int | None = None
    unit_code: str | None = None
    revisions: dict[int, RevisionEntry] = {}
    answers: tuple[AnswerEntry, ...] = ()
    reviews: tuple[ReviewEntry, ...] = ()  # oldest first

    @property
    def latest(self) -> RevisionEntry | None:
        return self.revisions[max(self.revisions)] if self.revisions else None


EmailStatus = Literal["sent", "in_doubt", "failed"]


class EmailEntry(_Frozen):
    dedupe_key: str
    kind: str
    at: dt.datetime
    status: EmailStatus
    recipients: int = 0


class UnitActivity(_Frozen):
    """The emails Inovda sent about one unit (`notification.sent` / `notification.failed`)."""

    region_code: str
    unit_code: str
    emails: dict[str, EmailEntry] = {}


def innovation_key(source: str, external_id: str) -> str:
    return f"{source}/{external_id}"


def region_year_key(region_code: str, year: int) -> str:
    return f"{region_code}/{year}"


def unit_key(region_code: str, unit_code: str) -> str:
    return f"{region_code}/{unit_code}"
