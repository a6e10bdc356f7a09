"""Pure scoring logic: the yearly rubric, innovation maturity, the region index, what-if and the path.

Nothing here does I/O beyond reading the packaged rubric files.
"""

from .index import (
    Contribution,
    IndexFigures,
    RegionTotals,
    TotalsDelta,
    compute_index,
    full_totals,
    round_half_up,
)
from .maturity import (
    Claim,
    EligibilityGap,
    InnovationFacts,
    InnovationScore,
    eligibility_gaps,
    made_eligible,
    score_facts,
    score_innovation,
)
from .path import (
    AddInnovations,
    MakeEligible,
    PathPlan,
    RegionState,
    SetSidClaim,
    SetSpdLevel,
    WhatIfChange,
    apply_change,
    plan_path,
    what_if,
)
from .rubric import Rubric, RubricError, UnknownRubricYear, available_years, load_rubric, parse_rubric

__all__ = [
    "AddInnovations",
    "Claim",
    "Contribution",
    "EligibilityGap",
    "IndexFigures",
    "InnovationFacts",
    "InnovationScore",
    "MakeEligible",
    "PathPlan",
    "RegionState",
    "RegionTotals",
    "Rubric",
    "RubricError",
    "SetSidClaim",
    "SetSpdLevel",
    "TotalsDelta",
    "UnknownRubricYear",
    "WhatIfChange",
    "apply_change",
    "available_years",
    "compute_index",
    "eligibility_gaps",
    "full_totals",
    "load_rubric",
    "made_eligible",
    "parse_rubric",
    "plan_path",
    "round_half_up",
    "score_facts",
    "score_innovation",
    "what_if",
]
