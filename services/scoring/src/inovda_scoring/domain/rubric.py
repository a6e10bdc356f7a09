"""The IID rubric of one assessment year: weights, levels, eligibility and predicate bands.

Every number lives in `rubrics/<year>.toml`; this module only loads and checks those files, so a new
assessment year is a new file. A file that breaks a rule fails at load with a message naming the file.
"""

import datetime as dt
import functools
import itertools
import tomllib
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from inovda_shared.contracts.events import Predicate
from inovda_shared.contracts.vocabulary import (
    BASIC_SERVICE_AFFAIRS,
    BENEFIT_INDICATOR_ID,
    SID_INDICATOR_IDS,
    SPD_INDICATOR_IDS,
    BenefitBasis,
    Stage,
)

MAX_LEVEL = 3
IID_STEP = Decimal("0.01")
IID_CEILING = Decimal(100)
_PREDICATES: tuple[Predicate, ...] = get_args(Predicate)
_BENEFIT_BASES: tuple[BenefitBasis, ...] = get_args(BenefitBasis)


class RubricError(ValueError):
    """A rubric file that cannot be read or breaks a rule of the rubric."""


class UnknownRubricYear(LookupError):  # noqa: N818  # the name handlers catch; reads as a condition
    """No rubric file exists for the requested assessment year."""


def _whole_number_as_decimal(value: object) -> object:
    # TOML writes a whole weight as an integer (`1`) and a fraction as a float read as Decimal (`0.75`).
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


Number = Annotated[Decimal, BeforeValidator(_whole_number_as_decimal), Field(ge=0, allow_inf_nan=False)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
# One description per level 1, 2, 3; a TOML array arrives as a list, hence the lax container.
LevelTexts = Annotated[tuple[Text, Text, Text], Field(strict=False)]


class _RubricModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SpdIndicator(_RubricModel):
    name: Text
    description: Text
    weight: Number
    mandatory: bool
    levels: LevelTexts


class BenefitBasisLevels(_RubricModel):
    name: Text
    levels: LevelTexts


class SidIndicator(_RubricModel):
    name: Text
    evidence: Text
    weight: Annotated[int, Field(gt=0)]  # integer weights keep an innovation's maturity an integer
    mandatory: bool
    levels: LevelTexts
    bases: dict[BenefitBasis, BenefitBasisLevels] = {}


class CountScore(_RubricModel):
    per_innovation: Number
    cap: Annotated[int, Field(ge=0)]


class BasicServices(_RubricModel):
    min_affairs_covered: Annotated[int, Field(ge=0, le=len(BASIC_SERVICE_AFFAIRS))]


class Eligibility(_RubricModel):
    stage: Stage
    applied_from: dt.date
    applied_to: dt.date
    min_design_words: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _window_is_ordered(self) -> "Eligibility":
        if self.applied_from > self.applied_to:
            raise ValueError(f"applied_from {self.applied_from} is after applied_to {self.applied_to}")
        return self


class Band(_RubricModel):
    min: Number
    max: Number


class Assumption(_RubricModel):
    """A value the year's sources do not publish: `path` names it, `source` says where it was taken from."""

    path: Text
    source: Text
    note: Text


class Rubric(_RubricModel):
    year: Annotated[int, Field(ge=2000, le=2100)]
    max_total: Number
    min_divisor: Annotated[int, Field(gt=0)]
    count_score: CountScore
    basic_services: BasicServices
    eligibility: Eligibility
    bands: dict[Predicate, Band]
    spd: dict[str, SpdIndicator]
    sid: dict[str, SidIndicator]
    assumptions: list[Assumption] = []

    @model_validator(mode="after")
    def _check_consistency(self) -> "Rubric":
        _check_indicator_ids("spd", list(self.spd), SPD_INDICATOR_IDS)
        _check_indicator_ids("sid", list(self.sid), SID_INDICATOR_IDS)
        _check_benefit_bases(self.sid)
        _check_bands(self.bands)
        reachable = MAX_LEVEL * (self.max_spd_weight + self.max_sid_weight) + self.max_count_score
        if reachable != self.max_total:
            raise ValueError(f"max_total is {self.max_total} but the indicators and count score add up to {reachable}")
        for assumption in self.assumptions:
            _resolve(self, assumption.path)
        return self

    @property
    def max_spd_weight(self) -> Decimal:
        """The SPD weights added up (21): the SPD maximum is this times MAX_LEVEL."""
        return sum((indicator.weight for indicator in self.spd.values()), Decimal(0))

    @property
    def max_sid_weight(self) -> int:
        """The SID weights added up (37): an innovation's maximum maturity is this times MAX_LEVEL."""
        return sum(indicator.weight for indicator in self.sid.values())

    @property
    def max_count_score(self) -> Decimal:
        return self.count_score.cap * self.count_score.per_innovation

    @property
    def mandatory_sid_ids(self) -> list[str]:
        return [indicator_id for indicator_id, indicator in self.sid.items() if indicator.mandatory]

    @property
    def assumed(self) -> list[str]:
        """Every unpublished value of this year, e.g. '2025 bands.Inovatif.min: assumed 40.01 from 2026 (...)'."""
        return [
            f"{self.year} {item.path}: assumed {_resolve(self, item.path)} from {item.source} ({item.note})"
            for item in self.assumptions
        ]

    def ordered_bands(self) -> list[tuple[Predicate, Band]]:
        """The bands from the lowest (0, 'Tidak Dapat Dinilai') to the highest."""
        return sorted(self.bands.items(), key=lambda item: item[1].min)

    def predicate_for(self, iid: Decimal) -> Predicate:
        """The predicate of an IID already rounded to two decimals."""
        for predicate, band in self.bands.items():
            if band.min <= iid <= band.max:
                return predicate
        raise ValueError(f"IID {iid} lies in no band of the {self.year} rubric (expected 0.00..100.00)")

    def band_above(self, predicate: Predicate) -> tuple[Predicate, Band] | None:
        ordered = self.ordered_bands()
        position = [name for name, _ in ordered].index(predicate)
        return ordered[position + 1] if position + 1 < len(ordered) else None


def _check_indicator_ids(aspect: str, ids: list[str], contract_ids: tuple[str, ...]) -> None:
    unknown = [indicator_id for indicator_id in ids if indicator_id not in contract_ids]
    if unknown:
        raise ValueError(f"{aspect} ids {unknown} are not in the intake contract (expected some of {contract_ids})")
    if ids != sorted(ids, key=contract_ids.index):
        raise ValueError(f"{aspect} indicators must be listed in the contract's order {contract_ids}")


def _check_benefit_bases(sid: dict[str, SidIndicator]) -> None:
    for indicator_id, indicator in sid.items():
        expected = _BENEFIT_BASES if indicator_id == BENEFIT_INDICATOR_ID else ()
        if tuple(indicator.bases) != expected:
            raise ValueError(
                f"sid {indicator_id} must list the benefit bases {expected}, found {tuple(indicator.bases)}"
            )


def _check_bands(bands: dict[Predicate, Band]) -> None:
    """The bands must tile 0.00..100.00 in steps of 0.01, without gap or overlap."""
    missing = [predicate for predicate in _PREDICATES if predicate not in bands]
    if missing:
        raise ValueError(f"bands {missing} are missing")
    ordered = sorted(bands.items(), key=lambda item: item[1].min)
    for predicate, band in ordered:
        if band.min > band.max:
            raise ValueError(f"band {predicate!r} has min {band.min} above max {band.max}")
        if band.min != band.min.quantize(IID_STEP) or band.max != band.max.quantize(IID_STEP):
            raise ValueError(f"band {predicate!r} bounds must have at most two decimals")
    if ordered[0][1].min != 0 or ordered[-1][1].max != IID_CEILING:
        raise ValueError("bands must start at 0 and end at 100")
    for (lower_name, lower), (upper_name, upper) in itertools.pairwise(ordered):
        if upper.min != lower.max + IID_STEP:
            raise ValueError(f"band {upper_name!r} must start 0.01 above the end of {lower_name!r} ({lower.max})")


def _resolve(rubric: Rubric, path: str) -> Any:
    """The value a dotted path such as 'bands.Inovatif.min' names; fails when it names nothing or a whole table."""
    value: Any = rubric
    for part in path.split("."):
        if isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise ValueError(f"assumption path {path!r} names no value of the rubric")
    if isinstance(value, (BaseModel, dict, list, tuple)):
        raise ValueError(f"assumption path {path!r} names a table, not a single value")
    return value


def parse_rubric(text: str, *, source: str) -> Rubric:
    """Parse and validate one rubric file; `source` names it in error messages."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)  # Decimal keeps 0.38 and 40.01 exact
        return Rubric.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise RubricError(f"rubric {source} is invalid: {error}") from error


def _rubric_files() -> dict[int, Traversable]:
    folder = resources.files("inovda_scoring") / "rubrics"
    return {int(entry.name[:-5]): entry for entry in folder.iterdir() if _is_year_file(entry.name)}


def _is_year_file(name: str) -> bool:
    return len(name) == len("2026.toml") and name.endswith(".toml") and name[:4].isdigit()


def available_years() -> list[int]:
    return sorted(_rubric_files())


@functools.cache
def load_rubric(year: int) -> Rubric:
    """The rubric of an assessment year, read once per process."""
    files = _rubric_files()
    if year not in files:
        available = ", ".join(str(known) for known in sorted(files)) or "none"
        raise UnknownRubricYear(f"no IID rubric for assessment year {year} (available: {available})")
    source = files[year].name
    rubric = parse_rubric(files[year].read_text(encoding="utf-8"), source=source)
    if rubric.year != year:
        raise RubricError(f"rubric {source} is invalid: it declares year {rubric.year}")
    return rubric
