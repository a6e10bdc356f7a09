"""The path's integer arithmetic gives what `compute_index` gives, and the check that it does is a real one."""

from decimal import Decimal
from fractions import Fraction

import pytest

from inovda_scoring.domain import ArithmeticMismatchError
from inovda_scoring.domain.arithmetic import IndexArithmetic
from inovda_scoring.domain.rubric import IID_STEP, available_years, load_rubric
from inovda_scoring.domain.whatif import RegionState
from inovda_scoring.domain.working_region import Standing, WorkingRegion
from tests.unit.scoring.builders import KUKAR_SPD, kukar_like_scores, state_of

RUBRIC = load_rubric(2026)


class IidOneStepHigh(IndexArithmetic):
    """The real arithmetic with the IID 0.01 too high: what a formula the arithmetic does not follow gives."""

    def iid(self, total: Fraction) -> Decimal:
        return super().iid(total) + IID_STEP


@pytest.fixture(scope="module")
def kukar() -> RegionState:
    return state_of(kukar_like_scores(RUBRIC), KUKAR_SPD)


@pytest.mark.parametrize("year", available_years())
def test_the_arithmetic_agrees_with_compute_index_for_every_rubric(year: int) -> None:
    rubric = load_rubric(year)
    state = state_of(kukar_like_scores(rubric), KUKAR_SPD)
    figures = state.figures(rubric)
    assert WorkingRegion(state, rubric).checked_standing(figures) == Standing.of(figures)


def test_an_arithmetic_that_disagrees_is_refused_with_both_figures(kukar: RegionState) -> None:
    figures = kukar.figures(RUBRIC)
    region = WorkingRegion(kukar, RUBRIC, IidOneStepHigh(RUBRIC))

    with pytest.raises(ArithmeticMismatchError) as refused:
        region.checked_standing(figures)

    message = str(refused.value)
    assert f"iid={figures.iid}" in message
    assert f"iid={float(Decimal(str(figures.iid)) + IID_STEP)}" in message
    assert isinstance(refused.value, RuntimeError)
