"""A region's IID for one assessment year, from totals that change by increments.

The region aggregate holds only sums and counts (`RegionTotals`), so replacing one innovation's
contribution is a flat-cost `$inc` of a `TotalsDelta`; `full_totals` rebuilds the same aggregate from
every contribution, as a check and a repair tool.
"""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inovda_shared.contracts.events import Predicate
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS

from .rubric import IID_STEP, MAX_LEVEL, Rubric

# Far more digits than an IID needs: a value that is exactly a rounding tie stays exact.
_DIVISION_PRECISION = 50


def _without_zero_counts(counts: dict[str, int]) -> dict[str, int]:
    # An affair whose count returns to zero must compare equal to one that was never counted.
    return {affair: count for affair, count in counts.items() if count}


def _check_basic_service_affairs(affairs: Iterable[str]) -> None:
    unknown = sorted(set(affairs) - set(BASIC_SERVICE_AFFAIRS))
    if unknown:
        raise ValueError(f"{unknown} are not basic-service affairs (expected some of {BASIC_SERVICE_AFFAIRS})")


class TotalsDelta(BaseModel):
    """Increments for `RegionTotals`: what one event changes in its region's aggregate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sum_maturity: int = 0
    n: int = 0
    affair_counts: dict[str, int] = {}

    @field_validator("affair_counts")
    @classmethod
    def _drop_zero_counts(cls, counts: dict[str, int]) -> dict[str, int]:
        return _without_zero_counts(counts)

    @property
    def is_empty(self) -> bool:
        return not (self.sum_maturity or self.n or self.affair_counts)

    def minus(self, other: "TotalsDelta") -> "TotalsDelta":
        affairs = self.affair_counts.keys() | other.affair_counts.keys()
        return TotalsDelta(
            sum_maturity=self.sum_maturity - other.sum_maturity,
            n=self.n - other.n,
            affair_counts={a: self.affair_counts.get(a, 0) - other.affair_counts.get(a, 0) for a in affairs},
        )


class RegionTotals(BaseModel):
    """One region-year aggregate: sum of eligible maturities, eligible count, eligible count per basic affair."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sum_maturity: int = 0
    n: int = 0
    affair_counts: dict[str, int] = {}

    @field_validator("affair_counts")
    @classmethod
    def _basic_service_counts(cls, counts: dict[str, int]) -> dict[str, int]:
        _check_basic_service_affairs(counts)
        return _without_zero_counts(counts)

    @model_validator(mode="after")
    def _never_negative(self) -> "RegionTotals":
        negative = {name: value for name, value in self._all_counts().items() if value < 0}
        if negative:
            raise ValueError(
                f"region totals cannot be negative ({negative}): the aggregate is out of step with its "
                "innovations; rebuild it with full_totals"
            )
        return self

    def _all_counts(self) -> dict[str, int]:
        return {"sum_maturity": self.sum_maturity, "n": self.n, **self.affair_counts}

    def apply(self, delta: TotalsDelta) -> "RegionTotals":
        affairs = self.affair_counts.keys() | delta.affair_counts.keys()
        return RegionTotals(
            sum_maturity=self.sum_maturity + delta.sum_maturity,
            n=self.n + delta.n,
            affair_counts={a: self.affair_counts.get(a, 0) + delta.affair_counts.get(a, 0) for a in affairs},
        )


class Contribution(BaseModel):
    """What one innovation brings to its region's aggregate; an ineligible one brings nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    eligible: bool
    maturity: Annotated[int, Field(ge=0)]
    yandas_affairs: frozenset[str]

    @field_validator("yandas_affairs")
    @classmethod
    def _only_basic_service_affairs(cls, affairs: frozenset[str]) -> frozenset[str]:
        _check_basic_service_affairs(affairs)
        return affairs

    def counted(self) -> TotalsDelta:
        if not self.eligible:
            return TotalsDelta()
        return TotalsDelta(sum_maturity=self.maturity, n=1, affair_counts=dict.fromkeys(self.yandas_affairs, 1))

    def delta(self, previous: "Contribution | None") -> TotalsDelta:
        """The increments that replace `previous` (None for a new innovation) by this contribution."""
        before = previous.counted() if previous is not None else TotalsDelta()
        return self.counted().minus(before)

    def removal(self) -> TotalsDelta:
        """The increments that take this contribution out of its region."""
        return TotalsDelta().minus(self.counted())


def full_totals(contributions: Iterable[Contribution]) -> RegionTotals:
    """The aggregate recomputed from the latest contribution of every innovation of a region-year."""
    totals = RegionTotals()
    for contribution in contributions:
        totals = totals.apply(contribution.counted())
    return totals


class IndexFigures(BaseModel):
    """A region's index, with the names `RegionIndexUpdated` uses."""

    model_config = ConfigDict(frozen=True)

    spd: float
    n: int
    divisor: int
    sum_maturity: int
    average_maturity: float  # the SID average term: sum_maturity / divisor
    count_score: float
    sid: float
    total: float
    iid: float
    predicate: Predicate
    next_predicate: Predicate | None
    next_predicate_iid: float | None  # the IID at which next_predicate starts
    yandas_covered: list[str]
    yandas_missing: list[str]


def compute_index(totals: RegionTotals, spd_levels: Mapping[str, int], rubric: Rubric) -> IndexFigures:
    """IID = (SPD + SID) / max_total x 100, with SID = sum / max(D, n) + count score, rounded half up."""
    spd = _spd_score(spd_levels, rubric)
    divisor = max(rubric.min_divisor, totals.n)
    average_maturity = Fraction(totals.sum_maturity, divisor)
    covered = [affair for affair in BASIC_SERVICE_AFFAIRS if affair in totals.affair_counts]
    count_score = _count_score(totals.n, len(covered), rubric)
    sid = average_maturity + Fraction(count_score)
    total = Fraction(spd) + sid
    iid = round_half_up(total * 100 / Fraction(rubric.max_total))
    predicate = rubric.predicate_for(iid)
    above = rubric.band_above(predicate)
    return IndexFigures(
        spd=float(spd),
        n=totals.n,
        divisor=divisor,
        sum_maturity=totals.sum_maturity,
        average_maturity=float(average_maturity),
        count_score=float(count_score),
        sid=float(sid),
        total=float(total),
        iid=float(iid),
        predicate=predicate,
        next_predicate=above[0] if above else None,
        next_predicate_iid=float(above[1].min) if above else None,
        yandas_covered=covered,
        yandas_missing=[affair for affair in BASIC_SERVICE_AFFAIRS if affair not in covered],
    )


def round_half_up(value: Fraction) -> Decimal:
    """Round to two decimals, ties away from zero (40.005 -> 40.01), as the Ministry publishes the IID."""
    with localcontext() as context:
        context.prec = _DIVISION_PRECISION
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(IID_STEP, rounding=ROUND_HALF_UP)


def _spd_score(spd_levels: Mapping[str, int], rubric: Rubric) -> Decimal:
    score = Decimal(0)
    for indicator_id, indicator in rubric.spd.items():
        level = spd_levels.get(indicator_id, 0)  # an indicator the profile leaves out scores 0
        if not 0 <= level <= MAX_LEVEL:
            raise ValueError(f"SPD indicator {indicator_id} has level {level}; expected 1..{MAX_LEVEL}")
        score += indicator.weight * level
    return score


def _count_score(n: int, affairs_covered: int, rubric: Rubric) -> Decimal:
    if affairs_covered < rubric.basic_services.min_affairs_covered:
        return Decimal(0)
    return min(n, rubric.count_score.cap) * rubric.count_score.per_innovation
