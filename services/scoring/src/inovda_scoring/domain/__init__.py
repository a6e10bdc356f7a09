"""Pure scoring logic: the yearly rubric, innovation maturity, the region index, what-if and the path, and
the rules of what scoring keeps (`region`, `compliance`, `journal`).

Nothing here does I/O beyond reading the packaged rubric files. The names below are the library the CLI and
the portal use.
"""

from .arithmetic import ArithmeticMismatchError
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
from .planner import PathPlan, plan_path
from .rubric import Rubric, RubricError, UnknownRubricYear, available_years, load_rubric, parse_rubric
from .whatif import (
    AddInnovations,
    MakeEligible,
    RegionState,
    SetSidClaim,
    SetSpdLevel,
    WhatIfChange,
    apply_change,
    what_if,
)

__all__ = [
    "AddInnovations",
    "ArithmeticMismatchError",
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
