"""The greedy path to the next predicate band.

It works on a `RegionState` and stores nothing. It weighs hundreds of options per step, too many to run
`compute_index` on each: it weighs them in a `WorkingRegion`, with `compute_index`'s formula in plain integers
(`IndexArithmetic`), which gives the same totals and IIDs and is checked against `compute_index` where each
path starts. The state may carry every innovation of the region-year or only some of them: the totals carry
the rest.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial

from pydantic import BaseModel, ConfigDict, computed_field

from inovda_shared.contracts.events import PathStep, Predicate

from . import wording
from .maturity import InnovationScore
from .options import (
    InnovationOptions,
    Option,
    OptionBuilder,
    add_innovations_option,
    cover_affair_option,
    extended,
    spd_option,
)
from .rubric import MAX_LEVEL, Band, Rubric
from .whatif import RegionState
from .working_region import Standing, WorkingRegion

DEFAULT_MAX_STEPS = 50


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
class _Taken:
    option: Option
    iid_before: Decimal
    figures_after: Standing


def plan_path(state: RegionState, rubric: Rubric, *, max_steps: int = DEFAULT_MAX_STEPS) -> PathPlan:
    """Greedy: take the action with the largest gain until the IID reaches the next band (or nothing helps)."""
    start = state.figures(rubric)
    options = InnovationOptions(rubric)
    notes = _unfixable_notes(state.innovations, options)
    above = rubric.band_above(start.predicate)
    if above is None:
        return _plan(Standing.of(start), Standing.of(start), None, [], notes)
    target_predicate, target_band = above
    region = WorkingRegion(state, rubric)
    figures = region.checked_standing(start)
    taken: list[_Taken] = []
    while _iid(figures) < target_band.min:
        best = _best_option(region, figures, options, rubric)
        if best is None:
            notes.append(wording.target_out_of_reach(target_predicate, target_band.min, _iid(figures)))
            break
        grown = extended(taken[-1].option, best) if taken else None
        if grown is None and len(taken) == max_steps:
            notes.append(wording.steps_exhausted(max_steps, target_predicate, target_band.min))
            break
        region.apply(best.change)
        after = region.standing()
        if grown is not None:
            taken[-1] = replace(taken[-1], option=grown, figures_after=after)
        else:
            taken.append(_Taken(best, _iid(figures), after))
        figures = after
    return _plan(Standing.of(start), figures, above, [_path_step(item) for item in taken], notes)


def _plan(
    start: Standing, final: Standing, target: tuple[Predicate, Band] | None, steps: list[PathStep], notes: list[str]
) -> PathPlan:
    return PathPlan(
        start_iid=start.iid,
        start_predicate=start.predicate,
        target_predicate=target[0] if target else None,
        target_iid=float(target[1].min) if target else None,
        steps=steps,
        total_gain=float(Decimal(str(final.iid)) - Decimal(str(start.iid))),
        final_iid=final.iid,
        final_predicate=final.predicate,
        reached=target is None or _iid(final) >= target[1].min,
        notes=notes,
    )


def _best_option(
    region: WorkingRegion, figures: Standing, innovation_options: InnovationOptions, rubric: Rubric
) -> Option | None:
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


def _region_options(region: WorkingRegion, figures: Standing, rubric: Rubric) -> Iterator[tuple[float, OptionBuilder]]:
    """Options on the region as a whole, each with the total it leads to."""
    maturity = _new_innovation_maturity(region.sum_maturity, region.n, rubric)
    yield (
        region.total_after(sum_change=maturity, n_change=1),
        partial(add_innovations_option, 1, maturity),
    )
    for affair in figures.yandas_missing:
        yield (
            region.total_after(sum_change=maturity, n_change=1, affair_changes=((affair, 1),)),
            partial(cover_affair_option, affair, maturity),
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
                    partial(spd_option, indicator_id, current, level, rubric),
                )


def _new_innovation_maturity(sum_maturity: int, n: int, rubric: Rubric) -> int:
    """The current average maturity (rounded down), or the least an eligible innovation scores if none counts."""
    if n:
        return sum_maturity // n
    return sum(rubric.sid[indicator_id].weight for indicator_id in rubric.mandatory_sid_ids)


def _unfixable_notes(innovations: Sequence[InnovationScore], options: InnovationOptions) -> list[str]:
    notes = []
    for innovation in innovations:
        blocking = [gap.reason for gap in options.gaps(innovation) if gap.fix is None]
        if blocking:
            notes.append(wording.cannot_count(innovation.facts.title, blocking))
    return notes


def _path_step(taken: _Taken) -> PathStep:
    gain = _iid(taken.figures_after) - taken.iid_before
    return PathStep(
        action=taken.option.action,
        target=taken.option.target,
        description=wording.step(taken.option.summary, gain),
        gain=float(gain),
        iid_after=taken.figures_after.iid,
    )


def _iid(figures: Standing) -> Decimal:
    # An IID has two decimals, and str() of such a float gives those decimals back exactly.
    return Decimal(str(figures.iid))
