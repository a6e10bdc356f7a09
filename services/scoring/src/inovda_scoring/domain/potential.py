"""How much an innovation could still add to its region: used to pick the path's candidates cheaply."""

from inovda_shared.contracts.events import IndicatorImprovement

from .maturity import InnovationScore, eligibility_gaps
from .rubric import MAX_LEVEL, Rubric


def improvement_potential(score: InnovationScore, rubric: Rubric) -> int:
    """Maturity points within reach by completing the report: 0 when it cannot count this year at all.

    An eligible innovation can gain what its indicators lack of the top level; an ineligible one whose
    gaps are all fixable by reporting would also bring its whole maturity into the region's sum.
    """
    gaps = eligibility_gaps(score.facts, rubric)
    if any(gap.fix is None for gap in gaps):
        return 0
    ceiling = MAX_LEVEL * rubric.max_sid_weight
    missing_points = ceiling - score.maturity
    return missing_points + (score.maturity if gaps else 0)


def top_improvements(score: InnovationScore, rubric: Rubric, count: int = 3) -> list[IndicatorImprovement]:
    """The SID indicators whose improvement gains the innovation the most maturity points.

    A missing indicator can be filled at the top level; one without evidence regains its score once
    evidence is added, and more if its level is raised too; any other can be raised to the top level.
    """
    options = []
    for indicator_id, indicator in rubric.sid.items():
        claim = score.facts.claims.get(indicator_id)
        current_points = score.indicators[indicator_id].score if indicator_id in score.indicators else 0
        gain = int(indicator.weight * MAX_LEVEL - current_points)
        if gain <= 0:
            continue
        options.append(
            IndicatorImprovement(
                indicator_id=indicator_id,
                name=indicator.name,
                level=claim.level if claim else 0,
                has_evidence=bool(claim and claim.has_evidence),
                points=gain,
            )
        )
    options.sort(key=lambda option: (-option.points, int(option.indicator_id)))
    return options[:count]
