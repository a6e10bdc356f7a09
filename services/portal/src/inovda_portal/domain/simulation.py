"""The what-if: the region's index if some things were different, computed by scoring's own domain code
(`inovda_scoring.domain.what_if`) on the portal's copy of the region, so that it equals what scoring computes.

The state is the region's SPD levels and its totals rebuilt from the contribution of every innovation the
portal knows (scored by scoring's rules), with the innovations the changes name; a what-if with no change is
the region's index itself.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from inovda_scoring.domain import (
    AddInnovations,
    IndexFigures,
    InnovationScore,
    MakeEligible,
    RegionState,
    Rubric,
    SetSidClaim,
    SetSpdLevel,
    WhatIfChange,
    full_totals,
    what_if,
)

from .forms import FormData, field_text, field_values
from .model import RegionYear

CLAIM_ROWS = 3  # innovation rows offered on the what-if form


@dataclass(frozen=True)
class Simulation:
    before: IndexFigures
    after: IndexFigures
    changes: tuple[WhatIfChange, ...]

    @property
    def gain(self) -> float:
        return round(self.after.iid - self.before.iid, 2)


@dataclass(frozen=True)
class WhatIfForm:
    """The what-if as the form carries it: changes that parse, and what could not be read (in Indonesian)."""

    changes: tuple[WhatIfChange, ...] = ()
    innovation_keys: tuple[str, ...] = ()  # the innovations the changes name, to load their scores
    problems: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)


def region_state(region: RegionYear, innovations: Sequence[InnovationScore] = ()) -> RegionState:
    contributions = [summary.contribution for summary in region.innovations.values() if summary.contribution]
    return RegionState(
        spd_levels=dict(region.spd_levels), totals=full_totals(contributions), innovations=tuple(innovations)
    )


def simulate(
    region: RegionYear, changes: Sequence[WhatIfChange], scores: Sequence[InnovationScore], rubric: Rubric
) -> Simulation:
    state = region_state(region, scores)
    return Simulation(state.figures(rubric), what_if(state, changes, rubric), tuple(changes))


def read_what_if(data: FormData, region: RegionYear, rubric: Rubric, allowed_keys: set[str]) -> WhatIfForm:
    """SPD levels (`spd-<id>`), new innovations (`add-count`, `add-maturity`, `add-urusan`), and up to
    CLAIM_ROWS changes to innovations the account may see (`claim-<n>-innovation`, `-indicator`, `-level`,
    or `-eligible`)."""
    changes: list[WhatIfChange] = []
    keys: list[str] = []
    problems: list[str] = []
    values: dict[str, str] = {}
    for indicator_id in rubric.spd:
        text = values[f"spd-{indicator_id}"] = field_text(data, f"spd-{indicator_id}")
        current = region.spd_levels.get(indicator_id, 0)
        if text and text.isdigit() and int(text) != current:
            if int(text) == 0:
                problems.append(f"Indikator SPD {indicator_id} tidak dapat diturunkan ke 0 dalam simulasi.")
                continue
            changes.append(SetSpdLevel(indicator_id=indicator_id, level=int(text)))
    count, maturity = field_text(data, "add-count"), field_text(data, "add-maturity")
    values.update({"add-count": count, "add-maturity": maturity})
    if count and count != "0":
        try:
            changes.append(
                AddInnovations(
                    count=int(count), maturity=int(maturity or 0), affairs=frozenset(field_values(data, "add-urusan"))
                )
            )
        except (ValueError, ValidationError):
            problems.append("Jumlah dan kematangan inovasi tambahan harus bilangan bulat positif.")
    for row in range(CLAIM_ROWS):
        prefix = f"claim-{row}"
        key = values[f"{prefix}-innovation"] = field_text(data, f"{prefix}-innovation")
        indicator = values[f"{prefix}-indicator"] = field_text(data, f"{prefix}-indicator")
        level = values[f"{prefix}-level"] = field_text(data, f"{prefix}-level")
        if not key:
            continue
        summary = region.innovations.get(key)
        if summary is None or key not in allowed_keys:
            problems.append("Inovasi yang dipilih tidak ditemukan.")
            continue
        if key not in keys:
            keys.append(key)
        if indicator == "eligible":
            changes.append(MakeEligible(external_id=summary.external_id))
        elif indicator in rubric.sid and level.isdigit() and 1 <= int(level) <= 3:
            changes.append(SetSidClaim(external_id=summary.external_id, indicator_id=indicator, level=int(level)))
        else:
            problems.append(f"Pilih indikator SID dan level 1 sampai 3 untuk inovasi '{summary.title}'.")
    return WhatIfForm(tuple(changes), tuple(keys), tuple(problems), values)


def unique_scores(scores: Mapping[str, InnovationScore]) -> list[InnovationScore]:
    """One score per external id: the what-if names innovations by it (two sources may share one)."""
    seen: dict[str, InnovationScore] = {}
    for score in scores.values():
        seen.setdefault(score.facts.external_id, score)
    return list(seen.values())
