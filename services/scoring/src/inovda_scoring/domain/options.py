"""The options a path weighs at each step: what each changes, and the sentence that describes it."""

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from . import wording
from .maturity import Claim, EligibilityGap, InnovationFacts, InnovationScore, eligibility_gaps, indicator_score
from .rubric import MAX_LEVEL, Rubric
from .whatif import AddInnovations, MakeEligible, SetSidClaim, SetSpdLevel, WhatIfChange, rescored


@dataclass(frozen=True)
class Option:
    """A candidate action; `summary` is its Bahasa Indonesia description without the gain."""

    action: str
    target: str
    change: WhatIfChange
    summary: str


# Building an option (a validated change and its sentence) costs more than weighing it, and a step weighs
# hundreds of options to take one, so options are weighed as builders and only the one taken is built.
OptionBuilder = Callable[[], Option]

# What an option changes in the region's counts, as a `TotalsDelta` holds it: sum of maturities, eligible
# count, and the changed counts of basic affairs (never a zero). Options with the same outcome rank alike.
Outcome = tuple[int, int, frozenset[tuple[str, int]]]
_NO_AFFAIRS: frozenset[tuple[str, int]] = frozenset()


class InnovationOptions:
    """The innovations' options, one per distinct outcome: the first option (in the order the options are
    proposed, innovation by innovation) with that outcome.

    A later option with the outcome of an earlier one can never be taken (a tie goes to the first), so it is
    not weighed. A step changes one innovation at most, so the others' options are kept from step to step,
    and the merged options of all innovations are kept until a step changes one of them.
    """

    def __init__(self, rubric: Rubric) -> None:
        self._rubric = rubric
        self._gaps: dict[str, tuple[InnovationScore, list[EligibilityGap]]] = {}
        self._by_innovation: dict[str, tuple[InnovationScore, dict[Outcome, OptionBuilder]]] = {}
        self._merged: tuple[list[InnovationScore], dict[Outcome, OptionBuilder]] = ([], {})

    def first_by_outcome(self, innovations: list[InnovationScore]) -> dict[Outcome, OptionBuilder]:
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

    def of(self, innovation: InnovationScore) -> dict[Outcome, OptionBuilder]:
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

    def _indicator_outcomes(self, innovation: InnovationScore) -> dict[Outcome, OptionBuilder]:
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

    def _by_rescoring(self, innovation: InnovationScore, candidates: Iterator[Option]) -> dict[Outcome, OptionBuilder]:
        options: dict[Outcome, OptionBuilder] = {}
        for option in candidates:
            assert isinstance(option.change, SetSidClaim | MakeEligible)  # each changes this innovation only
            after = rescored(innovation, option.change, self._rubric)
            delta = after.contribution().delta(innovation.contribution())
            options.setdefault((delta.sum_maturity, delta.n, frozenset(delta.affair_counts.items())), _built(option))
        return options


def _built(option: Option) -> OptionBuilder:
    return lambda: option


def _proposed_levels(claim: Claim | None) -> range:
    """The levels proposed for a SID indicator, in order: the claimed level if it lacks evidence, then each up."""
    if claim is None:
        return range(1, MAX_LEVEL + 1)
    return range(claim.level if not claim.has_evidence else claim.level + 1, MAX_LEVEL + 1)


def _indicator_options(facts: InnovationFacts, rubric: Rubric) -> Iterator[Option]:
    for indicator_id in rubric.sid:
        for level in _proposed_levels(facts.claims.get(indicator_id)):
            yield _indicator_option(facts, indicator_id, level, rubric)


def _indicator_option(facts: InnovationFacts, indicator_id: str, level: int, rubric: Rubric) -> Option:
    label = wording.indicator_label(indicator_id, rubric.sid[indicator_id].name)
    target = f"{facts.external_id}#{indicator_id}"
    claim = facts.claims.get(indicator_id)
    if claim is not None and level == claim.level:  # the level it claims, now with evidence
        return Option(
            action="add_sid_evidence",
            target=target,
            change=SetSidClaim(external_id=facts.external_id, indicator_id=indicator_id, level=claim.level),
            summary=wording.add_sid_evidence(label, facts.title, claim.level),
        )
    if claim is None:
        summary = wording.fill_sid_indicator(label, facts.title, level)
    else:
        summary = wording.raise_sid_level(label, facts.title, claim.level, level, has_evidence=claim.has_evidence)
    return Option(
        action="raise_sid_level",
        target=target,
        change=SetSidClaim(external_id=facts.external_id, indicator_id=indicator_id, level=level),
        summary=summary,
    )


def _eligibility_options(facts: InnovationFacts, gaps: list[EligibilityGap]) -> Iterator[Option]:
    fixes = [gap.fix for gap in gaps if gap.fix is not None]
    if len(fixes) == len(gaps):  # proposed only when completing the report closes every gap
        yield Option(
            action="make_eligible",
            target=facts.external_id,
            change=MakeEligible(external_id=facts.external_id),
            summary=wording.make_eligible(facts.title, fixes),
        )


def spd_option(indicator_id: str, current: int, level: int, rubric: Rubric) -> Option:
    label = wording.indicator_label(indicator_id, rubric.spd[indicator_id].name)
    return Option(
        action="raise_spd_level",
        target=indicator_id,
        change=SetSpdLevel(indicator_id=indicator_id, level=level),
        summary=wording.fill_spd_indicator(label, level)
        if current == 0
        else wording.raise_spd_level(label, current, level),
    )


def cover_affair_option(affair: str, maturity: int) -> Option:
    return Option(
        action="cover_affair",
        target=affair,
        change=AddInnovations(count=1, maturity=maturity, affairs=frozenset({affair})),
        summary=wording.cover_affair(affair, maturity),
    )


def add_innovations_option(count: int, maturity: int) -> Option:
    return Option(
        action="add_innovations",
        target=str(count),
        change=AddInnovations(count=count, maturity=maturity),
        summary=wording.add_innovations(count, maturity),
    )


def extended(previous: Option, option: Option) -> Option | None:
    """Adding one more innovation right after adding some of the same maturity grows that step instead."""
    before, now = previous.change, option.change
    if (
        previous.action == option.action == "add_innovations"
        and isinstance(before, AddInnovations)
        and isinstance(now, AddInnovations)
        and before.maturity == now.maturity
    ):
        return add_innovations_option(before.count + now.count, now.maturity)
    return None
