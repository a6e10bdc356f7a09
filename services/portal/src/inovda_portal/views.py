"""The portal's queries: what each page shows, for one account. Read-only.

Each view checks the account against the rules of `domain.access` and returns None for what the account may
not see (the page then answers 404).
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from inovda_notification.domain.reasons import ExplainedReason, explain
from inovda_scoring.domain import (
    InnovationScore,
    Rubric,
    UnknownRubricYear,
    available_years,
    load_rubric,
    score_innovation,
)
from inovda_shared.contracts.events import IndicatorImprovement, IndicatorScore, PathStep, VerifiedDecision
from inovda_shared.contracts.intake import InnovationReport
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, ELIGIBILITY_ITEM_LABELS, UNIT_KIND_LABELS

from .adapters.store import PortalStore
from .domain.access import Account, may_report_for, may_verify, may_view_region, may_view_unit, visible_units
from .domain.charts import BarChart, LineChart, bar_chart, line_chart
from .domain.forms import FieldProblem, FormData, ReportForm, form_of_report
from .domain.model import (
    AnswerEntry,
    EmailEntry,
    IndexSnapshot,
    InnovationRecord,
    InnovationSummary,
    RegionYear,
    ReviewEntry,
    RevisionEntry,
    UnitCounts,
    UnitEntry,
    Verified,
    innovation_key,
)
from .domain.review import DecisionInput, ReviewForm
from .domain.simulation import Simulation, WhatIfForm, read_what_if, simulate, unique_scores

Clock = Callable[[], dt.datetime]
AFFAIR_LABELS = {affair: affair.replace("_", " ") for affair in BASIC_SERVICE_AFFAIRS}


def rubric_or_none(year: int) -> Rubric | None:
    try:
        return load_rubric(year)
    except UnknownRubricYear:
        return None


@dataclass(frozen=True)
class Band:
    predicate: str
    low: float
    high: float


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    total: int
    compliant: int


@dataclass(frozen=True)
class OverviewView:
    region_code: str
    year: int
    years: tuple[int, ...]
    index: IndexSnapshot | None
    bands: tuple[Band, ...]
    empty_seats: int
    min_divisor: int | None
    history: LineChart | None
    across_years: LineChart | None
    kinds: tuple[KindRow, ...]
    kinds_chart: BarChart | None
    units: int
    compliant_units: int
    path: tuple[PathStep, ...]
    yandas_covered: tuple[str, ...]
    yandas_missing: tuple[str, ...]
    waiting_review: int  # innovations with an indicator still to decide
    may_verify: bool


SortKey = Literal["status", "nama", "jenis", "inovasi", "memenuhi", "aktivitas"]
SORT_KEYS: tuple[SortKey, ...] = ("status", "nama", "jenis", "inovasi", "memenuhi", "aktivitas")


@dataclass(frozen=True)
class ComplianceRow:
    unit_code: str
    name: str
    kind: str
    kind_label: str
    innovations: int
    eligible: int
    compliant: bool
    mentors: tuple[str, ...]
    last_activity: dt.datetime | None
    points_lost: float = 0  # maturity points the verifier's decisions took from its innovations
    lost_in: int = 0  # how many of its innovations lost points


@dataclass(frozen=True)
class ComplianceView:
    region_code: str
    year: int
    years: tuple[int, ...]
    rows: tuple[ComplianceRow, ...]
    total: int
    compliant: int
    kinds: tuple[tuple[str, str], ...]  # (kind, label) present in the region
    sort: SortKey
    descending: bool
    kind: str
    status: str
    query: str


@dataclass(frozen=True)
class InnovationLine:
    summary: InnovationSummary
    status: str  # in words: accepted and waiting for its score, scored and counted, or why not


@dataclass(frozen=True)
class UnitView:
    region_code: str
    year: int
    years: tuple[int, ...]
    unit: UnitEntry
    counts: UnitCounts | None
    innovations: tuple[InnovationLine, ...]
    emails: tuple[EmailEntry, ...]
    may_report: bool
    may_view_region: bool


@dataclass(frozen=True)
class IndicatorRow:
    indicator_id: str
    name: str
    weight: int | None
    mandatory: bool
    level: int | None
    basis: str | None
    evidence: tuple[tuple[str, str], ...]
    points: float | None
    has_evidence: bool
    decision: VerifiedDecision | None = None  # the verifier's, when one holds for this revision


@dataclass(frozen=True)
class RevisionView:
    revision: int
    submitted_at: dt.datetime | None
    title: str
    stage: str
    applied_on: str
    urusan: tuple[str, ...]
    indicators: tuple[IndicatorRow, ...]
    maturity: float | None
    eligible: bool | None
    ineligible_reasons: tuple[str, ...]
    top_improvements: tuple[IndicatorImprovement, ...]
    verified: Verified | None = None
    verified_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerView:
    entry: AnswerEntry
    reasons: tuple[ExplainedReason, ...]


@dataclass(frozen=True)
class InnovationView:
    record: InnovationRecord
    unit: UnitEntry | None
    revisions: tuple[RevisionView, ...]
    answers: tuple[AnswerView, ...]
    may_revise: bool
    may_verify: bool = False
    reviews: tuple[ReviewEntry, ...] = ()  # newest first


@dataclass(frozen=True)
class QueueLine:
    summary: InnovationSummary
    unit_name: str
    decided: int
    total: int


@dataclass(frozen=True)
class ReviewQueueView:
    region_code: str
    year: int
    years: tuple[int, ...]
    waiting: tuple[QueueLine, ...]  # oldest first
    reviewed: int  # innovations whose every claimed indicator has a decision


@dataclass(frozen=True)
class ReviewRow:
    indicator: IndicatorRow
    current: VerifiedDecision | None  # the decision that holds now, if any
    input: DecisionInput


@dataclass(frozen=True)
class ReviewFormView:
    region_code: str
    year: int
    record: InnovationRecord
    unit: UnitEntry
    revision: RevisionView
    rows: tuple[ReviewRow, ...]  # the claimed indicators, in the rubric's order
    eligibility: tuple[tuple[str, str, DecisionInput], ...]  # (item, label, input)
    note: str


@dataclass(frozen=True)
class WhatIfView:
    region_code: str
    year: int
    years: tuple[int, ...]
    rubric: Rubric
    spd_levels: dict[str, int]
    innovations: tuple[InnovationSummary, ...]
    form: WhatIfForm
    simulation: Simulation | None
    current_iid: float | None


@dataclass(frozen=True)
class ReportFormView:
    region_code: str
    unit: UnitEntry
    year: int
    years: tuple[int, ...]
    rubric: Rubric
    form: ReportForm
    external_id: str | None  # None: a new innovation
    title: str
    problems: dict[str, list[FieldProblem]] = field(default_factory=dict)


class PortalViews:
    def __init__(self, store: PortalStore, intake_source: str, clock: Clock, timezone: ZoneInfo) -> None:
        self._store = store
        self._source = intake_source
        self._clock = clock
        self._timezone = timezone  # the region's local time, in which the charts' times are written

    async def years(self, region_code: str) -> tuple[int, ...]:
        known = (await self._store.directory(region_code)).years
        return known or (self._clock().year,)

    async def default_year(self, region_code: str) -> int:
        return max(await self.years(region_code))

    # --- overview --------------------------------------------------------------------------------

    async def overview(self, account: Account, region_code: str, year: int) -> OverviewView | None:
        if not may_view_region(account, region_code):
            return None
        region = await self._store.region_year(region_code, year)
        directory = await self._store.directory(region_code)
        rubric = rubric_or_none(year)
        bands = (
            tuple(Band(name, float(band.min), float(band.max)) for name, band in reversed(rubric.ordered_bands()))
            if rubric
            else ()
        )
        index = region.index
        history = None
        if region.history:
            points = [(f"{point.at.astimezone(self._timezone):%d/%m %H.%M}", point.iid) for point in region.history]
            history = line_chart(points, [(band.predicate, band.low) for band in bands if band.low > 0])
        across = []
        for other_year in directory.years:
            other = region if other_year == year else await self._store.region_year(region_code, other_year)
            if other.index is not None:
                across.append((str(other_year), other.index.iid))
        active = [unit for unit in directory.units.values() if unit.active]
        total = Counter(unit.kind for unit in active)
        done = Counter(unit.kind for unit in active if _compliant(region.compliance.get(unit.unit_code)))
        kinds = tuple(
            KindRow(kind, label, total[kind], done[kind]) for kind, label in UNIT_KIND_LABELS.items() if total[kind]
        )
        n = index.n if index else 0
        return OverviewView(
            region_code=region_code,
            year=year,
            years=await self.years(region_code),
            index=index,
            bands=bands,
            empty_seats=max((rubric.min_divisor if rubric else 0) - n, 0),
            min_divisor=rubric.min_divisor if rubric else None,
            history=history,
            across_years=line_chart(across, []) if len(across) > 1 else None,
            kinds=kinds,
            kinds_chart=bar_chart([(row.label, row.total, row.compliant) for row in kinds]) if kinds else None,
            units=len(active),
            compliant_units=sum(done.values()),
            path=index.path if index else (),
            yandas_covered=tuple(AFFAIR_LABELS.get(a, a) for a in (index.yandas_covered if index else ())),
            yandas_missing=tuple(
                AFFAIR_LABELS.get(a, a) for a in (index.yandas_missing if index else BASIC_SERVICE_AFFAIRS)
            ),
            waiting_review=len(_waiting_review(region)),
            may_verify=may_verify(account, region_code),
        )

    # --- compliance ------------------------------------------------------------------------------

    async def compliance(
        self,
        account: Account,
        region_code: str,
        year: int,
        sort: str = "status",
        descending: bool = False,
        kind: str = "",
        status: str = "",
        query: str = "",
    ) -> ComplianceView | None:
        if not may_view_region(account, region_code):
            return None
        region = await self._store.region_year(region_code, year)
        directory = await self._store.directory(region_code)
        units = [unit for unit in visible_units(account, region_code, directory.units.values()) if unit.active]
        lost_by_unit = _points_lost_by_unit(region)
        all_rows = [_compliance_row(unit, region, lost_by_unit.get(unit.unit_code, [])) for unit in units]
        rows = [
            row
            for row in all_rows
            if (not kind or row.kind == kind)
            and (not status or (status == "sudah") == row.compliant)
            and (not query or query.lower() in f"{row.name} {row.unit_code}".lower())
        ]
        chosen: SortKey = sort if sort in SORT_KEYS else "status"
        rows.sort(key=_sort_key(chosen), reverse=descending)
        kinds = tuple(
            (name, label) for name, label in UNIT_KIND_LABELS.items() if any(row.kind == name for row in all_rows)
        )
        return ComplianceView(
            region_code=region_code,
            year=year,
            years=await self.years(region_code),
            rows=tuple(rows),
            total=len(all_rows),
            compliant=sum(1 for row in all_rows if row.compliant),
            kinds=kinds,
            sort=chosen,
            descending=descending,
            kind=kind,
            status=status,
            query=query,
        )

    # --- unit ------------------------------------------------------------------------------------

    async def unit(self, account: Account, region_code: str, unit_code: str, year: int) -> UnitView | None:
        unit = (await self._store.directory(region_code)).units.get(unit_code)
        if unit is None or not may_view_unit(account, region_code, unit):
            return None
        region = await self._store.region_year(region_code, year)
        lines = tuple(
            InnovationLine(summary, _status(summary))
            for summary in sorted(region.innovations.values(), key=lambda item: item.submitted_at, reverse=True)
            if summary.unit_code == unit_code
        )
        activity = await self._store.activity(region_code, unit_code)
        emails = tuple(sorted(activity.emails.values(), key=lambda entry: entry.at, reverse=True))
        return UnitView(
            region_code=region_code,
            year=year,
            years=await self.years(region_code),
            unit=unit,
            counts=region.compliance.get(unit_code),
            innovations=lines,
            emails=emails,
            may_report=may_report_for(account, region_code, unit),
            may_view_region=may_view_region(account, region_code),
        )

    # --- innovation ------------------------------------------------------------------------------

    async def innovation(self, account: Account, source: str, external_id: str) -> InnovationView | None:
        record = await self._store.innovation(source, external_id)
        if record.region_code is None or record.unit_code is None:
            return None
        unit = (await self._store.directory(record.region_code)).units.get(record.unit_code)
        if unit is None or not may_view_unit(account, record.region_code, unit):
            return None
        revisions = tuple(
            _revision_view(entry, record.year)
            for _, entry in sorted(record.revisions.items(), reverse=True)
            if entry.report
        )
        answers = tuple(
            AnswerView(answer, tuple(explain(reason) for reason in answer.reasons))
            for answer in reversed(record.answers)
        )
        return InnovationView(
            record=record,
            unit=unit,
            revisions=revisions,
            answers=answers,
            may_revise=source == self._source and may_report_for(account, record.region_code, unit),
            may_verify=may_verify(account, record.region_code),
            reviews=tuple(reversed(record.reviews)),
        )

    # --- review ----------------------------------------------------------------------------------

    async def review_queue(self, account: Account, region_code: str, year: int) -> ReviewQueueView | None:
        if not may_verify(account, region_code):
            return None
        region = await self._store.region_year(region_code, year)
        units = (await self._store.directory(region_code)).units
        waiting = tuple(
            QueueLine(
                summary,
                units[summary.unit_code].name if summary.unit_code in units else summary.unit_code,
                summary.verified.review.decided if summary.verified else 0,
                summary.verified.review.total if summary.verified else 0,
            )
            for summary in _waiting_review(region)
        )
        scored = sum(1 for summary in region.innovations.values() if summary.verified is not None)
        return ReviewQueueView(
            region_code=region_code,
            year=year,
            years=await self.years(region_code),
            waiting=waiting,
            reviewed=scored - len(waiting),
        )

    async def review_form(
        self, account: Account, source: str, external_id: str, form: ReviewForm | None = None
    ) -> ReviewFormView | None:
        """The latest revision's claimed indicators beside their evidence and their current decisions."""
        record = await self._store.innovation(source, external_id)
        if record.region_code is None or record.unit_code is None or record.year is None:
            return None
        if not may_verify(account, record.region_code):
            return None
        unit = (await self._store.directory(record.region_code)).units.get(record.unit_code)
        latest = record.latest
        if unit is None or latest is None or not latest.report:
            return None
        revision = _revision_view(latest, record.year)
        decisions = latest.score.decisions if latest.score else {}
        claimed = tuple(row for row in revision.indicators if row.level is not None)
        rows = tuple(
            ReviewRow(
                row,
                decisions.get(row.indicator_id),
                form.indicator(row.indicator_id) if form else DecisionInput.of(decisions.get(row.indicator_id)),
            )
            for row in claimed
        )
        items = tuple(
            (item, label, form.item(item) if form else DecisionInput())
            for item, label in ELIGIBILITY_ITEM_LABELS.items()
        )
        return ReviewFormView(
            region_code=record.region_code,
            year=record.year,
            record=record,
            unit=unit,
            revision=revision,
            rows=rows,
            eligibility=items,
            note=form.note if form else "",
        )

    # --- what-if ---------------------------------------------------------------------------------

    async def what_if(self, account: Account, region_code: str, year: int, data: FormData | None) -> WhatIfView | None:
        if not may_view_region(account, region_code):
            return None
        rubric = rubric_or_none(year)
        if rubric is None:
            return None
        region = await self._store.region_year(region_code, year)
        directory = await self._store.directory(region_code)
        visible = {unit.unit_code for unit in visible_units(account, region_code, directory.units.values())}
        innovations = tuple(
            sorted(
                (summary for summary in region.innovations.values() if summary.unit_code in visible),
                key=lambda item: item.title,
            )
        )
        form = read_what_if(data or {}, region, rubric, {summary.key for summary in innovations})
        scores = {}
        for key in form.innovation_keys:
            summary = region.innovations[key]
            score = await self._score_of(summary, rubric)
            if score is not None:
                scores[key] = score
        simulation = simulate(region, form.changes, unique_scores(scores), rubric) if data is not None else None
        return WhatIfView(
            region_code=region_code,
            year=year,
            years=await self.years(region_code),
            rubric=rubric,
            spd_levels=dict(region.spd_levels),
            innovations=innovations,
            form=form,
            simulation=simulation,
            current_iid=region.index.iid if region.index else None,
        )

    async def _score_of(self, summary: InnovationSummary, rubric: Rubric) -> InnovationScore | None:
        record = await self._store.innovation(summary.source, summary.external_id)
        latest = record.revisions.get(summary.revision)
        if latest is None or not latest.report:
            return None
        return score_innovation(InnovationReport.model_validate(latest.report, strict=False), rubric)

    # --- the report form -------------------------------------------------------------------------

    async def report_form(
        self, account: Account, region_code: str, unit_code: str, year: int, external_id: str | None
    ) -> ReportFormView | None:
        unit = (await self._store.directory(region_code)).units.get(unit_code)
        if unit is None or not unit.active or not may_report_for(account, region_code, unit):
            return None
        form = ReportForm()
        title = "Laporkan inovasi baru"
        if external_id is not None:
            record = await self._store.innovation(self._source, external_id)
            latest = record.latest
            if record.unit_code != unit_code or latest is None or not latest.report:
                return None
            form = form_of_report(latest.report)
            year = record.year or year
            title = f"Revisi inovasi '{latest.report.get('title', external_id)}'"
        rubric = rubric_or_none(year)
        if rubric is None:
            return None
        return ReportFormView(
            region_code=region_code,
            unit=unit,
            year=year,
            years=tuple(year for year in available_years() if year >= self._clock().year - 1),
            rubric=rubric,
            form=form,
            external_id=external_id,
            title=title,
        )

    async def reporting_unit(self, account: Account, region_code: str, unit_code: str) -> UnitEntry | None:
        unit = (await self._store.directory(region_code)).units.get(unit_code)
        if unit is None or not unit.active or not may_report_for(account, region_code, unit):
            return None
        return unit

    async def submission(self, account: Account, message_id: str) -> "SubmissionView | None":
        """A report this account sent from the portal, and the intake's answer once it came."""
        sent = await self._store.submission(message_id)
        if sent is None or sent["username"] != account.username:
            return None
        record = await self._store.innovation(sent["source"], sent["external_id"])
        answer = next((entry for entry in record.answers if entry.message_id == message_id), None)
        kind = sent.get("kind", "report")
        if kind == "review":
            # Taken in once its revision's score reports the round (or the round changed nothing).
            revision = record.revisions.get(sent["body"]["revision"])
            round_number = answer.revision if answer and answer.revision else None
            score = revision.score if revision else None
            scored = bool(answer and answer.unchanged) or bool(
                round_number and score and score.verified.reviewed_round >= round_number
            )
        else:
            scored = bool(answer and answer.revision and (rev := record.revisions.get(answer.revision)) and rev.score)
        return SubmissionView(
            message_id=message_id,
            region_code=sent["region_code"],
            unit_code=sent["unit_code"],
            year=sent["year"],
            source=sent["source"],
            external_id=sent["external_id"],
            body=sent["body"],
            sent_at=sent["at"],
            answer=answer,
            scored=scored,
            reported=any(entry.report for entry in record.revisions.values()),
            kind=kind,
        )

    # --- exports ---------------------------------------------------------------------------------

    @staticmethod
    def compliance_table(view: ComplianceView) -> tuple[list[str], list[list[str | int | float | bool | None]]]:
        header = [
            "Kode unit",
            "Nama unit",
            "Jenis",
            "Inovasi dilaporkan",
            "Memenuhi syarat",
            "Patuh",
            "Pendamping",
            "Aktivitas terakhir",
            "Poin hilang saat verifikasi",
        ]
        rows: list[list[str | int | float | bool | None]] = [
            [
                row.unit_code,
                row.name,
                row.kind_label,
                row.innovations,
                row.eligible,
                "sudah" if row.compliant else "belum",
                ", ".join(row.mentors),
                row.last_activity.isoformat(timespec="minutes") if row.last_activity else "",
                row.points_lost,
            ]
            for row in view.rows
        ]
        return header, rows


@dataclass(frozen=True)
class SubmissionView:
    message_id: str
    region_code: str
    unit_code: str
    year: int
    source: str
    external_id: str
    body: dict[str, Any]
    sent_at: dt.datetime
    answer: AnswerEntry | None
    scored: bool  # a review round: taken into the verified figures
    reported: bool  # the innovation exists (a revision was accepted): a re-sent form revises it
    kind: Literal["report", "review"] = "report"

    @property
    def key(self) -> str:
        return innovation_key(self.source, self.external_id)


def _compliant(counts: UnitCounts | None) -> bool:
    return counts is not None and counts.compliant


def _points_lost_by_unit(region: RegionYear) -> dict[str, list[float]]:
    """The points each unit's innovations lost in verification, those that lost any: one pass over the region's
    innovations for the whole table, not one per unit."""
    lost: dict[str, list[float]] = {}
    for summary in region.innovations.values():
        if summary.verified is not None and summary.verified.points_lost > 0:
            lost.setdefault(summary.unit_code, []).append(summary.verified.points_lost)
    return lost


def _compliance_row(unit: UnitEntry, region: RegionYear, lost: list[float]) -> ComplianceRow:
    """`lost`: the points the unit's innovations lost in verification (`_points_lost_by_unit`)."""
    counts = region.compliance.get(unit.unit_code)
    return ComplianceRow(
        points_lost=sum(lost),
        lost_in=len(lost),
        unit_code=unit.unit_code,
        name=unit.name,
        kind=unit.kind,
        kind_label=UNIT_KIND_LABELS.get(unit.kind, unit.kind),
        innovations=counts.innovations if counts else 0,
        eligible=counts.eligible if counts else 0,
        compliant=_compliant(counts),
        mentors=unit.mentor_emails,
        last_activity=region.activity.get(unit.unit_code),
    )


def _sort_key(sort: SortKey) -> Callable[[ComplianceRow], tuple[object, ...]]:
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    keys: dict[SortKey, Callable[[ComplianceRow], tuple[object, ...]]] = {
        # Units without an innovation first, as `inovda report` lists them.
        "status": lambda row: (row.compliant, row.kind, row.name),
        "nama": lambda row: (row.name.lower(),),
        "jenis": lambda row: (row.kind, row.name.lower()),
        "inovasi": lambda row: (row.innovations, row.name.lower()),
        "memenuhi": lambda row: (row.eligible, row.name.lower()),
        "aktivitas": lambda row: (row.last_activity or never, row.name.lower()),
    }
    return keys[sort]


def _status(summary: InnovationSummary) -> str:
    if summary.scored_revision != summary.revision:
        return "Diterima; menunggu penilaian"
    if summary.eligible:
        return f"Dinilai: kematangan {summary.maturity:g}, memenuhi syarat (dihitung dalam IID)"
    return f"Dinilai: kematangan {summary.maturity:g}, belum memenuhi syarat"


def _revision_view(entry: RevisionEntry, year: int | None) -> RevisionView:
    report = entry.report
    rubric = rubric_or_none(year) if year else None
    claims: dict[str, dict[str, Any]] = dict(report.get("indicators") or {})
    scores: dict[str, IndicatorScore] = entry.score.indicators if entry.score else {}
    ids: Sequence[str] = list(rubric.sid) if rubric else sorted(claims, key=int)
    decisions = entry.score.decisions if entry.score else {}
    rows = []
    for indicator_id in ids:
        claim = claims.get(indicator_id) or {}
        score = scores.get(indicator_id)
        evidence = tuple((str(item["title"]), str(item["uri"])) for item in claim.get("evidence", []))
        indicator = rubric.sid.get(indicator_id) if rubric else None
        rows.append(
            IndicatorRow(
                indicator_id=indicator_id,
                name=indicator.name if indicator else indicator_id,
                weight=indicator.weight if indicator else None,
                mandatory=indicator.mandatory if indicator else False,
                level=claim.get("level"),
                basis=claim.get("basis"),
                evidence=evidence,
                points=score.score if score else None,
                has_evidence=bool(evidence),
                decision=decisions.get(indicator_id),
            )
        )
    score_entry = entry.score
    return RevisionView(
        revision=entry.revision,
        submitted_at=entry.submitted_at if entry.submitted_at.year > 1 else None,
        title=str(report.get("title", "")),
        stage=str(report.get("stage", "")),
        applied_on=str(report.get("applied_on") or ""),
        urusan=tuple(report.get("urusan") or ()),
        indicators=tuple(rows),
        maturity=score_entry.maturity if score_entry else None,
        eligible=score_entry.eligible if score_entry else None,
        ineligible_reasons=score_entry.ineligible_reasons if score_entry else (),
        top_improvements=score_entry.top_improvements if score_entry else (),
        verified=score_entry.verified if score_entry else None,
        verified_reasons=score_entry.verified_reasons if score_entry else (),
    )


def _waiting_review(region: RegionYear) -> list[InnovationSummary]:
    """The scored innovations with a claimed indicator still to decide, the longest waiting first (since their
    latest revision came)."""
    waiting = [
        summary
        for summary in region.innovations.values()
        if summary.verified is not None and summary.scored_revision == summary.revision and summary.verified.waiting
    ]
    return sorted(waiting, key=lambda summary: (summary.submitted_at, summary.key))
