"""'What if' answers and the greedy path to the next predicate band.

Both work on a `RegionState` and store nothing. A what-if figure comes from applying the changes to a copy of
the state and running `compute_index` on it, so it cannot drift from the index itself. The path weighs
hundreds of options per step, too many for that: it weighs them with `compute_index`'s formula in plain
integers (`_IndexArithmetic`), which gives the same totals and IIDs and is checked against `compute_index`
where each path starts. The state may carry every innovation of the region-year or only some of them: the
totals carry the rest.
"""

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from inovda_shared.contracts.events import PathStep, Predicate
from inovda_shared.contracts.fields import Level
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, GOVERNMENT_AFFAIRS
from inovda_shared.indonesian import format_number

from .index import IndexFigures, RegionTotals, TotalsDelta, compute_index, round_half_up
from .maturity import (
    Claim,
    EligibilityGap,
    InnovationFacts,
    InnovationScore,
    eligibility_gaps,
    indicator_score,
    made_eligible,
    score_facts,
)
from .rubric import MAX_LEVEL, Rubric

DEFAULT_MAX_STEPS = 50


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
            new = _rescored(old, change, rubric)
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


def _rescored(innovation: InnovationScore, change: SetSidClaim | MakeEligible, rubric: Rubric) -> InnovationScore:
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


class PathPlan(BaseModel):
    """The ordered steps toward the next predicate band and where they leave the region."""

    model_config = ConfigDict(frozen=True)

    start_iid: float
    start_predicate: Predicate
    target_predicate: Predicate | None  # None: already in the top band
    target_iid: float | None
    steps: list[PathStep]
    total_gain: float
    final_iid: float
    final_predicate: Predicate
    reached: bool
    notes: list[str]  # user-facing remarks: innovations that cannot count this year, why the target is missed

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know pydantic's decorator stacking
    @property
    def step_count(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class _Option:
    """A candidate action; `summary` is its Bahasa Indonesia description without the gain."""

    action: str
    target: str
    change: WhatIfChange
    summary: str


# Building an option (a validated change and its sentence) costs more than weighing it, and a step weighs
# hundreds of options to take one, so options are weighed as builders and only the one taken is built.
_OptionBuilder = Callable[[], _Option]

# What an option changes in the region's counts, as a `TotalsDelta` holds it: sum of maturities, eligible
# count, and the changed counts of basic affairs (never a zero). Options with the same outcome rank alike.
_Outcome = tuple[int, int, frozenset[tuple[str, int]]]
_NO_AFFAIRS: frozenset[tuple[str, int]] = frozenset()


@dataclass(frozen=True)
class _Standing:
    """The figures of `IndexFigures` that a path reads."""

    total: float
    iid: float
    predicate: Predicate
    yandas_missing: list[str]


@dataclass(frozen=True)
class _Taken:
    option: _Option
    iid_before: Decimal
    figures_after: _Standing


def plan_path(state: RegionState, rubric: Rubric, *, max_steps: int = DEFAULT_MAX_STEPS) -> PathPlan:
    """Greedy: take the action with the largest gain until the IID reaches the next band (or nothing helps)."""
    start = state.figures(rubric)
    options = _InnovationOptions(rubric)
    notes = _unfixable_notes(state.innovations, options)
    above = rubric.band_above(start.predicate)
    if above is None:
        return _plan(start.iid, start.predicate, start.iid, start.predicate, None, None, [], reached=True, notes=notes)
    target_predicate, target_band = above
    region = _WorkingRegion(state, rubric)
    figures = region.standing()
    # The fast arithmetic must give what compute_index gives; a rubric or formula it does not follow fails here.
    assert figures == _Standing(start.total, start.iid, start.predicate, start.yandas_missing), (figures, start)
    taken: list[_Taken] = []
    while _iid(figures) < target_band.min:
        best = _best_option(region, figures, options, rubric)
        if best is None:
            notes.append(
                f"Predikat {target_predicate} (IID minimal {_points(target_band.min)}) tidak tercapai dengan "
                f"langkah yang tersedia; IID tertinggi {_points(_iid(figures))}."
            )
            break
        extended = _extended(taken[-1].option, best) if taken else None
        if extended is None and len(taken) == max_steps:
            notes.append(
                f"Jalur dibatasi {max_steps} langkah; predikat {target_predicate} "
                f"(IID minimal {_points(target_band.min)}) belum tercapai."
            )
            break
        region.apply(best.change)
        after = region.standing()
        if extended is not None:
            taken[-1] = replace(taken[-1], option=extended, figures_after=after)
        else:
            taken.append(_Taken(best, _iid(figures), after))
        figures = after
    steps = [_path_step(item) for item in taken]
    reached = _iid(figures) >= target_band.min
    return _plan(
        start.iid,
        start.predicate,
        figures.iid,
        figures.predicate,
        target_predicate,
        target_band.min,
        steps,
        reached=reached,
        notes=notes,
    )


def _plan(
    start_iid: float,
    start_predicate: Predicate,
    final_iid: float,
    final_predicate: Predicate,
    target_predicate: Predicate | None,
    target_iid: Decimal | None,
    steps: list[PathStep],
    *,
    reached: bool,
    notes: list[str],
) -> PathPlan:
    return PathPlan(
        start_iid=start_iid,
        start_predicate=start_predicate,
        target_predicate=target_predicate,
        target_iid=float(target_iid) if target_iid is not None else None,
        steps=steps,
        total_gain=float(Decimal(str(final_iid)) - Decimal(str(start_iid))),
        final_iid=final_iid,
        final_predicate=final_predicate,
        reached=reached,
        notes=notes,
    )


class _IndexArithmetic:
    """`compute_index`'s total and IID in plain integers, for the hundreds of outcomes a path weighs.

    compute_index adds Decimals and Fractions, which is slow when repeated. Here every Decimal of the
    rubric is scaled to an integer by one common factor, so a total is a ratio of two integers: its float is
    the float compute_index gives (both are the correctly rounded value of the same rational number), and the
    IID goes through the same `round_half_up`. `plan_path` checks that both agree where the path starts.
    """

    def __init__(self, rubric: Rubric) -> None:
        spd_weights = {
            indicator_id: indicator.weight.as_integer_ratio() for indicator_id, indicator in rubric.spd.items()
        }
        per_innovation = rubric.count_score.per_innovation.as_integer_ratio()
        self._scale = math.lcm(per_innovation[1], *(denominator for _, denominator in spd_weights.values()))
        self.spd_weight_units = {
            indicator_id: numerator * (self._scale // denominator)
            for indicator_id, (numerator, denominator) in spd_weights.items()
        }
        self._per_innovation_units = per_innovation[0] * (self._scale // per_innovation[1])
        self._count_cap = rubric.count_score.cap
        self._min_affairs_covered = rubric.basic_services.min_affairs_covered
        self._min_divisor = rubric.min_divisor
        self._max_total = Fraction(rubric.max_total)

    def spd_units(self, spd_levels: Mapping[str, int]) -> int:
        """The SPD score times the scale (an indicator the profile leaves out scores 0, as in compute_index)."""
        return sum(units * spd_levels.get(indicator_id, 0) for indicator_id, units in self.spd_weight_units.items())

    def total(self, spd_units: int, sum_maturity: int, n: int, affairs_covered: int) -> Fraction:
        """SPD + sum / max(D, n) + count score, exactly."""
        return Fraction(*self._total_ratio(spd_units, sum_maturity, n, affairs_covered))

    def float_total(self, spd_units: int, sum_maturity: int, n: int, affairs_covered: int) -> float:
        numerator, denominator = self._total_ratio(spd_units, sum_maturity, n, affairs_covered)
        return numerator / denominator  # int / int rounds correctly, as float(Fraction) does

    def iid(self, total: Fraction) -> Decimal:
        return round_half_up(total * 100 / self._max_total)

    def _total_ratio(self, spd_units: int, sum_maturity: int, n: int, affairs_covered: int) -> tuple[int, int]:
        divisor = max(self._min_divisor, n)
        count_units = 0
        if affairs_covered >= self._min_affairs_covered:
            count_units = min(n, self._count_cap) * self._per_innovation_units
        return (spd_units + count_units) * divisor + sum_maturity * self._scale, self._scale * divisor


class _WorkingRegion:
    """The region as a path changes it step by step: a mutable copy of the state in plain numbers.

    Copying and validating a `RegionState` for every option weighed is what made a path slow; here an option
    is weighed with a few integer operations (`total_after`) and only the option taken changes the copy.
    """

    def __init__(self, state: RegionState, rubric: Rubric) -> None:
        self._rubric = rubric
        self._arithmetic = _IndexArithmetic(rubric)
        self.spd_levels = dict(state.spd_levels)
        self._spd_units = self._arithmetic.spd_units(self.spd_levels)
        self.sum_maturity = state.totals.sum_maturity
        self.n = state.totals.n
        self._affair_counts = dict(state.totals.affair_counts)  # never a zero count, as in RegionTotals
        self._affairs_covered = sum(1 for affair in BASIC_SERVICE_AFFAIRS if affair in self._affair_counts)
        self.innovations = list(state.innovations)
        self._position = {innovation.facts.external_id: index for index, innovation in enumerate(self.innovations)}

    def standing(self) -> _Standing:
        total = self._arithmetic.total(self._spd_units, self.sum_maturity, self.n, self._affairs_covered)
        iid = self._arithmetic.iid(total)
        return _Standing(
            total=float(total),
            iid=float(iid),
            predicate=self._rubric.predicate_for(iid),
            yandas_missing=[affair for affair in BASIC_SERVICE_AFFAIRS if affair not in self._affair_counts],
        )

    def total_after(
        self,
        *,
        spd_change: int = 0,
        sum_change: int = 0,
        n_change: int = 0,
        affair_changes: Iterable[tuple[str, int]] = (),
    ) -> float:
        """The float total (as `IndexFigures.total`) if the counts and SPD units changed by these amounts."""
        affairs_covered = self._affairs_covered
        negative = self.sum_maturity + sum_change < 0 or self.n + n_change < 0
        for affair, change in affair_changes:
            before = self._affair_counts.get(affair, 0)
            negative = negative or before + change < 0
            affairs_covered += bool(before + change) - bool(before)
        if negative:
            self._refuse_negative(sum_change, n_change, affair_changes)
        return self._arithmetic.float_total(
            self._spd_units + spd_change, self.sum_maturity + sum_change, self.n + n_change, affairs_covered
        )

    def spd_change(self, indicator_id: str, level: int) -> int:
        """The change of SPD units when an indicator moves to `level`."""
        return self._arithmetic.spd_weight_units[indicator_id] * (level - self.spd_levels.get(indicator_id, 0))

    def apply(self, change: WhatIfChange) -> None:
        """Make the change, as `apply_change` would make it on a `RegionState`."""
        match change:
            case SetSidClaim() | MakeEligible():
                index = self._position[change.external_id]
                old = self.innovations[index]
                new = self.innovations[index] = _rescored(old, change, self._rubric)
                delta = new.contribution().delta(old.contribution())
                self._add(delta.sum_maturity, delta.n, delta.affair_counts.items())
            case AddInnovations():
                affairs = change.affairs & frozenset(BASIC_SERVICE_AFFAIRS)
                self._add(change.count * change.maturity, change.count, ((a, change.count) for a in affairs))
            case SetSpdLevel():
                self._spd_units += self.spd_change(change.indicator_id, change.level)
                self.spd_levels[change.indicator_id] = change.level

    def _add(self, sum_change: int, n_change: int, affair_changes: Iterable[tuple[str, int]]) -> None:
        self.sum_maturity += sum_change
        self.n += n_change
        for affair, change in affair_changes:
            before = self._affair_counts.pop(affair, 0)
            if before + change:
                self._affair_counts[affair] = before + change
            self._affairs_covered += bool(before + change) - bool(before)

    def _refuse_negative(self, sum_change: int, n_change: int, affair_changes: Iterable[tuple[str, int]]) -> None:
        # Totals out of step with their innovations: let `RegionTotals.apply` refuse them, as it always did.
        totals = RegionTotals(sum_maturity=self.sum_maturity, n=self.n, affair_counts=self._affair_counts)
        totals.apply(TotalsDelta(sum_maturity=sum_change, n=n_change, affair_counts=dict(affair_changes)))


class _InnovationOptions:
    """The innovations' options, one per distinct outcome: the first option (in the order the options are
    proposed, innovation by innovation) with that outcome.

    A later option with the outcome of an earlier one can never be taken (a tie goes to the first), so it is
    not weighed. A step changes one innovation at most, so the others' options are kept from step to step,
    and the merged options of all innovations are kept until a step changes one of them.
    """

    def __init__(self, rubric: Rubric) -> None:
        self._rubric = rubric
        self._gaps: dict[str, tuple[InnovationScore, list[EligibilityGap]]] = {}
        self._by_innovation: dict[str, tuple[InnovationScore, dict[_Outcome, _OptionBuilder]]] = {}
        self._merged: tuple[list[InnovationScore], dict[_Outcome, _OptionBuilder]] = ([], {})

    def first_by_outcome(self, innovations: list[InnovationScore]) -> dict[_Outcome, _OptionBuilder]:
        """Every distinct outcome of the innovations' options, in order, with the first option that has it."""
        merged_for, merged = self._merged
        if len(merged_for) == len(innovations) and all(map(operator.is_, merged_for, innovations)):
            return merged
        merged = {}
        for innovation in innovations:
            for outcome, option in self.of(innovation).items():
                merged.setdefault(outcome, option)
        self._merged = (list(innovations), merged)
        return merged

    def gaps(self, innovation: InnovationScore) -> list[EligibilityGap]:
        known = self._gaps.get(innovation.facts.external_id)
        if known is not None and known[0] is innovation:
            return known[1]
        gaps = eligibility_gaps(innovation.facts, self._rubric)
        self._gaps[innovation.facts.external_id] = (innovation, gaps)
        return gaps

    def of(self, innovation: InnovationScore) -> dict[_Outcome, _OptionBuilder]:
        known = self._by_innovation.get(innovation.facts.external_id)
        if known is not None and known[0] is innovation:
            return known[1]
        if not innovation.eligible:
            options = self._by_rescoring(innovation, _eligibility_options(innovation.facts, self.gaps(innovation)))
        elif not self.gaps(innovation):
            options = self._indicator_outcomes(innovation)
        else:  # counted by its stored score but not by this rubric: only rescoring tells what an option does
            options = self._by_rescoring(innovation, _indicator_options(innovation.facts, self._rubric))
        self._by_innovation[innovation.facts.external_id] = (innovation, options)
        return options

    def _indicator_outcomes(self, innovation: InnovationScore) -> dict[_Outcome, _OptionBuilder]:
        """The options of an innovation that counts under this rubric, weighed without rescoring it.

        Eligibility asks only that the mandatory indicators be filled with evidence, and every indicator option
        sets its level with evidence, so the innovation keeps counting: an option changes the sum of maturities
        by the indicator's new score less its old one, and changes nothing else. The innovation's maturity is
        recomputed from its facts, as rescoring would, in case the stored one is stale.
        """
        facts, rubric = innovation.facts, self._rubric
        scored = {
            indicator_id: indicator_score(rubric, indicator_id, claim)
            for indicator_id, claim in facts.claims.items()
            if indicator_id in rubric.sid
        }
        stale_by = sum(scored.values()) - innovation.maturity
        first_move_by_sum_change: dict[int, tuple[str, int]] = {}
        for indicator_id, indicator in rubric.sid.items():  # in the order of _indicator_options
            claim = facts.claims.get(indicator_id)
            unchanged = stale_by - scored.get(indicator_id, 0)
            for level in _proposed_levels(claim):
                sum_change = unchanged + indicator.weight * level  # indicator_score of a claim with evidence
                if sum_change not in first_move_by_sum_change:
                    first_move_by_sum_change[sum_change] = (indicator_id, level)
        return {
            (sum_change, 0, _NO_AFFAIRS): partial(_indicator_option, facts, indicator_id, level, rubric)
            for sum_change, (indicator_id, level) in first_move_by_sum_change.items()
        }

    def _by_rescoring(
        self, innovation: InnovationScore, candidates: Iterator[_Option]
    ) -> dict[_Outcome, _OptionBuilder]:
        options: dict[_Outcome, _OptionBuilder] = {}
        for option in candidates:
            assert isinstance(option.change, SetSidClaim | MakeEligible)  # each changes this innovation only
            rescored = _rescored(innovation, option.change, self._rubric)
            delta = rescored.contribution().delta(innovation.contribution())
            options.setdefault((delta.sum_maturity, delta.n, frozenset(delta.affair_counts.items())), _built(option))
        return options


def _built(option: _Option) -> _OptionBuilder:
    return lambda: option


def _best_option(
    region: _WorkingRegion, figures: _Standing, innovation_options: _InnovationOptions, rubric: Rubric
) -> _Option | None:
    """The option whose changed state has the highest total (the first on a tie), if any raises it.

    Totals are compared as the floats of `IndexFigures.total`, as they always were, so ties fall the same way.
    """
    best_option, best_total = None, figures.total
    innovation_outcomes = innovation_options.first_by_outcome(region.innovations)
    for (sum_change, n_change, affair_changes), option in innovation_outcomes.items():
        total = region.total_after(sum_change=sum_change, n_change=n_change, affair_changes=affair_changes)
        if total > best_total:
            best_option, best_total = option, total
    for total, option in _region_options(region, figures, rubric):
        if total > best_total:
            best_option, best_total = option, total
    return best_option() if best_option is not None else None


def _region_options(
    region: _WorkingRegion, figures: _Standing, rubric: Rubric
) -> Iterator[tuple[float, _OptionBuilder]]:
    """Options on the region as a whole, each with the total it leads to."""
    maturity = _new_innovation_maturity(region.sum_maturity, region.n, rubric)
    yield (
        region.total_after(sum_change=maturity, n_change=1),
        partial(_add_innovations_option, 1, maturity),
    )
    for affair in figures.yandas_missing:
        yield (
            region.total_after(sum_change=maturity, n_change=1, affair_changes=((affair, 1),)),
            partial(_cover_affair_option, affair, maturity),
        )
    # SPD options of the same weight and levels up lead to the same total, and only the first of them could
    # be taken (a tie goes to the first), so each distinct change is weighed once.
    spd_changes_weighed = set()
    for indicator_id in rubric.spd:
        current = region.spd_levels.get(indicator_id, 0)
        for level in range(current + 1, min(current + 2, MAX_LEVEL) + 1):  # one or two levels up
            spd_change = region.spd_change(indicator_id, level)
            if spd_change not in spd_changes_weighed:
                spd_changes_weighed.add(spd_change)
                yield (
                    region.total_after(spd_change=spd_change),
                    partial(_spd_option, indicator_id, current, level, rubric),
                )


def _proposed_levels(claim: Claim | None) -> range:
    """The levels proposed for a SID indicator, in order: the claimed level if it lacks evidence, then each up."""
    if claim is None:
        return range(1, MAX_LEVEL + 1)
    return range(claim.level if not claim.has_evidence else claim.level + 1, MAX_LEVEL + 1)


def _indicator_options(facts: InnovationFacts, rubric: Rubric) -> Iterator[_Option]:
    for indicator_id in rubric.sid:
        for level in _proposed_levels(facts.claims.get(indicator_id)):
            yield _indicator_option(facts, indicator_id, level, rubric)


def _indicator_option(facts: InnovationFacts, indicator_id: str, level: int, rubric: Rubric) -> _Option:
    label = f"{indicator_id} ({rubric.sid[indicator_id].name})"
    target = f"{facts.external_id}#{indicator_id}"
    claim = facts.claims.get(indicator_id)
    if claim is not None and level == claim.level:  # the level it claims, now with evidence
        return _Option(
            action="add_sid_evidence",
            target=target,
            change=SetSidClaim(external_id=facts.external_id, indicator_id=indicator_id, level=claim.level),
            summary=f"Lengkapi data dukung indikator {label} pada inovasi '{facts.title}' (level {claim.level})",
        )
    if claim is None:
        summary = f"Isi indikator {label} pada inovasi '{facts.title}' di level {level} beserta data dukungnya"
    else:
        summary = f"Naikkan indikator {label} pada inovasi '{facts.title}' dari level {claim.level} ke {level}"
        if not claim.has_evidence:
            summary += " dan lengkapi data dukungnya"
    return _Option(
        action="raise_sid_level",
        target=target,
        change=SetSidClaim(external_id=facts.external_id, indicator_id=indicator_id, level=level),
        summary=summary,
    )


def _eligibility_options(facts: InnovationFacts, gaps: list[EligibilityGap]) -> Iterator[_Option]:
    fixes = [gap.fix for gap in gaps if gap.fix is not None]
    if len(fixes) == len(gaps):  # proposed only when completing the report closes every gap
        yield _Option(
            action="make_eligible",
            target=facts.external_id,
            change=MakeEligible(external_id=facts.external_id),
            summary=f"Jadikan inovasi '{facts.title}' memenuhi syarat: {'; '.join(fixes)}",
        )


def _spd_option(indicator_id: str, current: int, level: int, rubric: Rubric) -> _Option:
    label = f"{indicator_id} ({rubric.spd[indicator_id].name})"
    if current == 0:
        summary = f"Isi indikator SPD {label} di level {level}"
    else:
        summary = f"Naikkan indikator SPD {label} dari level {current} ke {level}"
    return _Option(
        action="raise_spd_level",
        target=indicator_id,
        change=SetSpdLevel(indicator_id=indicator_id, level=level),
        summary=summary,
    )


def _cover_affair_option(affair: str, maturity: int) -> _Option:
    return _Option(
        action="cover_affair",
        target=affair,
        change=AddInnovations(count=1, maturity=maturity, affairs=frozenset({affair})),
        summary=f"Tambahkan 1 inovasi baru yang memenuhi syarat pada urusan {affair.replace('_', ' ')} "
        f"(kematangan {maturity}) agar urusan pelayanan dasar ini tercakup",
    )


def _add_innovations_option(count: int, maturity: int) -> _Option:
    return _Option(
        action="add_innovations",
        target=str(count),
        change=AddInnovations(count=count, maturity=maturity),
        summary=f"Tambahkan {count} inovasi baru yang memenuhi syarat dengan kematangan setara rata-rata "
        f"saat ini ({maturity})",
    )


def _extended(previous: _Option, option: _Option) -> _Option | None:
    """Adding one more innovation right after adding some of the same maturity grows that step instead."""
    before, now = previous.change, option.change
    if (
        previous.action == option.action == "add_innovations"
        and isinstance(before, AddInnovations)
        and isinstance(now, AddInnovations)
        and before.maturity == now.maturity
    ):
        return _add_innovations_option(before.count + now.count, now.maturity)
    return None


def _new_innovation_maturity(sum_maturity: int, n: int, rubric: Rubric) -> int:
    """The current average maturity (rounded down), or the least an eligible innovation scores if none counts."""
    if n:
        return sum_maturity // n
    return sum(rubric.sid[indicator_id].weight for indicator_id in rubric.mandatory_sid_ids)


def _unfixable_notes(innovations: Sequence[InnovationScore], options: _InnovationOptions) -> list[str]:
    notes = []
    for innovation in innovations:
        blocking = [gap.reason for gap in options.gaps(innovation) if gap.fix is None]
        if blocking:
            notes.append(f"Inovasi '{innovation.facts.title}' tidak dapat dihitung tahun ini: {' '.join(blocking)}")
    return notes


def _path_step(taken: _Taken) -> PathStep:
    gain = _iid(taken.figures_after) - taken.iid_before
    return PathStep(
        action=taken.option.action,
        target=taken.option.target,
        description=f"{taken.option.summary} (+{_points(gain)} poin IID)",
        gain=float(gain),
        iid_after=taken.figures_after.iid,
    )


def _iid(figures: _Standing) -> Decimal:
    # An IID has two decimals, and str() of such a float gives those decimals back exactly.
    return Decimal(str(figures.iid))


def _points(value: Decimal) -> str:
    return format_number(value, 2)
