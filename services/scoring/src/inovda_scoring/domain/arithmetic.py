"""The path's fast arithmetic: the index formula in integers, and the error when it disagrees with `compute_index`."""

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from .index import round_half_up
from .rubric import Rubric


class ArithmeticMismatchError(RuntimeError):
    """The path's integer arithmetic disagrees with `compute_index`: a rubric or formula it does not follow."""


class IndexArithmetic:
    """`compute_index`'s total and IID in plain integers, for the hundreds of outcomes a path weighs.

    compute_index adds Decimals and Fractions, which is slow when repeated. Here every Decimal of the
    rubric is scaled to an integer by one common factor, so a total is a ratio of two integers: its float is
    the float compute_index gives (both are the correctly rounded value of the same rational number), and the
    IID goes through the same `round_half_up`. The path checks that both agree where it starts
    (`ArithmeticMismatchError` when they do not).
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
