"""'What if' answers: a region-year's figures if some changes were made, on a copy; nothing is stored.

A what-if figure comes from applying the changes to a copy of the state and running `compute_index` on it, so
it cannot drift from the index itself. The state may carry every innovation of the region-year or only some
of them: the totals carry the rest.
"""

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from inovda_shared.contracts.fields import Level
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, GOVERNMENT_AFFAIRS

from .index import IndexFigures, RegionTotals, TotalsDelta, compute_index
from .maturity import Claim, InnovationScore, made_eligible, score_facts
from .rubric import Rubric


class RegionState(BaseModel):
    """A region-year as the path and what-if see it: SPD levels, the aggregate, and some or all innovations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spd_levels: dict[str, Level] = {}
    totals: RegionTotals = RegionTotals()
    innovations: tuple[InnovationScore, ...] = ()

    @field_validator("innovations")
    @classmethod
    def _unique_innovations(cls, innovations: tuple[InnovationScore, ...]) -> tuple[InnovationScore, ...]:
        ids = [innovation.facts.external_id for innovation in innovations]
        duplicates = sorted({external_id for external_id in ids if ids.count(external_id) > 1})
        if duplicates:
            raise ValueError(f"innovations {duplicates} appear more than once")
        return innovations

    def figures(self, rubric: Rubric) -> IndexFigures:
        return compute_index(self.totals, self.spd_levels, rubric)


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SetSidClaim(_Change):
    """Set one SID indicator of an innovation to a level, with or without evidence."""

    change: Literal["set_sid_claim"] = "set_sid_claim"
    external_id: str
    indicator_id: str
    level: Level
    has_evidence: bool = True


class MakeEligible(_Change):
    """Close every eligibility gap of an innovation (see `made_eligible`)."""

    change: Literal["make_eligible"] = "make_eligible"
    external_id: str


class AddInnovations(_Change):
    """Add `count` new eligible innovations of the given maturity, each in the given affairs."""

    change: Literal["add_innovations"] = "add_innovations"
    count: Annotated[int, Field(ge=1)]
    maturity: Annotated[int, Field(ge=0)]
    affairs: frozenset[str] = frozenset()

    @field_validator("affairs")
    @classmethod
    def _known_affairs(cls, affairs: frozenset[str]) -> frozenset[str]:
        unknown = sorted(affairs - GOVERNMENT_AFFAIRS)
        if unknown:
            raise ValueError(f"{unknown} are not government affair slugs")
        return affairs


class SetSpdLevel(_Change):
    change: Literal["set_spd_level"] = "set_spd_level"
    indicator_id: str
    level: Level


WhatIfChange = Annotated[SetSidClaim | MakeEligible | AddInnovations | SetSpdLevel, Field(discriminator="change")]


def apply_change(state: RegionState, change: WhatIfChange, rubric: Rubric) -> RegionState:
    """The state after one change; `state` itself is left as it was."""
    match change:
        case SetSidClaim() | MakeEligible():
            old = _innovation(state, change.external_id)
            new = rescored(old, change, rubric)
            return state.model_copy(
                update={
                    "innovations": tuple(new if score is old else score for score in state.innovations),
                    "totals": state.totals.apply(new.contribution().delta(old.contribution())),
                }
            )
        case AddInnovations():
            affairs = change.affairs & frozenset(BASIC_SERVICE_AFFAIRS)
            delta = TotalsDelta(
                sum_maturity=change.count * change.maturity,
                n=change.count,
                affair_counts=dict.fromkeys(affairs, change.count),
            )
            return state.model_copy(update={"totals": state.totals.apply(delta)})
        case SetSpdLevel():
            if change.indicator_id not in rubric.spd:
                raise ValueError(f"{change.indicator_id!r} is not an SPD indicator of the {rubric.year} rubric")
            return state.model_copy(update={"spd_levels": {**state.spd_levels, change.indicator_id: change.level}})


def what_if(state: RegionState, changes: Sequence[WhatIfChange], rubric: Rubric) -> IndexFigures:
    """The region's figures if these changes were made, in order; nothing is stored or mutated."""
    for change in changes:
        state = apply_change(state, change, rubric)
    return state.figures(rubric)


def _innovation(state: RegionState, external_id: str) -> InnovationScore:
    for score in state.innovations:
        if score.facts.external_id == external_id:
            return score
    raise ValueError(f"innovation {external_id!r} is not among the innovations given with the state")


def rescored(innovation: InnovationScore, change: SetSidClaim | MakeEligible, rubric: Rubric) -> InnovationScore:
    """The innovation scored again after one change to it."""
    match change:
        case SetSidClaim():
            if change.indicator_id not in rubric.sid:
                raise ValueError(f"{change.indicator_id!r} is not a SID indicator of the {rubric.year} rubric")
            claim = Claim(level=change.level, has_evidence=change.has_evidence)
            facts = innovation.facts.model_copy(
                update={"claims": {**innovation.facts.claims, change.indicator_id: claim}}
            )
        case MakeEligible():
            facts = made_eligible(innovation.facts, rubric)
    return score_facts(facts, rubric)
