"""'What if' answers and the greedy path to the next predicate band.

Both work on a `RegionState` and store nothing. Every figure they give comes from applying a change to a
copy of the state and running `compute_index` on it, so they cannot drift from the index itself. The state
may carry every innovation of the region-year or only some of them: the totals carry the rest.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from inovda_shared.contracts.events import PathStep, Predicate
from inovda_shared.contracts.fields import Level
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, GOVERNMENT_AFFAIRS

from .index import IndexFigures, RegionTotals, TotalsDelta, compute_index
from .maturity import Claim, InnovationFacts, InnovationScore, eligibility_gaps, made_eligible, score_facts
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


@dataclass(frozen=True)
class _Taken:
    option: _Option
    iid_before: Decimal
    figures_after: IndexFigures


def plan_path(state: RegionState, rubric: Rubric, *, max_steps: int = DEFAULT_MAX_STEPS) -> PathPlan:
    """Greedy: take the action with the largest gain until the IID reaches the next band (or nothing helps)."""
    start = state.figures(rubric)
    notes = _unfixable_notes(state, rubric)
    above = rubric.band_above(start.predicate)
    if above is None:
        return _plan(start, start, None, None, [], reached=True, notes=notes)
    target_predicate, target_band = above
    options = _InnovationOptions(rubric)
    taken: list[_Taken] = []
    current, figures = state, start
    while _iid(figures) < target_band.min:
        best = _best_option(current, figures, options, rubric)
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
        current = apply_change(current, best.change, rubric)
        after = current.figures(rubric)
        if extended is not None:
            taken[-1] = replace(taken[-1], option=extended, figures_after=after)
        else:
            taken.append(_Taken(best, _iid(figures), after))
        figures = after
    steps = [_path_step(item) for item in taken]
    reached = _iid(figures) >= target_band.min
    return _plan(start, figures, target_predicate, target_band.min, steps, reached=reached, notes=notes)


def _plan(
    start: IndexFigures,
    final: IndexFigures,
    target_predicate: Predicate | None,
    target_iid: Decimal | None,
    steps: list[PathStep],
    *,
    reached: bool,
    notes: list[str],
) -> PathPlan:
    return PathPlan(
        start_iid=start.iid,
        start_predicate=start.predicate,
        target_predicate=target_predicate,
        target_iid=float(target_iid) if target_iid is not None else None,
        steps=steps,
        total_gain=float(_iid(final) - _iid(start)),
        final_iid=final.iid,
        final_predicate=final.predicate,
        reached=reached,
        notes=notes,
    )


class _InnovationOptions:
    """Each innovation's candidate actions with the change each makes to the totals.

    A step changes one innovation at most, so the others' options and deltas are kept from step to step
    (rescoring every candidate of every innovation at every step is what would make a path slow).
    """

    def __init__(self, rubric: Rubric) -> None:
        self._rubric = rubric
        self._by_innovation: dict[str, tuple[InnovationScore, list[tuple[_Option, TotalsDelta]]]] = {}

    def of(self, innovation: InnovationScore) -> list[tuple[_Option, TotalsDelta]]:
        known = self._by_innovation.get(innovation.facts.external_id)
        if known is not None and known[0] is innovation:
            return known[1]
        options = []
        for option in _options_of(innovation, self._rubric):
            assert isinstance(option.change, SetSidClaim | MakeEligible)  # each changes this innovation only
            rescored = _rescored(innovation, option.change, self._rubric)
            options.append((option, rescored.contribution().delta(innovation.contribution())))
        self._by_innovation[innovation.facts.external_id] = (innovation, options)
        return options


def _best_option(
    state: RegionState, figures: IndexFigures, innovation_options: _InnovationOptions, rubric: Rubric
) -> _Option | None:
    """The option whose changed state has the highest exact total (the first on a tie), if any raises it."""
    best_option, best_total = None, figures.total
    # Many options change the totals alike (the same weight x levels), so each distinct outcome is computed once.
    figures_by_delta: dict[tuple[int, int, frozenset[tuple[str, int]]], IndexFigures] = {}
    for innovation in state.innovations:
        for option, delta in innovation_options.of(innovation):
            key = (delta.sum_maturity, delta.n, frozenset(delta.affair_counts.items()))
            if key not in figures_by_delta:
                figures_by_delta[key] = compute_index(state.totals.apply(delta), state.spd_levels, rubric)
            if figures_by_delta[key].total > best_total:
                best_option, best_total = option, figures_by_delta[key].total
    for option in _region_options(state, figures, rubric):
        after = apply_change(state, option.change, rubric).figures(rubric)
        if after.total > best_total:
            best_option, best_total = option, after.total
    return best_option


def _options_of(innovation: InnovationScore, rubric: Rubric) -> Iterator[_Option]:
    if innovation.eligible:
        yield from _indicator_options(innovation.facts, rubric)
    else:
        yield from _eligibility_options(innovation.facts, rubric)


def _region_options(state: RegionState, figures: IndexFigures, rubric: Rubric) -> Iterator[_Option]:
    maturity = _new_innovation_maturity(state.totals, rubric)
    yield _add_innovations_option(1, maturity)
    for affair in figures.yandas_missing:
        yield _Option(
            action="cover_affair",
            target=affair,
            change=AddInnovations(count=1, maturity=maturity, affairs=frozenset({affair})),
            summary=f"Tambahkan 1 inovasi baru yang memenuhi syarat pada urusan {affair.replace('_', ' ')} "
            f"(kematangan {maturity}) agar urusan pelayanan dasar ini tercakup",
        )
    yield from _spd_options(state.spd_levels, rubric)


def _indicator_options(facts: InnovationFacts, rubric: Rubric) -> Iterator[_Option]:
    for indicator_id, indicator in rubric.sid.items():
        label = f"{indicator_id} ({indicator.name})"
        target = f"{facts.external_id}#{indicator_id}"
        claim = facts.claims.get(indicator_id)
        if claim is not None and not claim.has_evidence:
            yield _Option(
                action="add_sid_evidence",
                target=target,
                change=SetSidClaim(external_id=facts.external_id, indicator_id=indicator_id, level=claim.level),
                summary=f"Lengkapi data dukung indikator {label} pada inovasi '{facts.title}' (level {claim.level})",
            )
        current = claim.level if claim else 0
        for level in range(current + 1, MAX_LEVEL + 1):
            if claim is None:
                summary = f"Isi indikator {label} pada inovasi '{facts.title}' di level {level} beserta data dukungnya"
            else:
                summary = f"Naikkan indikator {label} pada inovasi '{facts.title}' dari level {current} ke {level}"
                if not claim.has_evidence:
                    summary += " dan lengkapi data dukungnya"
            yield _Option(
                action="raise_sid_level",
                target=target,
                change=SetSidClaim(external_id=facts.external_id, indicator_id=indicator_id, level=level),
                summary=summary,
            )


def _eligibility_options(facts: InnovationFacts, rubric: Rubric) -> Iterator[_Option]:
    gaps = eligibility_gaps(facts, rubric)
    fixes = [gap.fix for gap in gaps if gap.fix is not None]
    if len(fixes) == len(gaps):  # proposed only when completing the report closes every gap
        yield _Option(
            action="make_eligible",
            target=facts.external_id,
            change=MakeEligible(external_id=facts.external_id),
            summary=f"Jadikan inovasi '{facts.title}' memenuhi syarat: {'; '.join(fixes)}",
        )


def _spd_options(spd_levels: dict[str, int], rubric: Rubric) -> Iterator[_Option]:
    for indicator_id, indicator in rubric.spd.items():
        label = f"{indicator_id} ({indicator.name})"
        current = spd_levels.get(indicator_id, 0)
        for level in range(current + 1, min(current + 2, MAX_LEVEL) + 1):  # one or two levels up
            if current == 0:
                summary = f"Isi indikator SPD {label} di level {level}"
            else:
                summary = f"Naikkan indikator SPD {label} dari level {current} ke {level}"
            yield _Option(
                action="raise_spd_level",
                target=indicator_id,
                change=SetSpdLevel(indicator_id=indicator_id, level=level),
                summary=summary,
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


def _new_innovation_maturity(totals: RegionTotals, rubric: Rubric) -> int:
    """The current average maturity (rounded down), or the least an eligible innovation scores if none counts."""
    if totals.n:
        return totals.sum_maturity // totals.n
    return sum(rubric.sid[indicator_id].weight for indicator_id in rubric.mandatory_sid_ids)


def _unfixable_notes(state: RegionState, rubric: Rubric) -> list[str]:
    notes = []
    for innovation in state.innovations:
        blocking = [gap.reason for gap in eligibility_gaps(innovation.facts, rubric) if gap.fix is None]
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


def _iid(figures: IndexFigures) -> Decimal:
    # An IID has two decimals, and str() of such a float gives those decimals back exactly.
    return Decimal(str(figures.iid))


def _points(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")
