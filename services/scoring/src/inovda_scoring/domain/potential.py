"""How much an innovation could still add to its region: used to pick the path's candidates cheaply."""

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
