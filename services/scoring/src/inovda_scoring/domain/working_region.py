"""The region as a path changes it step by step, in the plain numbers of `IndexArithmetic`."""

from collections.abc import Iterable
from dataclasses import dataclass

from inovda_shared.contracts.events import Predicate
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS

from .arithmetic import ArithmeticMismatchError, IndexArithmetic
from .index import IndexFigures, RegionTotals, TotalsDelta
from .rubric import Rubric
from .whatif import AddInnovations, MakeEligible, RegionState, SetSidClaim, SetSpdLevel, WhatIfChange, rescored


@dataclass(frozen=True)
class Standing:
    """The figures of `IndexFigures` that a path reads."""

    total: float
    iid: float
    predicate: Predicate
    yandas_missing: list[str]

    @classmethod
    def of(cls, figures: IndexFigures) -> "Standing":
        return cls(figures.total, figures.iid, figures.predicate, figures.yandas_missing)


class WorkingRegion:
    """The region as a path changes it step by step: a mutable copy of the state in plain numbers.

    Copying and validating a `RegionState` for every option weighed is what made a path slow; here an option
    is weighed with a few integer operations (`total_after`) and only the option taken changes the copy.
    """

    def __init__(self, state: RegionState, rubric: Rubric, arithmetic: IndexArithmetic | None = None) -> None:
        self._rubric = rubric
        self._arithmetic = arithmetic or IndexArithmetic(rubric)
        self.spd_levels = dict(state.spd_levels)
        self._spd_units = self._arithmetic.spd_units(self.spd_levels)
        self.sum_maturity = state.totals.sum_maturity
        self.n = state.totals.n
        self._affair_counts = dict(state.totals.affair_counts)  # never a zero count, as in RegionTotals
        self._affairs_covered = sum(1 for affair in BASIC_SERVICE_AFFAIRS if affair in self._affair_counts)
        self.innovations = list(state.innovations)
        self._position = {innovation.facts.external_id: index for index, innovation in enumerate(self.innovations)}

    def standing(self) -> Standing:
        total = self._arithmetic.total(self._spd_units, self.sum_maturity, self.n, self._affairs_covered)
        iid = self._arithmetic.iid(total)
        return Standing(
            total=float(total),
            iid=float(iid),
            predicate=self._rubric.predicate_for(iid),
            yandas_missing=[affair for affair in BASIC_SERVICE_AFFAIRS if affair not in self._affair_counts],
        )

    def checked_standing(self, figures: IndexFigures) -> Standing:
        """The standing, once checked against `figures`, what `compute_index` gives for the same state."""
        standing, expected = self.standing(), Standing.of(figures)
        if standing != expected:
            raise ArithmeticMismatchError(
                f"the path's arithmetic gives {standing} where compute_index gives {expected} "
                f"(the {self._rubric.year} rubric): a rubric or formula the arithmetic does not follow"
            )
        return standing

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
                new = self.innovations[index] = rescored(old, change, self._rubric)
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
