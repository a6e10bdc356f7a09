"""An innovation's maturity (SID score) and whether it counts toward its region's index.

Scoring works on `InnovationFacts`, the rubric-independent part of a report, so that a stored score can be
re-evaluated with a changed level or evidence ("what if") without the full report text.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field

from inovda_shared.contracts.events import IndicatorScore
from inovda_shared.contracts.fields import Level
from inovda_shared.contracts.intake import InnovationReport
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, Stage
from inovda_shared.indonesian import format_date

from .index import Contribution
from .rubric import Rubric


class Claim(BaseModel):
    """What an innovation claims for one SID indicator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Level
    has_evidence: bool


class InnovationFacts(BaseModel):
    """The parts of an innovation report that scoring reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str
    title: str
    unit_code: str
    stage: Stage
    applied_on: dt.date | None
    design_words: Annotated[int, Field(ge=0)]
    urusan: tuple[str, ...]
    claims: dict[str, Claim]

    @classmethod
    def from_report(cls, report: InnovationReport) -> "InnovationFacts":
        return cls(
            external_id=report.external_id,
            title=report.title,
            unit_code=report.unit_code,
            stage=report.stage,
            applied_on=report.applied_on,
            design_words=count_words(report.design),
            urusan=tuple(report.urusan),
            claims={
                indicator_id: Claim(level=claim.level, has_evidence=bool(claim.evidence))
                for indicator_id, claim in report.indicators.items()
            },
        )


class InnovationScore(BaseModel):
    """An innovation scored with one rubric. An ineligible innovation is scored too, and says why."""

    model_config = ConfigDict(frozen=True)

    facts: InnovationFacts
    indicators: dict[str, IndicatorScore]
    maturity: int
    ineligible_reasons: tuple[str, ...]

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know pydantic's decorator stacking
    @property
    def eligible(self) -> bool:
        return not self.ineligible_reasons

    def contribution(self) -> Contribution:
        return Contribution(
            eligible=self.eligible,
            maturity=self.maturity,
            yandas_affairs=frozenset(self.facts.urusan) & frozenset(BASIC_SERVICE_AFFAIRS),
        )


@dataclass(frozen=True)
class EligibilityGap:
    """One reason an innovation does not count: a sentence for its unit, and the fix if reporting can fix it."""

    reason: str
    fix: str | None = None  # None: not fixable by completing the report (wrong stage, outside the window)


def count_words(text: str) -> int:
    return len(text.split())


def score_innovation(innovation: InnovationReport, rubric: Rubric) -> InnovationScore:
    return score_facts(InnovationFacts.from_report(innovation), rubric)


def score_facts(facts: InnovationFacts, rubric: Rubric) -> InnovationScore:
    # A claim on an indicator this year's rubric does not have is ignored.
    scored = {indicator_id: claim for indicator_id, claim in facts.claims.items() if indicator_id in rubric.sid}
    scores = {indicator_id: indicator_score(rubric, indicator_id, claim) for indicator_id, claim in scored.items()}
    return InnovationScore(
        facts=facts,
        indicators={
            indicator_id: IndicatorScore(
                level=claim.level,
                score=scores[indicator_id],
                has_evidence=claim.has_evidence,
                name=rubric.sid[indicator_id].name,
            )
            for indicator_id, claim in scored.items()
        },
        maturity=sum(scores.values()),
        ineligible_reasons=tuple(gap.reason for gap in eligibility_gaps(facts, rubric)),
    )


def indicator_score(rubric: Rubric, indicator_id: str, claim: Claim) -> int:
    """Weight x level, or 0 for an indicator without evidence."""
    if not claim.has_evidence:
        return 0
    return rubric.sid[indicator_id].weight * claim.level


def eligibility_gaps(facts: InnovationFacts, rubric: Rubric) -> list[EligibilityGap]:
    """Every reason the innovation is not counted, in a fixed order; empty when it is eligible."""
    rule = rubric.eligibility
    window = f"antara {format_date(rule.applied_from)} dan {format_date(rule.applied_to)}"
    gaps: list[EligibilityGap] = []
    if facts.stage != rule.stage:
        gaps.append(EligibilityGap(f"Tahapan masih '{facts.stage}'; hanya inovasi tahap {rule.stage} yang dihitung."))
    if facts.applied_on is None:
        gaps.append(EligibilityGap(f"Tanggal mulai penerapan belum diisi; harus {window}."))
    elif not rule.applied_from <= facts.applied_on <= rule.applied_to:
        gaps.append(
            EligibilityGap(
                f"Mulai diterapkan {format_date(facts.applied_on)}; "
                f"hanya inovasi yang mulai diterapkan {window} yang dihitung."
            )
        )
    if facts.design_words < rule.min_design_words:
        gaps.append(
            EligibilityGap(
                f"Rancang bangun {facts.design_words} kata; minimal {rule.min_design_words} kata.",
                fix=f"lengkapi rancang bangun menjadi minimal {rule.min_design_words} kata "
                f"(saat ini {facts.design_words} kata)",
            )
        )
    for indicator_id in rubric.mandatory_sid_ids:
        label = f"{indicator_id} ({rubric.sid[indicator_id].name})"
        claim = facts.claims.get(indicator_id)
        if claim is None:
            gaps.append(
                EligibilityGap(
                    f"Indikator wajib {label} belum diisi.",
                    fix=f"isi indikator wajib {label} beserta data dukungnya",
                )
            )
        elif not claim.has_evidence:
            gaps.append(
                EligibilityGap(
                    f"Indikator wajib {label} belum memiliki data dukung.",
                    fix=f"unggah data dukung indikator wajib {label}",
                )
            )
    return gaps


def made_eligible(facts: InnovationFacts, rubric: Rubric) -> InnovationFacts:
    """The innovation with every gap closed at the least cost: missing mandatory indicators at level 1 with
    evidence, evidence added where it lacks, the design lengthened, and stage and start date moved into the rule.
    """
    rule = rubric.eligibility
    claims = dict(facts.claims)
    for indicator_id in rubric.mandatory_sid_ids:
        current = claims.get(indicator_id)
        claims[indicator_id] = Claim(level=current.level if current else 1, has_evidence=True)
    applied_on = min(max(facts.applied_on or rule.applied_from, rule.applied_from), rule.applied_to)
    return facts.model_copy(
        update={
            "stage": rule.stage,
            "applied_on": applied_on,
            "design_words": max(facts.design_words, rule.min_design_words),
            "claims": claims,
        }
    )
